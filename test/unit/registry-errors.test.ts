// Every documented error status of every operation of the spec, mapped to its error class, with the
// registry's hints.
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  type HttpError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  UnauthorizedError,
  noRetry,
} from '../../src/core/index.js';
import { HttpClient } from '../../src/core/http.js';
import { DeviceRegistry } from '../../src/registry/index.js';
import { BASE, JSON_HEADERS, fixture, newRegistry } from '../fixtures/registry/support.js';

type ErrorClass = new (...args: never[]) => HttpError;

const CLASSES: Record<number, ErrorClass> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  412: PreconditionFailedError,
  413: PayloadTooLargeError,
};

const T = 'org.acme';
const D = 'org.acme:lamp-1';
const DP = '/devices/org.acme/org.acme%3Alamp-1';
const CP = '/credentials/org.acme/org.acme%3Alamp-1';

interface Operation {
  name: string;
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  statuses: number[];
  call: (registry: DeviceRegistry) => Promise<unknown>;
}

// Statuses as documented per operationId in device-registry-v1.yaml.
const OPERATIONS: Operation[] = [
  { name: 'createTenant', method: 'post', path: '/tenants', statuses: [400, 401, 403, 409, 413], call: (r) => r.tenants.create() },
  {
    name: 'createTenantWithId',
    method: 'post',
    path: '/tenants/org.acme',
    statuses: [400, 401, 403, 409, 413],
    call: (r) => r.tenants.create({}, { tenantId: T }),
  },
  {
    name: 'searchTenants',
    method: 'get',
    path: '/tenants',
    statuses: [400, 401, 404],
    call: (r) => r.tenants.search(undefined, { emptyOnNotFound: false }),
  },
  { name: 'getTenant', method: 'get', path: '/tenants/org.acme', statuses: [400, 401, 404], call: (r) => r.tenants.get(T) },
  {
    name: 'updateTenant',
    method: 'put',
    path: '/tenants/org.acme',
    statuses: [400, 401, 403, 404, 409, 412, 413],
    call: (r) => r.tenants.update(T, { enabled: true }, { ifMatch: 'v1' }),
  },
  {
    name: 'deleteTenant',
    method: 'delete',
    path: '/tenants/org.acme',
    statuses: [401, 403, 404, 412],
    call: (r) => r.tenants.delete(T, { ifMatch: 'v1' }),
  },
  {
    name: 'createDeviceRegistration',
    method: 'post',
    path: '/devices/org.acme',
    statuses: [400, 401, 403, 404, 413],
    call: (r) => r.devices.create(T),
  },
  {
    name: 'searchDevicesForTenant',
    method: 'get',
    path: '/devices/org.acme',
    statuses: [400, 401, 404],
    call: (r) => r.devices.search(T, undefined, { emptyOnNotFound: false }),
  },
  { name: 'deleteDevicesOfTenant', method: 'delete', path: '/devices/org.acme', statuses: [400, 401], call: (r) => r.devices.deleteAll(T) },
  {
    name: 'createDeviceRegistrationWithId',
    method: 'post',
    path: DP,
    statuses: [400, 401, 403, 404, 409, 413],
    call: (r) => r.devices.create(T, {}, { deviceId: D }),
  },
  { name: 'getRegistration', method: 'get', path: DP, statuses: [400, 401, 404], call: (r) => r.devices.get(T, D) },
  {
    name: 'updateRegistration',
    method: 'put',
    path: DP,
    statuses: [400, 401, 403, 404, 412, 413],
    call: (r) => r.devices.update(T, D, { enabled: false }, { ifMatch: 'v1' }),
  },
  { name: 'deleteRegistration', method: 'delete', path: DP, statuses: [401, 403, 404, 412], call: (r) => r.devices.delete(T, D) },
  { name: 'getAllCredentials', method: 'get', path: CP, statuses: [400, 401, 404], call: (r) => r.credentials.get(T, D) },
  {
    name: 'setAllCredentials',
    method: 'put',
    path: CP,
    statuses: [400, 401, 403, 404, 409, 412, 413],
    call: (r) => r.credentials.set(T, D, [{ type: 'hashed-password', 'auth-id': 'lamp-1', secrets: [{ 'pwd-plain': 'abcd-1234' }] }]),
  },
];

