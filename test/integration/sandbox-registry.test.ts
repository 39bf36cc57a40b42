// The sandbox's Hono device registry: the SDK's own DeviceRegistry client (through Cloud2Edge.fromEnv(sandbox.env()))
// runs its real call paths against it, every exchange is checked against the official Hono registry spec
// (device-registry-v1.yaml, request and response), bad input gets Hono's status codes, and with a dataDir everything
// survives a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cloud2Edge } from '../../src/c2e/index.js';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../src/core/index.js';
import { Sandbox } from '../../src/sandbox/index.js';
import { type Contract, honoRegistryContract, skipReason } from '../support/openapi.js';
import type { RecordingProxy } from '../support/recording-proxy.js';
import { type ProxiedSandbox, proxiedSandbox, rejectsWith } from '../support/sandbox.js';

const TENANT = 'org.acme';
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * The spec's PSKSecret requires `key`, while Hono in patch mode leaves it out of GET and takes it back by `id` on PUT
 * (a known imprecision, pinned down in test/contract/registry.contract.test.ts). Such secrets get a placeholder key
 * before validation; everything else is validated as it is.
 */
function withPskKeys(body: unknown): unknown {
  if (!Array.isArray(body)) return body;
  return body.map((credential: { type?: string; secrets?: Array<Record<string, unknown>> }) =>
    credential?.type === 'psk' && Array.isArray(credential.secrets)
      ? { ...credential, secrets: credential.secrets.map((secret) => ('key' in secret ? secret : { ...secret, key: 'AA==' })) }
      : credential,
  );
}

