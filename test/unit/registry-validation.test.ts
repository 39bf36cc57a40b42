// Bad input raises ValidationError before anything is sent: no interceptors are installed and net
// connect is disabled, and every request nock sees is counted.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { ValidationError } from '../../src/core/index.js';
import type { Credential, CredentialType, DeviceRegistry, DeviceSearchQuery, RegistrySearchQuery } from '../../src/registry/index.js';
import { fixtureText, newRegistry } from '../fixtures/registry/support.js';

const T = 'org.acme';
const D = 'org.acme:lamp-1';

let attempted = 0;
const countAttempt = () => {
  attempted += 1;
};

/** Asserts `run` fails with a ValidationError whose field matches `field`. */
async function rejectsValidation(run: (registry: DeviceRegistry) => Promise<unknown> | unknown, field: RegExp | string): Promise<void> {
  const registry = newRegistry();
  await assert.rejects(
    async () => {
      await run(registry);
    },
    (error: unknown) => {
      assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
      if (typeof field === 'string') assert.equal(error.field, field);
      else assert.match(error.field, field);
      return true;
    },
  );
}

const pw = (secrets: unknown[]): Credential[] => [{ type: 'hashed-password', 'auth-id': 'lamp-1', secrets } as Credential];

describe('registry input validation (no request is sent)', () => {
  before(() => {
    nock.disableNetConnect();
    nock.emitter.on('no match', countAttempt);
  });
  afterEach(() => {
    assert.equal(attempted, 0, 'a request was attempted');
    assert.deepEqual(nock.pendingMocks(), []);
  });
  after(() => {
    nock.emitter.removeListener('no match', countAttempt);
  });

  describe('IDs', () => {
    const badTenants = ['', 'org acme', 'org/acme', 'org:acme', 'ümlaut'];
    for (const tenant of badTenants) {
      it(`tenant ID ${JSON.stringify(tenant)}`, async () => {
        await rejectsValidation((r) => r.tenants.get(tenant), 'tenantId');
        await rejectsValidation((r) => r.devices.search(tenant), 'tenantId');
        await rejectsValidation((r) => r.credentials.get(tenant, D), 'tenantId');
        await rejectsValidation((r) => r.tenants.create({}, { tenantId: tenant }), 'options.tenantId');
      });
    }

    for (const device of ['', 'org.acme/lamp', 'lamp 1', 'lamp#1']) {
      it(`device ID ${JSON.stringify(device)}`, async () => {
        await rejectsValidation((r) => r.devices.get(T, device), 'deviceId');
        await rejectsValidation((r) => r.devices.update(T, device, {}), 'deviceId');
        await rejectsValidation((r) => r.devices.delete(T, device), 'deviceId');
        await rejectsValidation((r) => r.credentials.setPassword(T, device, 'lamp-1', 'pass-1234'), 'deviceId');
        await rejectsValidation((r) => r.devices.create(T, {}, { deviceId: device }), 'options.deviceId');
      });
    }

    for (const authId of ['lamp:1', 'lamp-1@org.acme', '', 'lamp 1']) {
      it(`auth-id ${JSON.stringify(authId)}`, async () => {
        await rejectsValidation((r) => r.credentials.setPassword(T, D, authId, 'pass-1234'), 'authId');
        await rejectsValidation((r) => r.credentials.setPsk(T, D, authId, 'c2VjcmV0'), 'authId');
        await rejectsValidation((r) => r.credentials.remove(T, D, 'hashed-password', authId), 'authId');
        await rejectsValidation(
          (r) => r.credentials.set(T, D, [{ type: 'psk', 'auth-id': authId, secrets: [{ key: 'c2VjcmV0' }] }]),
          'credentials[0].auth-id',
        );
      });
    }

    it('auth-id hint explains the "@" / ":" rule', async () => {
      await assert.rejects(newRegistry().credentials.setPassword(T, D, 'a@b', 'pass-1234'), (error: ValidationError) =>
        /auth-id@tenant|"<auth-id>@<tenant>"/.test(error.hint ?? ''),
      );
    });
  });

  describe('credentials.set()', () => {
    const cases: [string, unknown, string | RegExp][] = [
      ['not an array', { type: 'psk' }, 'credentials'],
      ['an empty array', [], 'credentials'],
      ['an entry that is not an object', ['psk'], 'credentials[0]'],
      ['unknown type', [{ type: 'password', 'auth-id': 'lamp-1', secrets: [{ 'pwd-plain': 'x-pass' }] }], 'credentials[0].type'],
      ['custom type without allowCustomTypes', [{ type: 'acme-token', 'auth-id': 'lamp-1', secrets: [{}] }], 'credentials[0].type'],
      [
        'device-id inside a credential',
        [{ type: 'psk', 'auth-id': 'lamp-1', 'device-id': D, secrets: [{ key: 'c2VjcmV0' }] }],
        'credentials[0].device-id',
      ],
      ['missing auth-id', [{ type: 'psk', secrets: [{ key: 'c2VjcmV0' }] }], 'credentials[0].auth-id'],
      ['missing secrets', [{ type: 'psk', 'auth-id': 'lamp-1' }], 'credentials[0].secrets'],
      ['empty secrets', pw([]), 'credentials[0].secrets'],
      ['a secret with neither pwd-plain nor pwd-hash', pw([{ comment: 'nothing' }]), 'credentials[0].secrets[0]'],
      ['an empty pwd-plain', pw([{ 'pwd-plain': '' }]), 'credentials[0].secrets[0].pwd-plain'],
      ['pwd-hash without hash-function', pw([{ 'pwd-hash': 'AQIDBAUGBwg=' }]), 'credentials[0].secrets[0].hash-function'],
      ['unknown hash-function', pw([{ 'pwd-hash': 'AQIDBAUGBwg=', 'hash-function': 'md5' }]), 'credentials[0].secrets[0].hash-function'],
      [
        'a $2b$ bcrypt hash',
        pw([{ 'hash-function': 'bcrypt', 'pwd-hash': '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy' }]),
        'credentials[0].secrets[0].pwd-hash',
      ],
      [
        'bcrypt cost above 10',
        pw([{ 'hash-function': 'bcrypt', 'pwd-hash': '$2a$12$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy' }]),
        'credentials[0].secrets[0].pwd-hash',
      ],
      ['sha-256 hash not Base64', pw([{ 'hash-function': 'sha-256', 'pwd-hash': 'not base64!' }]), 'credentials[0].secrets[0].pwd-hash'],
      ['salt not Base64', pw([{ 'hash-function': 'sha-256', 'pwd-hash': 'AQIDBAUGBwg=', salt: '%%%' }]), 'credentials[0].secrets[0].salt'],
      ['an unknown secret property', pw([{ password: 'typo-field' }]), 'credentials[0].secrets[0].password'],
      ['an invalid not-after', pw([{ 'pwd-plain': 'x-pass', 'not-after': 'tomorrow' }]), 'credentials[0].secrets[0].not-after'],
      ['a psk secret without key', [{ type: 'psk', 'auth-id': 'lamp-1', secrets: [{ comment: 'x' }] }], 'credentials[0].secrets[0]'],
      [
        'a psk key that is not Base64',
        [{ type: 'psk', 'auth-id': 'lamp-1', secrets: [{ key: 'plain text' }] }],
        'credentials[0].secrets[0].key',
      ],
      [
        'an rpk secret without key or cert',
        [{ type: 'rpk', 'auth-id': 'lamp-1', secrets: [{ algorithm: 'EC' }] }],
        'credentials[0].secrets[0]',
      ],
      ['an x509 auth-id that is no DN', [{ type: 'x509-cert', 'auth-id': 'lamp-1' }], 'credentials[0].auth-id'],
      ['an x509 credential with two secrets', [{ type: 'x509-cert', 'auth-id': 'CN=a', secrets: [{}, {}] }], 'credentials[0].secrets'],
      ['an x509 cert that is not Base64', [{ type: 'x509-cert', cert: '-----BEGIN' }], 'credentials[0].cert'],
      [
        'an unknown credential property',
        [{ type: 'psk', 'auth-id': 'lamp-1', comment: 'x', secrets: [{ key: 'c2VjcmV0' }] }],
        'credentials[0].comment',
      ],
      [
        'the same type and auth-id twice',
        [
          { type: 'psk', 'auth-id': 'lamp-1', secrets: [{ key: 'c2VjcmV0' }] },
          { type: 'psk', 'auth-id': 'lamp-1', secrets: [{ key: 'c2VjcmV0' }] },
        ],
        'credentials[1]',
      ],
      [
        'the same x509 subject twice (after normalisation)',
        [
          { type: 'x509-cert', 'auth-id': 'CN=a,O=b' },
          { type: 'x509-cert', 'auth-id': 'cn=a, o=b' },
        ],
        'credentials[1]',
      ],
    ];
    for (const [name, credentials, field] of cases) {
      it(name, async () => {
        await rejectsValidation((r) => r.credentials.set(T, D, credentials as Credential[]), field);
      });
    }

    it('ifMatch must be a non-empty string', async () => {
      await rejectsValidation((r) => r.credentials.set(T, D, pw([{ 'pwd-plain': 'x-pass' }]), { ifMatch: '' }), 'options.ifMatch');
    });
  });

  describe('credential helpers', () => {
    it('setPassword(): empty password, unknown hash, bcrypt cost out of range, too long for bcrypt, bad mode, bad dates', async () => {
      await rejectsValidation((r) => r.credentials.setPassword(T, D, 'lamp-1', ''), 'password');
      await rejectsValidation((r) => r.credentials.setPassword(T, D, 'lamp-1', 'pass-1234', { hash: 'md5' as never }), 'hash');
      await rejectsValidation(
        (r) => r.credentials.setPassword(T, D, 'lamp-1', 'pass-1234', { hash: 'bcrypt', bcryptCost: 11 }),
        'bcryptCost',
      );
      await rejectsValidation(
        (r) => r.credentials.setPassword(T, D, 'lamp-1', 'pass-1234', { hash: 'bcrypt', bcryptCost: 3 }),
        'bcryptCost',
      );
      await rejectsValidation((r) => r.credentials.setPassword(T, D, 'lamp-1', 'pass-1234', { bcryptCost: 10.5 }), 'bcryptCost');
      await rejectsValidation((r) => r.credentials.setPassword(T, D, 'lamp-1', 'ü'.repeat(40), { hash: 'bcrypt' }), 'password');
      await rejectsValidation((r) => r.credentials.setPassword(T, D, 'lamp-1', 'pass-1234', { mode: 'merge' as never }), 'options.mode');
      await rejectsValidation(
        (r) => r.credentials.setPassword(T, D, 'lamp-1', 'pass-1234', { notBefore: '2024-13-01' }),
        'options.notBefore',
      );
      await rejectsValidation(
        (r) => r.credentials.setPassword(T, D, 'lamp-1', 'pass-1234', { notAfter: new Date('x') }),
        'options.notAfter',
      );
      await rejectsValidation(
        (r) =>
          r.credentials.setPassword(T, D, 'lamp-1', 'pass-1234', { notBefore: '2030-01-01T00:00:00Z', notAfter: '2029-01-01T00:00:00Z' }),
        'options.notAfter',
      );
      await rejectsValidation((r) => r.credentials.setPassword(T, D, 'lamp-1', 'pass-1234', { maxAttempts: 0 }), 'options.maxAttempts');
      await rejectsValidation((r) => r.credentials.setPassword(T, D, 'lamp-1', 'pass-1234', { timeoutMs: -5 }), 'options.timeoutMs');
    });

    it('setPsk(): empty bytes, a key that is not Base64', async () => {
      await rejectsValidation((r) => r.credentials.setPsk(T, D, 'lamp-1', new Uint8Array()), 'key');
      await rejectsValidation((r) => r.credentials.setPsk(T, D, 'lamp-1', 'not base64!'), 'key');
      await rejectsValidation((r) => r.credentials.setPsk(T, D, 'lamp-1', ''), 'key');
    });

    it('setX509(): neither or both identities, a broken DN, a broken PEM, validity together with a certificate', async () => {
      const pem = fixtureText('device-cert.pem');
      await rejectsValidation((r) => r.credentials.setX509(T, D, {} as never), 'identity');
      await rejectsValidation((r) => r.credentials.setX509(T, D, { subjectDn: 'CN=a', certificatePem: pem } as never), 'identity');
      await rejectsValidation((r) => r.credentials.setX509(T, D, { subjectDn: 'lamp-1' }), 'identity.subjectDn');
      await rejectsValidation((r) => r.credentials.setX509(T, D, { subjectDn: '' }), 'identity.subjectDn');
      await rejectsValidation((r) => r.credentials.setX509(T, D, { certificatePem: 'garbage' }), 'identity.certificatePem');
      await rejectsValidation(
        (r) => r.credentials.setX509(T, D, { certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }),
        'identity.certificatePem',
      );
      await rejectsValidation(
        (r) => r.credentials.setX509(T, D, { certificatePem: pem }, { notAfter: '2030-01-01T00:00:00Z' }),
        'options.notBefore',
      );
    });

    it('remove(): unknown type, custom type without allowCustomTypes, a broken DN', async () => {
      await rejectsValidation((r) => r.credentials.remove(T, D, 'x509' as CredentialType, 'CN=a'), 'type');
      await rejectsValidation((r) => r.credentials.remove(T, D, 'acme-token' as CredentialType, 'lamp-1'), 'type');
      await rejectsValidation((r) => r.credentials.remove(T, D, 'x509-cert', 'no dn here'), 'authId');
    });
  });

  describe('search queries', () => {
    const cases: [string, RegistrySearchQuery | DeviceSearchQuery, string][] = [
      ['pageSize 0', { pageSize: 0 }, 'query.pageSize'],
      ['pageSize 201', { pageSize: 201 }, 'query.pageSize'],
      ['pageSize 1.5', { pageSize: 1.5 }, 'query.pageSize'],
      ['pageOffset -1', { pageOffset: -1 }, 'query.pageOffset'],
      ['filter not an array', { filter: { field: '/enabled', value: true } as never }, 'query.filter'],
      ['filter field without leading slash', { filter: [{ field: 'enabled', value: true }] }, 'query.filter[0].field'],
      ['filter field with a bad ~ escape', { filter: [{ field: '/a~2b', value: 1 }] }, 'query.filter[0].field'],
      ['filter value an object', { filter: [{ field: '/ext', value: {} as never }] }, 'query.filter[0].value'],
      ['filter value NaN', { filter: [{ field: '/ext/n', value: Number.NaN }] }, 'query.filter[0].value'],
      ['filter op other than eq', { filter: [{ field: '/enabled', value: true, op: 'ne' as never }] }, 'query.filter[0].op'],
      ['sort direction', { sort: [{ field: '/ext/brand', direction: 'up' as never }] }, 'query.sort[0].direction'],
      ['sort field', { sort: [{ field: '' }] }, 'query.sort[0].field'],
      ['unknown option', { limit: 5 } as never, 'query.limit'],
    ];
    for (const [name, query, field] of cases) {
      it(name, async () => {
        await rejectsValidation((r) => r.tenants.search(query), field);
        await rejectsValidation((r) => r.devices.search(T, query), field);
        await rejectsValidation((r) => r.devices.all(T, query), field);
      });
    }

    it('isGateway only for devices, and only as a boolean', async () => {
      await rejectsValidation((r) => r.tenants.search({ isGateway: true } as RegistrySearchQuery), 'query.isGateway');
      await rejectsValidation((r) => r.devices.search(T, { isGateway: 'yes' as never }), 'query.isGateway');
    });

    it('all() throws at the call, before iterating', () => {
      assert.throws(() => newRegistry().tenants.all({ pageSize: 500 }), ValidationError);
    });

    it('emptyOnNotFound must be a boolean', async () => {
      await rejectsValidation((r) => r.tenants.search(undefined, { emptyOnNotFound: 'no' as never }), 'options.emptyOnNotFound');
    });
  });

  describe('tenant and device bodies', () => {
    it('tenants', async () => {
      await rejectsValidation((r) => r.tenants.create([] as never), 'tenant');
      await rejectsValidation((r) => r.tenants.update(T, null as never), 'tenant');
      await rejectsValidation((r) => r.tenants.create({ alias: 'Bad_Alias' }), 'tenant.alias');
      await rejectsValidation((r) => r.tenants.create({ adapters: [] }), 'tenant.adapters');
      await rejectsValidation(
        (r) => r.tenants.create({ adapters: [{ type: 'hono-mqtt' }, { type: 'hono-mqtt' }] }),
        'tenant.adapters[1].type',
      );
      await rejectsValidation((r) => r.tenants.create({ adapters: [{} as never] }), 'tenant.adapters[0].type');
      await rejectsValidation((r) => r.tenants.create({ enabled: 'yes' as never }), 'tenant.enabled');
      await rejectsValidation((r) => r.tenants.create({ 'minimum-message-size': -1 }), 'tenant.minimum-message-size');
      await rejectsValidation((r) => r.tenants.create({ ext: 'x' as never }), 'tenant.ext');
      await rejectsValidation((r) => r.tenants.create({ 'trusted-ca': {} as never }), 'tenant.trusted-ca');
    });

    it('devices', async () => {
      await rejectsValidation((r) => r.devices.create(T, 'device' as never), 'device');
      await rejectsValidation((r) => r.devices.create(T, { via: ['gw 1'] }), 'device.via[0]');
      await rejectsValidation((r) => r.devices.create(T, { via: 'gw-1' as never }), 'device.via');
      await rejectsValidation((r) => r.devices.create(T, { memberOf: ['g1'], via: ['gw-1'] }), 'device.memberOf');
      await rejectsValidation((r) => r.devices.update(T, D, { 'command-endpoint': { uri: '' } }), 'device.command-endpoint.uri');
      await rejectsValidation((r) => r.devices.update(T, D, { authorities: [1] as never }), 'device.authorities[0]');
    });

    it('modify() needs a function', async () => {
      await rejectsValidation((r) => r.tenants.modify(T, 'x' as never), 'change');
      await rejectsValidation((r) => r.devices.modify(T, D, undefined as never), 'change');
    });

    it('per-call options', async () => {
      await rejectsValidation((r) => r.tenants.get(T, { timeoutMs: 0 }), 'options.timeoutMs');
      await rejectsValidation((r) => r.tenants.get(T, { headers: { a: 1 as never } }), 'options.headers.a');
      await rejectsValidation((r) => r.tenants.get(T, { signal: {} as never }), 'options.signal');
      await rejectsValidation((r) => r.tenants.delete(T, { ifMatch: 'a\r\nb' }), 'options.ifMatch');
      // axios stripped CR and LF from header values silently (`a\r\nb` went out as `ab`).
      await rejectsValidation((r) => r.tenants.get(T, { headers: { 'x-a': 'a\r\nb' } }), 'options.headers.x-a');
      await rejectsValidation((r) => r.devices.get(T, D, { headers: { 'x-a': 'a\nb' } }), 'options.headers.x-a');
      await rejectsValidation((r) => r.credentials.get(T, D, { headers: { 'x-a': '温度' } }), 'options.headers.x-a');
      await rejectsValidation((r) => r.tenants.get(T, { headers: { 'x a': 'v' } }), 'options.headers["x a"]');
    });
  });
});
