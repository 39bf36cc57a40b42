// Every request the registry client can produce, checked against the official Hono Device Registry
// Management API (device-registry-v1.yaml), and every fixture response the unit tests use checked
// against the response schemas.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nock from 'nock';
import { ExponentialBackoff } from '../../src/core/index.js';
import { type Credential, DeviceRegistry } from '../../src/registry/index.js';
import { BASE, ORIGIN, RESPONSE_FIXTURES, fixture, fixtureText } from '../fixtures/registry/support.js';
import {
  type Capture,
  type Contract,
  type RecordedRequest,
  captureRequests,
  honoRegistryContract,
  skipReason,
} from '../support/openapi.js';

const T = 'org.acme';
const D = 'org.acme:lamp-1';

/** Answers like a Hono registry in patch mode, using the unit-test fixtures. */
function respond(request: RecordedRequest): { status: number; body?: unknown; headers?: Record<string, string> } {
  const etag = { etag: 'etag-1' };
  const path = request.path;
  switch (request.method) {
    case 'POST':
      return { status: 201, body: fixture(path.startsWith('/v1/tenants') ? 'created-tenant' : 'created-device'), headers: etag };
    case 'PUT':
      return { status: 204, headers: etag };
    case 'DELETE':
      return { status: 204 };
    default:
      break;
  }
  if (path === '/v1/tenants') return { status: 200, body: fixture('search-tenants') };
  if (path.startsWith('/v1/tenants/')) return { status: 200, body: fixture('tenant'), headers: etag };
  if (path.startsWith('/v1/credentials/')) return { status: 200, body: fixture('credentials'), headers: etag };
  if (/^\/v1\/devices\/[^/]+$/.test(path)) {
    const page = Math.min(Number(request.query.pageOffset ?? 0), 2);
    return { status: 200, body: fixture(`search-devices-page-${page}`) };
  }
  return { status: 200, body: fixture('device'), headers: etag };
}

/**
 * Spec imprecision: `filterJson` and `sortJson` are documented as repeatable ("If this parameter is
 * specified multiple times, objects in the result set must match all predicates"; Hono reads every
 * occurrence), but their schema is a single `string`, so a validator rejects the repeated parameter as
 * an array. A request with repeated parameters is therefore checked as one request per occurrence; each
 * occurrence must also be the JSON object the parameter description defines.
 */
function perOccurrence(request: RecordedRequest): RecordedRequest[] {
  const lengths = Object.values(request.query).map((value) => (Array.isArray(value) ? value.length : 1));
  const count = Math.max(1, ...lengths);
  return Array.from({ length: count }, (_, index) => ({
    ...request,
    query: Object.fromEntries(
      Object.entries(request.query).map(([key, value]) => [
        key,
        Array.isArray(value) ? (value[Math.min(index, value.length - 1)] as string) : value,
      ]),
    ),
  }));
}

/** The JSON objects of `filterJson` / `sortJson`, as the parameter descriptions of the spec define them. */
function assertSearchParameters(request: RecordedRequest): void {
  const values = (name: string): string[] => {
    const value = request.query[name];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  };
  for (const text of values('filterJson')) {
    const filter = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(filter).filter((key) => !['field', 'op', 'value'].includes(key)),
      [],
      text,
    );
    assert.equal(typeof filter.field, 'string', text);
    assert.ok(['boolean', 'number', 'string'].includes(typeof filter.value), text);
    assert.ok(filter.op === undefined || filter.op === 'eq', text);
  }
  for (const text of values('sortJson')) {
    const sort = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(sort).filter((key) => !['field', 'direction'].includes(key)),
      [],
      text,
    );
    assert.equal(typeof sort.field, 'string', text);
    assert.ok(sort.direction === undefined || sort.direction === 'asc' || sort.direction === 'desc', text);
  }
}

