import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import {
  AbortError,
  BadRequestError,
  ConflictError,
  FailedDependencyError,
  ForbiddenError,
  HttpError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  Redactor,
  RequestTimeoutError,
  ServiceUnavailableError,
  TimeoutError,
  TooManyRequestsError,
  UnauthorizedError,
  ValidationError,
} from '../../src/core/index.js';
import { HttpClient } from '../../src/core/http.js';
import { DittoClient, dittoHints } from '../../src/ditto/index.js';
import { ChangeStreamApi } from '../../src/ditto/changes.js';
import { SearchApi } from '../../src/ditto/search.js';
import { BASE, BASIC, PASSWORD, THING, THING_SEG, capturingLogger, errorBody, fixture, makeClient, route } from '../fixtures/ditto/kit.js';

const THING_PATH = `/api/2/things/${THING_SEG}`;

describe('DittoClient', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  describe('errors', () => {
    const cases: Array<[number, new (...args: never[]) => HttpError, RegExp | undefined]> = [
      [400, BadRequestError, undefined],
      [401, UnauthorizedError, /credentials/],
      [403, ForbiddenError, /WRITE/],
      [404, NotFoundError, /not found or not visible to you/i],
      [408, RequestTimeoutError, /timeout/],
      [412, PreconditionFailedError, /revision changed/i],
      [413, PayloadTooLargeError, /100 kB/],
      [429, TooManyRequestsError, /rate-limiting/],
      [503, ServiceUnavailableError, /unavailable/],
    ];
    for (const [status, ErrorClass, hint] of cases) {
      it(`maps ${status} to ${ErrorClass.name} with Ditto's error code${hint ? ' and a hint' : ''}`, async () => {
        const body = errorBody(status);
        const { seen } = route('PUT', `${THING_PATH}/attributes/on`, { status, body }, { status, body }, { status, body });
        await assert.rejects(makeClient().things.attributes(THING).put('on', true, { ifMatch: 3 }), (error: unknown) => {
          assert.ok(error instanceof ErrorClass, `got ${String(error)}`);
          assert.equal(error.status, status);
          assert.equal(error.upstreamCode, body.error);
          assert.equal(error.code, body.error);
          assert.ok(error.upstreamMessage?.startsWith(body.message));
          if (hint) assert.match(error.hint ?? '', hint);
          assert.deepEqual(error.body, body);
          return true;
        });
        // A conditional write (ifMatch) is never retried, not even on 429/503: a repeat after a lost response would get 412.
        assert.equal(seen.length, 1, 'a conditional PUT is sent once');
      });
    }

    it('maps 409 to ConflictError', async () => {
      route('PUT', THING_PATH, {
        status: 409,
        body: { status: 409, error: 'things:thing.conflict', message: 'The Thing already exists.' },
      });
      await assert.rejects(
        makeClient().things.put(THING, {}),
        (error: unknown) => error instanceof ConflictError && error.upstreamCode === 'things:thing.conflict',
      );
    });

    it('maps 424 (failed acknowledgements) to FailedDependencyError listing the acks in the hint and body', async () => {
      const acks = fixture('acks-failed.json');
      route('PUT', `${THING_PATH}/attributes/on`, { status: 424, body: acks });
      await assert.rejects(
        makeClient()
          .things.attributes(THING)
          .put('on', true, { requestedAcks: ['twin-persisted', 'search-persisted'], dittoTimeout: 3 }),
        (error: unknown) => {
          assert.ok(error instanceof FailedDependencyError);
          assert.match(error.hint ?? '', /requested-acks: twin-persisted,search-persisted/);
          assert.deepEqual(error.body, acks);
          return true;
        },
      );
    });

    it('explains 412 for If-None-Match: * and for a condition', async () => {
      route(
        'PUT',
        THING_PATH,
        { status: 412, body: errorBody(412) },
        { status: 412, body: { status: 412, error: 'things:condition.failed', message: 'The specified condition does not match.' } },
      );
      const things = makeClient().things;
      await assert.rejects(
        things.put(THING, {}, { ifNoneMatch: '*' }),
        (error: unknown) => error instanceof PreconditionFailedError && /already exists/.test(error.hint ?? ''),
      );
      await assert.rejects(
        things.put(THING, {}, { condition: 'eq(attributes/a,1)' }),
        (error: unknown) => error instanceof PreconditionFailedError && /condition did not hold/.test(error.hint ?? ''),
      );
    });

    it('explains 304 Not Modified for If-None-Match reads', async () => {
      route('GET', THING_PATH, { status: 304, headers: { etag: '"rev:3"' } });
      await assert.rejects(makeClient().things.get(THING, { ifNoneMatch: 3 }), (error: unknown) => {
        assert.ok(error instanceof HttpError);
        assert.equal(error.status, 304);
        assert.equal(error.etag, '"rev:3"');
        assert.match(error.hint ?? '', /Not modified/);
        return true;
      });
    });

    it('the hint provider is exported for a caller-supplied HttpClient', () => {
      assert.match(dittoHints(404, 'things:thing.notfound', { method: 'GET', path: THING_PATH }) ?? '', /policy/);
      assert.equal(dittoHints(418, undefined, { method: 'GET', path: THING_PATH }), undefined);
    });
  });

  describe('secrets', () => {
    it('never puts the Ditto password in errors or logs, even when the server echoes it', async () => {
      const logger = capturingLogger();
      const echoed = { status: 503, error: 'gateway:service.unavailable', message: `auth ditto:${PASSWORD} / ${BASIC}` };
      route(
        'GET',
        THING_PATH,
        { status: 503, body: echoed },
        { status: 503, body: echoed },
        { status: 401, body: { ...errorBody(401), message: `bad password ${PASSWORD}` } },
      );
      await assert.rejects(makeClient({ logger }).things.get(THING), (error: unknown) => {
        assert.ok(error instanceof UnauthorizedError);
        const text = `${error.message} ${error.upstreamMessage} ${error.hint} ${JSON.stringify(error.body)} ${error.url}`;
        assert.ok(!text.includes(PASSWORD), text);
        return true;
      });
      const logged = logger.lines.join('\n');
      assert.equal(logger.lines.filter((line) => line.startsWith('warn retrying')).length, 2);
      assert.ok(!logged.includes(PASSWORD), logged);
      assert.ok(!logged.includes(BASIC.slice('Basic '.length)), logged);
    });

    it('masks a bearer token', async () => {
      const token = 'eyJhbGciOiJSUzI1NiJ9.payload.sig-9a8b7c';
      const logger = capturingLogger();
      const { seen } = route('GET', THING_PATH, { status: 401, body: { ...errorBody(401), message: `token ${token} rejected` } });
      await assert.rejects(makeClient({ credentials: { type: 'bearer', token }, logger }).things.get(THING), (error: unknown) => {
        assert.ok(error instanceof UnauthorizedError);
        assert.ok(!`${error.message} ${error.upstreamMessage}`.includes(token));
        return true;
      });
      assert.equal(seen[0]?.headers.authorization, `Bearer ${token}`);
      assert.ok(!logger.lines.join('\n').includes(token));
    });

    it('shares a caller-supplied redactor', async () => {
      const redactor = new Redactor();
      makeClient({ redactor });
      assert.equal(redactor.redactText(`x ${PASSWORD} y`), 'x [REDACTED] y');
    });
  });

  describe('deadlines and cancellation', () => {
    it('times out with TimeoutError after timeoutMs', async () => {
      nock(BASE).get(THING_PATH).delay(1_000).reply(200, {});
      await assert.rejects(
        makeClient().things.get(THING, { timeoutMs: 50 }),
        (error: unknown) => error instanceof TimeoutError && error.timeoutMs === 50,
      );
    });

    it('uses the client default timeout', async () => {
      nock(BASE).get(THING_PATH).delay(1_000).reply(200, {});
      await assert.rejects(
        makeClient({ timeoutMs: 60 }).things.get(THING),
        (error: unknown) => error instanceof TimeoutError && error.timeoutMs === 60,
      );
    });

    it('aborts with AbortError when the signal fires', async () => {
      nock(BASE).put(`${THING_PATH}/attributes/a`).delay(1_000).reply(204);
      const controller = new AbortController();
      const pending = makeClient().things.attributes(THING).put('a', 1, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(pending, AbortError);
    });

    it('a signal aborted before the call sends nothing', async () => {
      const { seen } = route('GET', THING_PATH, { status: 200, body: {} });
      await assert.rejects(makeClient().things.get(THING, { signal: AbortSignal.abort() }), AbortError);
      assert.equal(seen.length, 0);
    });
  });

  describe('construction', () => {
    it('accepts a base URL with /api/2 and trailing slashes without doubling the prefix', async () => {
      const { seen } = route('GET', THING_PATH, { status: 200, body: fixture('thing.json') });
      await makeClient({ baseUrl: `${BASE}/api/2/` }).things.get(THING);
      assert.equal(seen[0]?.path, THING_PATH);
    });

    it('rejects a base URL that is not http(s)', () => {
      assert.throws(
        () => new DittoClient({ baseUrl: 'ditto.test' }),
        (error: unknown) => error instanceof ValidationError && error.field === 'baseUrl',
      );
    });

    it('applies ID rule overrides', async () => {
      const client = makeClient({ idRules: { maxEntityIdLength: 10 } });
      await assert.rejects(
        client.things.get(THING),
        (error: unknown) => error instanceof ValidationError && /at most 10/.test(error.message),
      );
    });

    it('uses a caller-supplied HttpClient', async () => {
      const http = new HttpClient({ baseUrl: BASE, service: 'mine', headers: { 'x-from': 'caller' }, hints: dittoHints });
      const { seen } = route('GET', '/api/2/whoami', { status: 200, body: { subjects: ['nginx:ditto'], defaultSubject: 'nginx:ditto' } });
      const client = new DittoClient({ baseUrl: BASE, http });
      assert.equal(client.http, http);
      assert.deepEqual(await client.whoami(), { subjects: ['nginx:ditto'], defaultSubject: 'nginx:ditto' });
      assert.equal(seen[0]?.headers['x-from'], 'caller');
    });

    it('wires search and the change stream onto the same HTTP client', () => {
      const client = makeClient();
      assert.ok(client.search instanceof SearchApi);
      assert.ok(client.changes instanceof ChangeStreamApi);
    });
  });
});
