// Transport behaviour of the registry client: retries, deadlines, cancellation, redaction, options.
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import {
  AbortError,
  BadRequestError,
  Redactor,
  ServiceUnavailableError,
  TimeoutError,
  TooManyRequestsError,
  ValidationError,
} from '../../src/core/index.js';
import { DeviceRegistry } from '../../src/registry/index.js';
import { BASE, JSON_HEADERS, capturingLogger, fixture, newRegistry } from '../fixtures/registry/support.js';

const T = 'org.acme';
const D = 'org.acme:lamp-1';
const DP = '/devices/org.acme/org.acme%3Alamp-1';
const CP = '/credentials/org.acme/org.acme%3Alamp-1';

describe('registry client transport', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  describe('retries', () => {
    it('GET is retried on 503 and then succeeds', async () => {
      const scope = nock(BASE)
        .get('/tenants/org.acme')
        .reply(503, { error: 'unavailable' }, JSON_HEADERS)
        .get('/tenants/org.acme')
        .reply(200, fixture('tenant'), { ...JSON_HEADERS, ETag: 'v1' });
      const { etag } = await newRegistry().tenants.get(T);
      assert.equal(etag, 'v1');
      scope.done();
    });

    it('PUT is retried on 429 and then succeeds', async () => {
      const scope = nock(BASE)
        .put(DP)
        .reply(429, { error: 'too many requests' }, JSON_HEADERS)
        .put(DP)
        .reply(429, { error: 'too many requests' }, JSON_HEADERS)
        .put(DP)
        .reply(204, '', { ETag: 'd2' });
      assert.deepEqual(await newRegistry().devices.update(T, D, { enabled: true }), { etag: 'd2' });
      scope.done();
    });

    it('DELETE is retried on 503 and then succeeds', async () => {
      const scope = nock(BASE).delete(DP).reply(503).delete(DP).reply(204);
      await newRegistry().devices.delete(T, D);
      scope.done();
    });

    it("gives up after the policy's attempts with the last error", async () => {
      const scope = nock(BASE).get(CP).times(3).reply(429, { error: 'slow down' }, JSON_HEADERS);
      await assert.rejects(newRegistry().credentials.get(T, D), TooManyRequestsError);
      scope.done();
    });

    it('POST is not retried: one request, ServiceUnavailableError', async () => {
      let posts = 0;
      nock(BASE)
        .post('/tenants')
        .times(2)
        .reply(() => {
          posts += 1;
          return [503, { error: 'unavailable' }, JSON_HEADERS];
        });
      await assert.rejects(newRegistry().tenants.create(), ServiceUnavailableError);
      assert.equal(posts, 1);
      nock(BASE)
        .post('/devices/org.acme')
        .times(2)
        .reply(() => {
          posts += 1;
          return [429, { error: 'limit' }, JSON_HEADERS];
        });
      await assert.rejects(newRegistry().devices.create(T), TooManyRequestsError);
      assert.equal(posts, 2);
    });
  });

  describe('deadlines and cancellation', () => {
    it('a slow answer beyond options.timeoutMs → TimeoutError', async () => {
      nock(BASE).get('/tenants/org.acme').delay(500).reply(200, fixture('tenant'), JSON_HEADERS);
      await assert.rejects(newRegistry().tenants.get(T, { timeoutMs: 30 }), (error: unknown) => {
        assert.ok(error instanceof TimeoutError);
        assert.equal(error.timeoutMs, 30);
        return true;
      });
    });

    it('the client default timeoutMs applies when the call sets none', async () => {
      nock(BASE).get('/devices/org.acme').delay(500).reply(200, fixture('search-devices-page-0'), JSON_HEADERS);
      await assert.rejects(newRegistry({ timeoutMs: 30 }).devices.search(T), TimeoutError);
    });

    it('read-modify-write helpers have one deadline for all their requests', async () => {
      nock(BASE).get(CP).delay(500).reply(200, [], JSON_HEADERS);
      await assert.rejects(newRegistry().credentials.setPassword(T, D, 'lamp-1', 'timeout-pass', { timeoutMs: 30 }), TimeoutError);
    });

    it('an AbortSignal fired while waiting → AbortError', async () => {
      nock(BASE).get(DP).delay(500).reply(200, fixture('device'), JSON_HEADERS);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(newRegistry().devices.get(T, D, { signal: controller.signal }), AbortError);
    });

    it('an already aborted signal → AbortError, also for modify()', async () => {
      nock(BASE).get('/tenants/org.acme').times(2).reply(200, {}, JSON_HEADERS);
      const signal = AbortSignal.abort();
      await assert.rejects(newRegistry().tenants.get(T, { signal }), AbortError);
      await assert.rejects(
        newRegistry().tenants.modify(T, (t) => t, { signal }),
        AbortError,
      );
    });

    it('aborting during the wait before a retry → AbortError', async () => {
      const controller = new AbortController();
      nock(BASE)
        .get('/tenants/org.acme')
        .reply(() => {
          setTimeout(() => controller.abort(), 5);
          return [503, { error: 'unavailable' }, JSON_HEADERS];
        });
      const registry = new DeviceRegistry({
        baseUrl: BASE,
        retry: { nextDelayMs: () => 200 },
      });
      await assert.rejects(registry.tenants.get(T, { signal: controller.signal }), AbortError);
    });
  });

  describe('redaction', () => {
    const PASSWORD = 'Tr0ub4dor&3-horse';

    it('a password echoed by the registry appears in no error message, hint, error JSON or log line', async () => {
      const logger = capturingLogger();
      const registry = newRegistry({ logger });
      const echo = { error: `password ${PASSWORD} does not match policy`, message: `rejected ${PASSWORD}` };
      // No ETag on the read, so the PUT carries no If-Match and its 503 is retried (and logged).
      nock(BASE).get(CP).reply(200, [], JSON_HEADERS).put(CP).reply(503, echo, JSON_HEADERS).put(CP).reply(400, echo, JSON_HEADERS);
      let caught: unknown;
      try {
        await registry.credentials.setPassword(T, D, 'lamp-1', PASSWORD);
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof BadRequestError);
      const everything = [
        caught.message,
        caught.hint ?? '',
        String(caught.stack),
        JSON.stringify(caught),
        JSON.stringify(caught.body),
        caught.upstreamCode ?? '',
        caught.upstreamMessage ?? '',
        ...logger.lines,
      ].join('\n');
      assert.ok(
        logger.lines.some((line) => line.includes('retrying request')),
        'the 503 was logged',
      );
      assert.ok(everything.includes('[REDACTED]'));
      assert.equal(everything.includes(PASSWORD), false, everything);
      assert.equal(everything.includes(Buffer.from(PASSWORD).toString('base64')), false);
    });

    it('passwords given to set() are registered with the shared redactor as well', async () => {
      const redactor = new Redactor();
      const registry = newRegistry({ redactor });
      nock(BASE)
        .put(CP)
        .reply(400, { error: `bad secret ${PASSWORD}` }, JSON_HEADERS);
      await assert.rejects(
        registry.credentials.set(T, D, [{ type: 'hashed-password', 'auth-id': 'lamp-1', secrets: [{ 'pwd-plain': PASSWORD }] }]),
        (error: BadRequestError) => !error.message.includes(PASSWORD) && !(error.hint ?? '').includes(PASSWORD),
      );
      assert.equal(redactor.redactText(`x ${PASSWORD} y`), 'x [REDACTED] y');
    });

    it('hashed secrets (bcrypt) and PSK keys are registered too', async () => {
      const redactor = new Redactor();
      const registry = newRegistry({ redactor });
      let sentHash = '';
      nock(BASE)
        .get(CP)
        .times(2)
        .reply(200, [], { ...JSON_HEADERS, ETag: 'c1' })
        .put(CP, (body: { secrets: { 'pwd-hash'?: string; key?: string }[] }[]) => {
          sentHash = body[0]?.secrets[0]?.['pwd-hash'] ?? body[0]?.secrets[0]?.key ?? '';
          return true;
        })
        .times(2)
        .reply(204);
      await registry.credentials.setPassword(T, D, 'lamp-1', PASSWORD, { hash: 'bcrypt', bcryptCost: 4 });
      assert.equal(redactor.redactText(sentHash), '[REDACTED]');
      await registry.credentials.setPsk(T, D, 'lamp-1', 'cHNrLWtleS1ieXRlcw==');
      assert.equal(redactor.redactText('cHNrLWtleS1ieXRlcw=='), '[REDACTED]');
    });

    it('validation errors about a password never contain it', async () => {
      const long = `${PASSWORD}${'x'.repeat(80)}`;
      await assert.rejects(newRegistry().credentials.setPassword(T, D, 'lamp-1', long, { hash: 'bcrypt' }), (error: ValidationError) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(JSON.stringify({ ...error, message: error.message }).includes(PASSWORD), false);
        return true;
      });
    });
  });

  describe('options', () => {
    it('baseUrl must be an http(s) URL ending with /v1', () => {
      assert.throws(
        () => new DeviceRegistry({ baseUrl: 'http://registry:28080' }),
        (error: ValidationError) => {
          assert.equal(error.field, 'baseUrl');
          assert.match(error.hint ?? '', /append "\/v1"/);
          return true;
        },
      );
      assert.throws(() => new DeviceRegistry({ baseUrl: 'ftp://registry/v1' }), ValidationError);
      assert.throws(() => new DeviceRegistry({ baseUrl: 'not a url' }), ValidationError);
      assert.throws(() => new DeviceRegistry({ baseUrl: BASE, timeoutMs: 0 }), ValidationError);
      assert.equal(new DeviceRegistry({ baseUrl: `${BASE}/` }).http.baseUrl, BASE);
    });

    it('auth and headers are sent with every request', async () => {
      const scope = nock(BASE, {
        reqheaders: { authorization: `Basic ${Buffer.from('admin:pw-1234').toString('base64')}`, 'x-tenant-hint': 'acme' },
      })
        .get('/tenants/org.acme')
        .reply(200, {}, JSON_HEADERS);
      const registry = newRegistry({
        credentials: { type: 'basic', username: 'admin', password: 'pw-1234' },
        headers: { 'x-tenant-hint': 'acme' },
      });
      await registry.tenants.get(T);
      scope.done();
    });

    it('custom idRules apply', async () => {
      const registry = newRegistry({ idRules: { device: /^[a-z0-9-]+$/ } });
      await assert.rejects(registry.devices.get(T, 'org.acme:lamp-1'), ValidationError);
      nock(BASE).get('/devices/org.acme/lamp-1').reply(200, {}, JSON_HEADERS);
      await registry.devices.get(T, 'lamp-1');
    });

    it('IDs are percent-encoded in paths', async () => {
      const scope = nock(BASE).get('/credentials/org.acme/org.acme%3Alamp%3Ax').reply(200, [], JSON_HEADERS);
      await newRegistry().credentials.get(T, 'org.acme:lamp:x');
      scope.done();
    });
  });
});