/** One call of every public operation and helper, with every option that changes the request. */
async function driveEverything(registry: DeviceRegistry): Promise<void> {
  const filter = [
    { field: '/enabled', value: true },
    { field: '/ext/brand', value: 'eclipse*', op: 'eq' as const },
    { field: '/ext/count', value: 15 },
  ];
  const sort = [{ field: '/ext/brand' }, { field: '/status/created', direction: 'desc' as const }];

  await registry.tenants.create();
  await registry.tenants.create(fixture('tenant'), { tenantId: T });
  await registry.tenants.get(T);
  await registry.tenants.update(T, { enabled: false, alias: 'acme-1', 'trust-anchor-group': 'g1' }, { ifMatch: 'etag-1' });
  await registry.tenants.update(T, fixture('tenant'));
  await registry.tenants.search();
  await registry.tenants.search({ pageSize: 10, pageOffset: 1, filter, sort });
  for await (const _tenant of registry.tenants.all({ pageSize: 2, filter })) void _tenant;
  await registry.tenants.modify(T, (tenant) => ({ ...tenant, enabled: false }));
  await registry.tenants.delete(T, { ifMatch: 'etag-1' });
  await registry.tenants.delete(T);

  await registry.devices.create(T);
  await registry.devices.create(T, { ext: { ep: 'IMEI4711' } });
  await registry.devices.create(T, fixture('device'), { deviceId: D });
  await registry.devices.create(T, { memberOf: ['group-1'], authorities: ['auto-provisioning-enabled'] }, { deviceId: 'org.acme:gw-1' });
  await registry.devices.get(T, D);
  await registry.devices.update(T, D, fixture('device'), { ifMatch: 'etag-1' });
  await registry.devices.update(T, D, { enabled: false, 'command-endpoint': { uri: 'https://lamp/{{deviceId}}', headers: { a: 'b' } } });
  await registry.devices.search(T);
  await registry.devices.search(T, { pageSize: 200, pageOffset: 0, filter, sort, isGateway: true });
  await registry.devices.search(T, { isGateway: false });
  for await (const _device of registry.devices.all(T, { pageSize: 2, sort })) void _device;
  await registry.devices.modify(T, D, (device) => ({ ...device, viaGroups: ['group-1'], via: undefined }));
  await registry.devices.delete(T, D, { ifMatch: 'etag-1' });
  await registry.devices.delete(T, D);
  await registry.devices.deleteAll(T);

  const all: Credential[] = [
    {
      type: 'hashed-password',
      'auth-id': 'lamp-1',
      enabled: true,
      secrets: [{ 'pwd-plain': 'Secret-42!', 'not-after': '2030-01-01T00:00:00Z' }],
    },
    {
      type: 'hashed-password',
      'auth-id': 'lamp-2',
      secrets: [{ 'pwd-hash': 'AQIDBAUGBwg=', salt: 'Mq7wFw==', 'hash-function': 'sha-512' }],
    },
    { type: 'psk', 'auth-id': 'lamp-1', secrets: [{ key: 'c2VjcmV0LWtleQ==', comment: 'factory key' }] },
    { type: 'x509-cert', 'auth-id': 'CN=lamp-1,OU=iot,O=ACME,C=DE', secrets: [{ 'not-before': '2024-01-01T00:00:00Z' }] },
    { type: 'x509-cert', cert: 'MIIByjCCAXGg' },
    { type: 'rpk', 'auth-id': 'lamp-1', secrets: [{ key: 'AAEC', algorithm: 'EC' }] },
  ];
  await registry.credentials.get(T, D);
  await registry.credentials.set(T, D, all, { ifMatch: 'etag-1' });
  await registry.credentials.set(T, D, [
    { type: 'hashed-password', 'auth-id': 'lamp-1', secrets: [{ id: '349556ea-4902-47c7-beb0-1009ab693fb4', 'pwd-plain': 'changed-1' }] },
  ]);
  await registry.credentials.clear(T, D);
  for (const hash of ['plain', 'bcrypt', 'sha-256', 'sha-512'] as const) {
    await registry.credentials.setPassword(T, D, 'lamp-1', 'Secret-42!', { hash, bcryptCost: 4 });
  }
  await registry.credentials.setPassword(T, D, 'lamp-1', 'Secret-43!', { mode: 'add', notBefore: new Date(0), comment: 'rollover' });
  await registry.credentials.setPassword(T, D, 'lamp-9', 'Secret-44!');
  await registry.credentials.setPsk(T, D, 'lamp-1', new Uint8Array([1, 2, 3, 4]));
  await registry.credentials.setPsk(T, D, 'lamp-1', 'c2VjcmV0LWtleQ==', { notAfter: '2030-01-01T00:00:00Z' });
  await registry.credentials.setX509(T, D, { subjectDn: 'CN=lamp-1, OU=iot, O=ACME, C=DE' }, { notAfter: '2030-01-01T00:00:00Z' });
  await registry.credentials.setX509(T, D, { subjectDn: 'CN=lamp-2,O=ACME' });
  await registry.credentials.setX509(T, D, { certificatePem: fixtureText('device-cert.pem') });
  await registry.credentials.remove(T, D, 'hashed-password', 'lamp-1');
  await registry.credentials.remove(T, D, 'x509-cert', 'CN=lamp-1,OU=iot,O=ACME,C=DE');
  await registry.credentials.remove(T, D, 'psk', 'absent');
}