describe('sandbox: Hono device registry', { skip: skipReason() }, () => {
  let sandbox: Sandbox;
  let proxy: RecordingProxy;
  let contract: Contract;
  let c2e: Cloud2Edge;
  let running: ProxiedSandbox | undefined;

  before(async () => {
    contract = await honoRegistryContract();
    running = await proxiedSandbox('REGISTRY_BASE_URL');
    ({ sandbox, proxy, c2e } = running);
  });

  after(async () => {
    await running?.close();
  });

  it('serves the SDK client: tenants, devices, credentials in patch mode, search, ETags; every exchange as the spec says', async () => {
    const { tenants, devices, credentials } = c2e.registry;
    assert.equal((await tenants.create({ enabled: true, ext: { plan: 'demo' } }, { tenantId: TENANT })).id, TENANT);
    const generated = await tenants.create();
    assert.match(generated.id, /^[0-9a-f-]{36}$/);
    const tenant = await tenants.get(TENANT);
    assert.deepEqual(tenant.value, { enabled: true, ext: { plan: 'demo' } });
    assert.ok(tenant.etag);
    const { etag: tenantEtag } = await tenants.update(TENANT, { enabled: true, ext: { plan: 'gold' } }, { ifMatch: tenant.etag });
    assert.notEqual(tenantEtag, tenant.etag);
    await rejectsWith(tenants.update(TENANT, { enabled: false }, { ifMatch: tenant.etag }), PreconditionFailedError);
    await rejectsWith(tenants.create({}, { tenantId: TENANT }), ConflictError);
    const found = await tenants.search({ filter: [{ field: '/ext/plan', value: 'g*' }] });
    assert.deepEqual(
      found.result.map((entry) => entry.id),
      [TENANT],
    );

    for (let n = 0; n < 5; n += 1) {
      await devices.create(TENANT, { enabled: n !== 3, ext: { floor: n % 2, name: `lamp-${n}` } }, { deviceId: `${TENANT}:lamp-${n}` });
    }
    await devices.create(TENANT, { via: [`${TENANT}:lamp-0`] }, { deviceId: `${TENANT}:behind-gateway` });
    const lamp = await devices.get(TENANT, `${TENANT}:lamp-1`);
    assert.equal(lamp.value.enabled, true);
    assert.ok(lamp.value.status?.created);
    const page = await devices.search(TENANT, {
      filter: [{ field: '/ext/floor', value: 1 }],
      sort: [{ field: '/ext/name', direction: 'desc' }],
      pageSize: 1,
      pageOffset: 1,
    });
    assert.equal(page.total, 2);
    assert.deepEqual(
      page.result.map((device) => device.id),
      [`${TENANT}:lamp-1`],
    );
    const gateways = await devices.search(TENANT, { isGateway: true });
    assert.deepEqual(
      gateways.result.map((device) => device.id),
      [`${TENANT}:lamp-0`],
    );
    // No match: a 404 from the registry, which the client reports as an empty result.
    assert.equal((await devices.search(TENANT, { filter: [{ field: '/ext/name', value: 'nothing*' }] })).total, 0);
    assert.ok(proxy.exchanges.some((exchange) => exchange.status === 404 && exchange.request.path === `/v1/devices/${TENANT}`));
    await devices.update(TENANT, `${TENANT}:lamp-2`, { enabled: false }, { ifMatch: (await devices.get(TENANT, `${TENANT}:lamp-2`)).etag });
    await rejectsWith(devices.create('no-such-tenant', {}, { deviceId: 'x' }), NotFoundError);

    const device = `${TENANT}:lamp-1`;
    assert.deepEqual((await credentials.get(TENANT, device)).value, [], 'a new device has an empty set of credentials');
    await credentials.setPassword(TENANT, device, 'lamp-1', 'first-password');
    await credentials.setPassword(TENANT, `${TENANT}:lamp-4`, 'lamp-4', 'bcrypt-password', { hash: 'bcrypt', bcryptCost: 4 });
    await credentials.setPassword(TENANT, `${TENANT}:lamp-0`, 'lamp-0', 'sha-password', { hash: 'sha-512' });
    await credentials.setPsk(TENANT, device, 'lamp-1-psk', Buffer.from('a shared key'));
    const stored = await credentials.get(TENANT, device);
    assert.equal(stored.value.length, 2);
    for (const credential of stored.value) {
      for (const secret of credential.secrets ?? []) {
        assert.ok(typeof secret.id === 'string', 'patch mode: every secret has an id');
        assert.ok(!('pwd-hash' in secret) && !('salt' in secret) && !('key' in secret) && !('pwd-plain' in secret), JSON.stringify(secret));
      }
    }
    // The secret's id keeps its hash: a PUT of what GET returned changes nothing for the device.
    await credentials.set(TENANT, device, stored.value, { ifMatch: stored.etag });
    assert.deepEqual(await sandbox.registry.authenticate(TENANT, 'lamp-1', 'first-password').then((found) => found?.deviceId), device);
    assert.equal(await sandbox.registry.authenticate(TENANT, 'lamp-1', 'wrong'), undefined);
    assert.equal((await sandbox.registry.authenticate(TENANT, 'lamp-4', 'bcrypt-password'))?.deviceId, `${TENANT}:lamp-4`);
    assert.equal((await sandbox.registry.authenticate(TENANT, 'lamp-0', 'sha-password'))?.deviceId, `${TENANT}:lamp-0`);
    // Another device cannot take the auth-id.
    await rejectsWith(credentials.setPassword(TENANT, `${TENANT}:lamp-2`, 'lamp-1', 'x'), ConflictError);
    // A second password next to the first (rollover), then the first removed.
    await credentials.setPassword(TENANT, device, 'lamp-1', 'second-password', { mode: 'add' });
    assert.ok(await sandbox.registry.authenticate(TENANT, 'lamp-1', 'first-password'));
    assert.ok(await sandbox.registry.authenticate(TENANT, 'lamp-1', 'second-password'));
    await credentials.setPassword(TENANT, device, 'lamp-1', 'third-password', { mode: 'replace' });
    assert.equal(await sandbox.registry.authenticate(TENANT, 'lamp-1', 'first-password'), undefined);
    assert.ok(await sandbox.registry.authenticate(TENANT, 'lamp-1', 'third-password'));
    // A disabled device does not log in.
    await credentials.setPassword(TENANT, `${TENANT}:lamp-3`, 'lamp-3', 'pw');
    assert.equal(await sandbox.registry.authenticate(TENANT, 'lamp-3', 'pw'), undefined);

    await devices.delete(TENANT, `${TENANT}:lamp-4`);
    await rejectsWith(devices.get(TENANT, `${TENANT}:lamp-4`), NotFoundError);
    await rejectsWith(credentials.get(TENANT, `${TENANT}:lamp-4`), NotFoundError);
    await tenants.delete(generated.id);
    await rejectsWith(tenants.get(generated.id), NotFoundError);

    // Every exchange, as the spec defines it.
    assert.ok(proxy.exchanges.length > 30, `${proxy.exchanges.length} exchanges`);
    for (const exchange of proxy.exchanges) {
      contract.assertRequest({ ...exchange.request, body: withPskKeys(exchange.request.body) });
      contract.assertResponse(exchange.request, exchange.status, withPskKeys(exchange.body ?? null));
      if (
        [200, 201, 204].includes(exchange.status) &&
        exchange.request.method !== 'DELETE' &&
        !/^\/v1\/(tenants|devices\/[^/]+)$/.test(exchange.request.path)
      ) {
        assert.ok(exchange.headers.etag, `${exchange.request.method} ${exchange.request.path} → ${exchange.status} has an ETag`);
      }
      if (exchange.status === 201) assert.match(exchange.headers.location ?? '', /^\/v1\//);
    }
  });

  it('answers bad input as Hono does: 400, 404, 409, 412, 413; never a crash or a hang', async () => {
    const base = sandbox.env().REGISTRY_BASE_URL!;
    const call = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(5_000),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
    };
    await call('POST', '/v1/tenants/bad-input');
    await call('POST', '/v1/devices/bad-input/d1', '{}');
    const cases: Array<[string, string, string | undefined, number, Record<string, string>?]> = [
      ['POST', '/v1/tenants/t2', '{"enabled": tru', 400],
      ['POST', '/v1/tenants/t3', '{"unknown": 1}', 400],
      ['POST', '/v1/tenants/t4', '[1, 2]', 400],
      ['POST', '/v1/tenants/a%20b', '{}', 400],
      ['POST', '/v1/tenants/%E0%A4%A', '{}', 400],
      ['GET', '/v1/tenants/nobody', undefined, 404],
      ['POST', '/v1/devices/nobody/d1', '{}', 404],
      ['POST', '/v1/devices/bad-input/d1', '{}', 409],
      ['POST', '/v1/devices/bad-input/d%2Fx', '{}', 400],
      ['POST', '/v1/devices/bad-input/d2', `{"ext": {"blob": "${'x'.repeat(70_000)}"}}`, 413],
      ['PUT', '/v1/devices/bad-input/d1', '{}', 412, { 'if-match': 'not-the-version' }],
      [
        'PUT',
        '/v1/credentials/bad-input/d1',
        '[{"type": "hashed-password", "auth-id": "d1", "device-id": "d1", "secrets": [{"pwd-plain": "x"}]}]',
        400,
      ],
      ['PUT', '/v1/credentials/bad-input/d1', '[{"type": "hashed-password", "auth-id": "d1", "secrets": [{"id": "nope"}]}]', 400],
      [
        'PUT',
        '/v1/credentials/bad-input/d1',
        '[{"type": "hashed-password", "auth-id": "d1", "secrets": [{"hash-function": "bcrypt", "pwd-hash": "$2a$12$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"}]}]',
        400,
      ],
      ['PUT', '/v1/credentials/bad-input/d1', '[{"type": "hashed-password", "auth-id": "a@b", "secrets": [{"pwd-plain": "x"}]}]', 400],
      ['PUT', '/v1/credentials/bad-input/d1', '[{"type": "psk", "auth-id": "d1", "secrets": [{"key": "not base64!"}]}]', 400],
      ['PUT', '/v1/credentials/bad-input/nobody', '[]', 404],
      ['GET', '/v1/devices/bad-input?pageSize=500', undefined, 400],
      ['GET', '/v1/devices/bad-input?filterJson=%7Bnope', undefined, 400],
      ['GET', '/v1/nothing-here', undefined, 404],
    ];
    for (const [method, path, body, status, headers] of cases) {
      const answer = await call(method, path, body, headers);
      assert.equal(answer.status, status, `${method} ${path} → ${answer.status} ${JSON.stringify(answer.body)}`);
      assert.equal(typeof (answer.body as { error?: unknown }).error, 'string', `${method} ${path}: Hono's { error } body`);
    }
    const tooManyIds = await call('GET', '/v1/devices/bad-input/d1/extra');
    assert.equal(tooManyIds.status, 404);
  });

  it('env() is what Cloud2Edge prints: Cloud2Edge.fromEnv(sandbox.env()) reaches the registry directly', async () => {
    const direct = Cloud2Edge.fromEnv({}, sandbox.env());
    try {
      assert.equal((await direct.registry.tenants.get(TENANT)).value.enabled, true);
    } finally {
      await direct.close();
    }
  });
});

