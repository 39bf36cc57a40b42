import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import {
  AbortError,
  BadRequestError,
  ConflictError,
  ExponentialBackoff,
  FailedDependencyError,
  ForbiddenError,
  HttpError,
  NetworkError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  RequestTimeoutError,
  ServiceUnavailableError,
  TimeoutError,
  TooManyRequestsError,
  UnauthorizedError,
  ValidationError,
  type LogFields,
  type Logger,
} from '../../src/core/index.js';
import { HttpClient } from '../../src/core/http.js';

const BASE = 'http://registry.test:8080/v1';

function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, fields?: LogFields) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

function client(extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}): HttpClient {
  return new HttpClient({
    baseUrl: BASE,
    service: 'test',
    retry: new ExponentialBackoff({ initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 }),
    ...extra,
  });
}

describe('HttpClient', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('sends JSON, returns parsed JSON, lower-case headers and the ETag', async () => {
    const scope = nock(BASE, { reqheaders: { 'content-type': 'application/json', accept: 'application/json' } })
      .post('/tenants/t1', { enabled: true })
      .reply(201, { id: 't1' }, { ETag: '"v1"', 'Content-Type': 'application/json' });
    const response = await client().request<{ id: string }>({ method: 'POST', path: '/tenants/t1', body: { enabled: true } });
    assert.equal(response.status, 201);
    assert.deepEqual(response.data, { id: 't1' });
    assert.equal(response.etag, '"v1"');
    assert.equal(response.headers['content-type'], 'application/json');
    scope.done();
  });

  it('encodes query values with percent-encoding, repeats array values and omits undefined', async () => {
    const scope = nock(BASE)
      .get('/devices/t1')
      .query((q) => q.filterJson === '{"field":"/ext/a b","value":"x&y"}' && q.x === undefined && Array.isArray(q.ids))
      .reply(200, { total: 0, result: [] });
    await client().request({
      method: 'GET',
      path: '/devices/t1',
      query: { filterJson: '{"field":"/ext/a b","value":"x&y"}', x: undefined, ids: ['a', 'b'] },
    });
    scope.done();
  });

  const statusCases: [number, new (...args: never[]) => HttpError][] = [
    [400, BadRequestError],
    [401, UnauthorizedError],
    [403, ForbiddenError],
    [404, NotFoundError],
    [408, RequestTimeoutError],
    [409, ConflictError],
    [412, PreconditionFailedError],
    [413, PayloadTooLargeError],
    [424, FailedDependencyError],
    [500, HttpError],
  ];
  for (const [status, ErrorClass] of statusCases) {
    it(`maps ${status} to ${ErrorClass.name} with the upstream code and message`, async () => {
      nock(BASE).post('/x').reply(status, { status, error: 'things:thing.notfound', message: 'The Thing was not found.' });
      const error = await client()
        .request({ method: 'POST', path: '/x', body: {} })
        .catch((e: unknown) => e);
      assert.ok(error instanceof ErrorClass, `expected ${ErrorClass.name}, got ${String(error)}`);
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, status);
      assert.equal(error.upstreamCode, 'things:thing.notfound');
      assert.equal(error.upstreamMessage, 'The Thing was not found.');
      assert.equal(error.method, 'POST');
      assert.equal(error.url, `${BASE}/x`);
    });
  }

  it('keeps Hono error text as the upstream code', async () => {
    nock(BASE).get('/tenants/nope').reply(404, { error: 'no such tenant' });
    const error = await client()
      .request({ method: 'GET', path: '/tenants/nope' })
      .catch((e: unknown) => e);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.upstreamCode, 'no such tenant');
    assert.match(error.message, /GET http:\/\/registry\.test:8080\/v1\/tenants\/nope answered 404 \(no such tenant\)/);
  });

  it('adds a hint from the hint provider', async () => {
    nock(BASE).get('/d').reply(404, {});
    const error = await client({ hints: (status) => (status === 404 ? 'maybe 403' : undefined) })
      .request({ method: 'GET', path: '/d' })
      .catch((e: unknown) => e);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.hint, 'maybe 403');
  });

  it('retries idempotent requests on 503 and 429, then succeeds', async () => {
    const scope = nock(BASE).get('/r').reply(503, {}).get('/r').reply(429, {}).get('/r').reply(200, { ok: true });
    const response = await client().request({ method: 'GET', path: '/r' });
    assert.deepEqual(response.data, { ok: true });
    scope.done();
  });

  it('gives up after the policy says so and throws the last error', async () => {
    const scope = nock(BASE).put('/r').times(3).reply(503, { error: 'busy' });
    await assert.rejects(client().request({ method: 'PUT', path: '/r', body: {} }), ServiceUnavailableError);
    scope.done();
  });

  it('does not retry POST or PATCH', async () => {
    nock(BASE).post('/r').reply(503, {});
    await assert.rejects(client().request({ method: 'POST', path: '/r', body: {} }), ServiceUnavailableError);
    nock(BASE).patch('/r').reply(429, {});
    await assert.rejects(client().request({ method: 'PATCH', path: '/r', body: {} }), TooManyRequestsError);
    assert.equal(nock.pendingMocks().length, 0);
  });

  it('retries a POST the caller marked idempotent', async () => {
    const scope = nock(BASE).post('/r').reply(503, {}).post('/r').reply(201, {});
    await client().request({ method: 'POST', path: '/r', body: {}, idempotent: true });
    scope.done();
  });

  it('does not retry 500 or 4xx other than 429', async () => {
    nock(BASE).get('/r').reply(500, {});
    await assert.rejects(client().request({ method: 'GET', path: '/r' }), HttpError);
    nock(BASE).get('/r').reply(400, {});
    await assert.rejects(client().request({ method: 'GET', path: '/r' }), BadRequestError);
  });

  it('retries network errors for idempotent requests', async () => {
    const scope = nock(BASE)
      .get('/r')
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .get('/r')
      .reply(200, {});
    await client().request({ method: 'GET', path: '/r' });
    scope.done();
  });

  it('does not retry a conditional PUT whose response was lost (a repeat would answer 412)', async () => {
    let repeats = 0;
    nock(BASE)
      .put('/devices/t1/d1')
      // The server applied the write, then the connection dropped before the response arrived.
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .put('/devices/t1/d1')
      .reply(() => {
        repeats += 1;
        return [412, { error: 'resource version mismatch' }];
      });
    const error = await client()
      .request({ method: 'PUT', path: '/devices/t1/d1', body: {}, headers: { 'If-Match': '"v1"' } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof NetworkError, `expected NetworkError, got ${String(error)}`);
    assert.equal(repeats, 0, 'the conditional PUT must not be repeated');
    assert.equal(nock.pendingMocks().length, 1);
  });

  it('does not retry conditional PUT / PATCH / DELETE / POST on 503 or 429, even when marked idempotent', async () => {
    const cases: ['PUT' | 'PATCH' | 'DELETE' | 'POST', Record<string, string>, boolean | undefined][] = [
      ['PUT', { 'if-match': '"v1"' }, undefined],
      ['PUT', { 'If-None-Match': '*' }, undefined],
      ['DELETE', { 'IF-MATCH': '"rev:3"' }, undefined],
      ['PATCH', { 'if-match': '"rev:3"' }, true],
      ['POST', { 'if-none-match': '*' }, true],
    ];
    for (const [method, headers, idempotent] of cases) {
      let attempts = 0;
      nock(BASE)
        .intercept('/r', method)
        .times(3)
        .reply(() => {
          attempts += 1;
          return [503, {}];
        });
      await assert.rejects(
        client().request({
          method,
          path: '/r',
          body: method === 'DELETE' ? undefined : {},
          headers,
          ...(idempotent === undefined ? {} : { idempotent }),
        }),
        ServiceUnavailableError,
      );
      assert.equal(attempts, 1, `${method} ${JSON.stringify(headers)} was sent ${attempts} times`);
      nock.cleanAll();
    }
  });

  it('a conditional header in the client defaults also stops retries of writes', async () => {
    let attempts = 0;
    nock(BASE)
      .put('/r')
      .times(3)
      .reply(() => {
        attempts += 1;
        return [429, {}];
      });
    await assert.rejects(client({ headers: { 'If-Match': '*' } }).request({ method: 'PUT', path: '/r', body: {} }), TooManyRequestsError);
    assert.equal(attempts, 1);
  });

  it('still retries an unconditional PUT and a conditional GET', async () => {
    const put = nock(BASE)
      .put('/r')
      .reply(503, {})
      .put('/r')
      .replyWithError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))
      .put('/r')
      .reply(204);
    await client().request({ method: 'PUT', path: '/r', body: {} });
    put.done();
    const get = nock(BASE).get('/r').reply(503, {}).get('/r').reply(200, { ok: true });
    const response = await client().request({ method: 'GET', path: '/r', headers: { 'if-none-match': '"v1"' } });
    assert.deepEqual(response.data, { ok: true });
    get.done();
  });

  it('reports network errors as NetworkError', async () => {
    nock(BASE)
      .post('/r')
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const error = await client()
      .request({ method: 'POST', path: '/r', body: {} })
      .catch((e: unknown) => e);
    assert.ok(error instanceof NetworkError);
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('honours Retry-After', () => {
    const policy = new ExponentialBackoff({ initialDelayMs: 1, maxDelayMs: 10_000, random: () => 0 });
    assert.equal(policy.nextDelayMs(1, { retryAfterMs: 2000 }), 2000);
    assert.equal(policy.nextDelayMs(1, new Error('x')), 0);
  });

  it('times out with TimeoutError', async () => {
    nock(BASE).get('/slow').delay(500).reply(200, {});
    const error = await client()
      .request({ method: 'GET', path: '/slow', timeoutMs: 50 })
      .catch((e: unknown) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.timeoutMs, 50);
  });

  it("a timeoutMs beyond Node's timer limit does not time the call out at once", async () => {
    nock(BASE).get('/slow').delay(50).reply(200, { ok: true });
    const response = await client().request({ method: 'GET', path: '/slow', timeoutMs: 3_000_000_000 });
    assert.deepEqual(response.data, { ok: true });
    nock(BASE).get('/slow').delay(50).reply(200, { ok: true });
    const forever = await client({ timeoutMs: Number.POSITIVE_INFINITY }).request({ method: 'GET', path: '/slow' });
    assert.deepEqual(forever.data, { ok: true });
  });

  it('aborts with AbortError when the caller signal fires', async () => {
    nock(BASE).get('/slow').delay(500).reply(200, {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const error = await client()
      .request({ method: 'GET', path: '/slow', signal: controller.signal })
      .catch((e: unknown) => e);
    assert.ok(error instanceof AbortError, String(error));
  });

  it('aborts during the wait before a retry', async () => {
    nock(BASE).get('/r').reply(503, {});
    const controller = new AbortController();
    const slowRetry = new ExponentialBackoff({ initialDelayMs: 5000, maxDelayMs: 5000, jitter: 'none' });
    setTimeout(() => controller.abort(), 30);
    const error = await client({ retry: slowRetry })
      .request({ method: 'GET', path: '/r', signal: controller.signal })
      .catch((e: unknown) => e);
    assert.ok(error instanceof AbortError, String(error));
  });

  it('never puts credentials in errors or log lines', async () => {
    const logger = capturingLogger();
    const secret = 'S3cr3t-Passw0rd!';
    const http = client({ logger, credentials: { type: 'basic', username: 'ditto', password: secret } });
    nock('http://user:pw-in-url@registry.test:8080/v1');
    nock(BASE)
      .get('/r')
      .query(true)
      .reply(503, { error: `bad password ${secret}` })
      .get('/r')
      .query(true)
      .reply(401, { error: 'unauthorized', message: `tried ${secret}` });
    const error = await http.request({ method: 'GET', path: '/r', query: { token: 'tok-123456' } }).catch((e: unknown) => e);
    assert.ok(error instanceof UnauthorizedError);
    const basic = Buffer.from(`ditto:${secret}`).toString('base64');
    const everything = [error.message, JSON.stringify(error), String(error.stack), ...logger.lines].join('\n');
    for (const leaked of [secret, basic, 'tok-123456']) assert.ok(!everything.includes(leaked), `leaked ${leaked}`);
    assert.ok(logger.lines.some((line) => line.includes('retrying request')));
  });

  it('sends basic and bearer credentials', async () => {
    const basic = nock(BASE, { reqheaders: { authorization: `Basic ${Buffer.from('a:b-secret').toString('base64')}` } })
      .get('/r')
      .reply(200, {});
    await client({ credentials: { type: 'basic', username: 'a', password: 'b-secret' } }).request({ method: 'GET', path: '/r' });
    basic.done();
    const bearer = nock(BASE, { reqheaders: { authorization: 'Bearer jwt-token' } })
      .get('/r')
      .reply(200, {});
    await client({ credentials: { type: 'bearer', token: 'jwt-token' } }).request({ method: 'GET', path: '/r' });
    bearer.done();
  });

  it('refuses header values a header cannot carry unchanged, naming the header and never the value', async () => {
    const sent: string[] = [];
    nock(BASE)
      .persist()
      .get('/h')
      .reply(function () {
        sent.push(String(this.req.headers['x-test']));
        return [200, {}];
      });
    const secret = 'tok-Zq81';
    // Without the check axios strips CR, LF and NUL (`a\r\nb` arrived as `ab`) and Node throws a TypeError above U+00FF.
    const cases: [string, RegExp][] = [
      [`${secret}\r\nX-Injected: 1`, /carriage return \(CR\) at index 8/],
      [`${secret}\n`, /line feed \(LF\) at index 8/],
      [`a\u0000b`, /NUL character at index 1/],
      ['a\u001fb', /U\+001F at index 1/],
      ['a\u007fb', /U\+007F at index 1/],
      ['温度', /U\+6E29 at index 0/],
      ['a\uD800', /U\+D800 at index 1/],
    ];
    for (const [value, message] of cases) {
      const error = await client()
        .request({ method: 'GET', path: '/h', headers: { 'x-test': value } })
        .catch((e: unknown) => e);
      assert.ok(error instanceof ValidationError, `${JSON.stringify(value)}: ${String(error)}`);
      assert.equal(error.field, 'headers.x-test');
      assert.match(error.message, message);
      assert.ok(!error.message.includes(secret) && !(error.hint ?? '').includes(secret), 'the value is not repeated');
    }
    // Default headers of the client and header names go through the same check.
    await assert.rejects(client({ headers: { 'x-test': 'a\nb' } }).request({ method: 'GET', path: '/h' }), (error: unknown) => {
      return error instanceof ValidationError && error.field === 'headers.x-test';
    });
    await assert.rejects(client().request({ method: 'GET', path: '/h', headers: { 'x test': 'v' } }), (error: unknown) => {
      return error instanceof ValidationError && error.field === 'headers["x test"]';
    });
    assert.deepEqual(sent, []);
    // What a header can carry goes out unchanged: tab, space, visible ASCII, Latin-1 (obs-text), empty.
    for (const value of ['a\tb c', '~!#"', 'caf\u00e9', '\u00ff', '']) {
      await client().request({ method: 'GET', path: '/h', headers: { 'x-test': value } });
    }
    assert.deepEqual(sent, ['a\tb c', '~!#"', 'caf\u00e9', '\u00ff', '']);
  });

  it('returns non-JSON bodies as text and empty bodies as undefined', async () => {
    nock(BASE).get('/t').reply(200, 'plain', { 'content-type': 'text/plain' });
    assert.equal((await client().request({ method: 'GET', path: '/t' })).data, 'plain');
    nock(BASE).delete('/t').reply(204);
    assert.equal((await client().request({ method: 'DELETE', path: '/t' })).data, undefined);
  });
});