describe('registry client contract (Hono device registry v1)', { skip: skipReason() }, () => {
  let contract: Contract;
  let capture: Capture;

  before(async () => {
    nock.disableNetConnect();
    contract = await honoRegistryContract();
    capture = captureRequests(ORIGIN, respond);
    const registry = new DeviceRegistry({ baseUrl: BASE, retry: new ExponentialBackoff({ initialDelayMs: 1, maxDelayMs: 2 }) });
    await driveEverything(registry);
  });

  after(() => capture.stop());

  it('exercises every operation of the spec', () => {
    const seen = new Set(
      capture.requests.map((request) => {
        const template = request.path
          .replace(/^\/v1\/(tenants|devices|credentials)\/[^/]+\/[^/]+$/, '/v1/$1/{t}/{d}')
          .replace(/^\/v1\/(tenants|devices)\/[^/]+$/, '/v1/$1/{t}');
        return `${request.method} ${template}`;
      }),
    );
    assert.deepEqual([...seen].sort(), [
      'DELETE /v1/devices/{t}',
      'DELETE /v1/devices/{t}/{d}',
      'DELETE /v1/tenants/{t}',
      'GET /v1/credentials/{t}/{d}',
      'GET /v1/devices/{t}',
      'GET /v1/devices/{t}/{d}',
      'GET /v1/tenants',
      'GET /v1/tenants/{t}',
      'POST /v1/devices/{t}',
      'POST /v1/devices/{t}/{d}',
      'POST /v1/tenants',
      'POST /v1/tenants/{t}',
      'PUT /v1/credentials/{t}/{d}',
      'PUT /v1/devices/{t}/{d}',
      'PUT /v1/tenants/{t}',
    ]);
  });

  it('every recorded request conforms to the spec', () => {
    assert.ok(capture.requests.length > 50, `only ${capture.requests.length} requests recorded`);
    const failures: string[] = [];
    for (const request of capture.requests) {
      try {
        for (const single of perOccurrence(request)) contract.assertRequest(single);
        assertSearchParameters(request);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('requests carry If-Match when asked, filterJson / sortJson / isGateway as the spec describes them', () => {
    const conditional = capture.requests.filter((request) => request.headers['if-match'] === 'etag-1');
    assert.ok(conditional.some((request) => request.method === 'DELETE'));
    assert.ok(conditional.some((request) => request.method === 'PUT' && request.path.startsWith('/v1/credentials/')));
    const search = capture.requests.find((request) => request.query.isGateway === 'true');
    assert.ok(search);
    assert.deepEqual(search.query.filterJson, [
      '{"field":"/enabled","value":true}',
      '{"field":"/ext/brand","value":"eclipse*","op":"eq"}',
      '{"field":"/ext/count","value":15}',
    ]);
    assert.deepEqual(search.query.sortJson, ['{"field":"/ext/brand"}', '{"field":"/status/created","direction":"desc"}']);
  });

  it('no credentials request carries device-id', () => {
    for (const request of capture.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/v1/credentials/'))) {
      assert.ok(Array.isArray(request.body));
      for (const credential of request.body as Record<string, unknown>[]) assert.equal('device-id' in credential, false);
    }
  });

  it('the fixture responses of the unit tests conform to the response schemas', () => {
    for (const { name, method, path, status } of RESPONSE_FIXTURES) {
      contract.assertResponse({ method, path }, status, fixture(name));
    }
  });

  // Known spec imprecision (reported, not hidden): in patch mode Hono strips the key from PSK secrets on
  // GET (PskCredential.stripPrivateInfo) and expects them back by `id` on PUT, but the spec's PSKSecret
  // requires `key`. A PSK secret referred to only by its id therefore fails the spec although Hono
  // accepts it. These two assertions pin that down so that a spec fix shows up here.
  it('spec imprecision: PSK secrets without key (patch mode) are flagged by the spec', () => {
    assert.throws(() =>
      contract.assertResponse({ method: 'GET', path: '/v1/credentials/org.acme/lamp' }, 200, fixture('credentials-psk-patch-mode')),
    );
    assert.throws(() =>
      contract.assertRequest({
        method: 'PUT',
        path: '/v1/credentials/org.acme/lamp',
        query: {},
        headers: { 'content-type': 'application/json' },
        body: fixture('credentials-psk-patch-mode'),
      }),
    );
  });
});