describe('sandbox: restart with a dataDir', () => {
  it('keeps tenants, devices, credentials and their versions', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'twinledger-sandbox-'));
    dirs.push(dataDir);
    const first = await Sandbox.start({ dataDir });
    const c2e = Cloud2Edge.fromEnv({}, first.env());
    let etag: string | undefined;
    try {
      await c2e.registry.tenants.create({}, { tenantId: TENANT });
      await c2e.registry.devices.create(TENANT, { ext: { kept: true } }, { deviceId: `${TENANT}:kept` });
      await c2e.registry.credentials.setPassword(TENANT, `${TENANT}:kept`, 'kept', 'kept-password');
      etag = (await c2e.registry.devices.get(TENANT, `${TENANT}:kept`)).etag;
    } finally {
      await c2e.close();
      await first.close();
    }
    const second = await Sandbox.start({ dataDir });
    const again = Cloud2Edge.fromEnv({}, second.env());
    try {
      const device = await again.registry.devices.get(TENANT, `${TENANT}:kept`);
      assert.deepEqual(device.value.ext, { kept: true });
      assert.equal(device.etag, etag, 'the same version after the restart');
      assert.equal((await second.registry.authenticate(TENANT, 'kept', 'kept-password'))?.deviceId, `${TENANT}:kept`);
    } finally {
      await again.close();
      await second.close();
    }
  });

  it('refuses a host off loopback and a port in use with typed errors', async () => {
    await assert.rejects(
      Sandbox.start({ host: '0.0.0.0' }),
      (error: unknown) => error instanceof Error && error.name === 'ValidationError',
    );
    const first = await Sandbox.start();
    try {
      const port = Number(new URL(first.env().REGISTRY_BASE_URL!).port);
      await assert.rejects(
        Sandbox.start({ ports: { registry: port } }),
        (error: unknown) =>
          error instanceof Error && error.name === 'SandboxStartError' && /taken/.test((error as { hint?: string }).hint ?? ''),
      );
    } finally {
      await first.close();
    }
  });
});