function errorBody(status: number): unknown {
  switch (status) {
    case 400:
      return fixture('error-400');
    case 404:
      return fixture('error-404');
    case 409:
      return fixture('error-409-tenant');
    case 412:
      return fixture('error-412');
    case 413:
      return fixture('error-413');
    default:
      return { error: 'not allowed' };
  }
}

describe('registry error mapping', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  for (const operation of OPERATIONS) {
    for (const status of operation.statuses) {
      it(`${operation.name}: ${status} → ${CLASSES[status]?.name}`, async () => {
        const registry = nock(BASE);
        const scope = registry[operation.method](operation.path)
          .query(true)
          .reply(status, errorBody(status) as nock.Body, JSON_HEADERS);
        const expected = CLASSES[status];
        assert.ok(expected);
        await assert.rejects(operation.call(newRegistry()), (error: unknown) => {
          assert.ok(error instanceof expected, `got ${String(error)}`);
          assert.equal(error.status, status);
          assert.equal(error.method, operation.method.toUpperCase());
          assert.ok(error.hint, 'every documented status gets a hint');
          return true;
        });
        scope.done();
      });
    }
  }

  it('404 explains that Hono answers 404 for 403', async () => {
    nock(BASE).get(DP).reply(404, fixture('error-404'), JSON_HEADERS);
    await assert.rejects(newRegistry().devices.get(T, D), (error: NotFoundError) => {
      assert.equal(error.hint, 'The tenant or device does not exist — or you may not see it (Hono answers 404 for 403).');
      assert.equal(error.upstreamCode, 'no such device');
      return true;
    });
  });

  it('409 says the tenant / device already exists', async () => {
    nock(BASE).post('/tenants/org.acme').reply(409, fixture('error-409-tenant'), JSON_HEADERS);
    await assert.rejects(newRegistry().tenants.create({}, { tenantId: T }), (error: ConflictError) =>
      /already exists/.test(error.hint ?? ''),
    );
    nock(BASE).post(DP).reply(409, { error: 'device already exists' }, JSON_HEADERS);
    await assert.rejects(newRegistry().devices.create(T, {}, { deviceId: D }), (error: ConflictError) => {
      assert.match(error.hint ?? '', /device with this ID already exists/);
      return true;
    });
    nock(BASE).put(CP).reply(409, { error: 'credentials already exist' }, JSON_HEADERS);
    await assert.rejects(newRegistry().credentials.clear(T, D), (error: ConflictError) => /already exists/.test(error.hint ?? ''));
  });

  it("409 on a tenant update keeps Hono's extra error fields in the body", async () => {
    nock(BASE).put('/tenants/org.acme').reply(409, fixture('error-409-ca'), JSON_HEADERS);
    await assert.rejects(newRegistry().tenants.update(T, {}), (error: ConflictError) => {
      assert.deepEqual(error.body, fixture('error-409-ca'));
      return true;
    });
  });

  it('412 tells to re-read or use modify()', async () => {
    nock(BASE).put(DP).reply(412, fixture('error-412'), JSON_HEADERS);
    await assert.rejects(newRegistry().devices.update(T, D, {}, { ifMatch: 'old' }), (error: PreconditionFailedError) => {
      assert.match(error.hint ?? '', /changed since you read it/);
      assert.match(error.hint ?? '', /modify\(\)/);
      return true;
    });
  });

  it("400 repeats Hono's error text in the hint", async () => {
    nock(BASE).post('/tenants').reply(400, fixture('error-400'), JSON_HEADERS);
    await assert.rejects(newRegistry().tenants.create(), (error: BadRequestError) => {
      assert.match(error.hint ?? '', /request does not contain a valid JSON object/);
      assert.match(error.message, /answered 400 \(request does not contain a valid JSON object\)/);
      return true;
    });
  });

  it('hints are added also when an HttpClient without hint provider is injected', async () => {
    const http = new HttpClient({ baseUrl: BASE, service: 'shared', retry: noRetry });
    const registry = new DeviceRegistry({ baseUrl: 'ignored', http });
    assert.equal(registry.http, http);
    nock(BASE).get('/tenants/org.acme').reply(404, fixture('error-404'), JSON_HEADERS);
    await assert.rejects(registry.tenants.get(T), (error: NotFoundError) => {
      assert.ok(error instanceof NotFoundError);
      assert.match(error.hint ?? '', /Hono answers 404 for 403/);
      return true;
    });
  });
});
