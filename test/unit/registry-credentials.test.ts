import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { afterEach, before, describe, it } from 'node:test';
import { compare } from 'bcryptjs';
import nock from 'nock';
import { PreconditionFailedError } from '../../src/core/index.js';
import type { Credential, PasswordSecret } from '../../src/registry/index.js';
import { BASE, JSON_HEADERS, fixture, fixtureText, newRegistry } from '../fixtures/registry/support.js';

const TENANT = 'org.acme';
const DEVICE = 'org.acme:lamp-1';
const PATH = '/credentials/org.acme/org.acme%3Alamp-1';

/** Answers the GET with `current` (ETag `etag`) and records the body of the following PUT. */
function readThenWrite(current: unknown, etag = 'c1', newEtag = 'c2'): { body: () => Credential[]; scope: nock.Scope } {
  let body: Credential[] | undefined;
  const scope = nock(BASE)
    .get(PATH)
    .reply(200, current as nock.Body, { ...JSON_HEADERS, ETag: etag })
    .put(PATH, (sent: Credential[]) => {
      body = sent;
      return true;
    })
    .matchHeader('if-match', etag)
    .reply(204, '', { ETag: newEtag });
  return {
    scope,
    body: () => {
      assert.ok(body, 'no PUT was sent');
      return body;
    },
  };
}

function passwordSecretOf(body: Credential[], authId = 'lamp-1'): PasswordSecret[] {
  const credential = body.find((c) => c.type === 'hashed-password' && c['auth-id'] === authId);
  assert.ok(credential, `no hashed-password credential for ${authId}`);
  return credential.secrets as PasswordSecret[];
}

describe('registry credentials', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('get() returns the whole array and its ETag', async () => {
    nock(BASE)
      .get(PATH)
      .reply(200, fixture('credentials'), { ...JSON_HEADERS, ETag: 'c1' });
    const { value, etag } = await newRegistry().credentials.get(TENANT, DEVICE);
    assert.equal(etag, 'c1');
    assert.deepEqual(value, fixture('credentials'));
  });

  it('set() PUTs the array as given, with If-Match, and returns the new ETag', async () => {
    const credentials: Credential[] = [
      { type: 'hashed-password', 'auth-id': 'lamp-1', secrets: [{ 'pwd-plain': 'Secret-42!' }] },
      { type: 'psk', 'auth-id': 'lamp-1', secrets: [{ key: 'c2VjcmV0LWtleQ==' }] },
      { type: 'x509-cert', 'auth-id': 'CN=lamp-1,O=ACME', secrets: [{ 'not-after': '2030-01-01T00:00:00Z' }] },
      { type: 'rpk', 'auth-id': 'lamp-1', secrets: [{ key: 'AAEC', algorithm: 'EC' }] },
    ];
    const scope = nock(BASE, { reqheaders: { 'if-match': 'c1', 'content-type': 'application/json' } })
      .put(PATH, credentials as unknown as nock.RequestBodyMatcher)
      .reply(204, '', { ETag: 'c2' });
    assert.deepEqual(await newRegistry().credentials.set(TENANT, DEVICE, credentials, { ifMatch: 'c1' }), { etag: 'c2' });
    scope.done();
  });

  it('set() accepts custom (generic) credential types with allowCustomTypes', async () => {
    const credentials: Credential[] = [{ type: 'acme-token', 'auth-id': 'lamp-1', secrets: [{ token: 'opaque-value' }] }];
    const scope = nock(BASE)
      .put(PATH, credentials as unknown as nock.RequestBodyMatcher)
      .reply(204, '', { ETag: 'c2' });
    await newRegistry().credentials.set(TENANT, DEVICE, credentials, { allowCustomTypes: true });
    scope.done();
  });

  it('clear() PUTs an empty array', async () => {
    const scope = nock(BASE).put(PATH, []).reply(204, '', { ETag: 'c9' });
    assert.deepEqual(await newRegistry().credentials.clear(TENANT, DEVICE), { etag: 'c9' });
    scope.done();
  });

  describe('setPassword()', () => {
    it('replace (default): the credential gets just the new secret; other credentials keep their secret ids', async () => {
      const exchange = readThenWrite(fixture('credentials'));
      const result = await newRegistry().credentials.setPassword(TENANT, DEVICE, 'lamp-1', 'n3w-Passw0rd');
      assert.deepEqual(result, { etag: 'c2' });
      const body = exchange.body();
      const original = fixture<Credential[]>('credentials');
      assert.deepEqual(body, [{ ...original[0], secrets: [{ 'pwd-plain': 'n3w-Passw0rd' }] }, original[1]]);
      exchange.scope.done();
    });

    it('add: keeps the existing secrets (by id) and appends the new one', async () => {
      const exchange = readThenWrite(fixture('credentials'));
      await newRegistry().credentials.setPassword(TENANT, DEVICE, 'lamp-1', 'second-pass', {
        mode: 'add',
        notAfter: new Date('2030-01-01T00:00:00Z'),
        comment: 'rollover 2030',
      });
      const secrets = passwordSecretOf(exchange.body());
      assert.deepEqual(secrets, [
        { id: '349556ea-4902-47c7-beb0-1009ab693fb4', 'not-after': '2027-12-24T19:00:00Z' },
        { id: '5f1b3a1c-2e9d-4c7a-9a0e-0d7f3c2b1a99', comment: 'rollover' },
        { 'not-after': '2030-01-01T00:00:00.000Z', comment: 'rollover 2030', 'pwd-plain': 'second-pass' },
      ]);
    });

    it('creates the credential when the device has none of that auth-id', async () => {
      const exchange = readThenWrite([]);
      await newRegistry().credentials.setPassword(TENANT, DEVICE, 'lamp-2', 'pass-for-lamp-2');
      assert.deepEqual(exchange.body(), [{ type: 'hashed-password', 'auth-id': 'lamp-2', secrets: [{ 'pwd-plain': 'pass-for-lamp-2' }] }]);
    });

    it('never sends device-id, even if the registry returned one', async () => {
      const withDeviceId = fixture<Record<string, unknown>[]>('credentials').map((c) => ({ ...c, 'device-id': DEVICE }));
      const exchange = readThenWrite(withDeviceId);
      await newRegistry().credentials.setPassword(TENANT, DEVICE, 'lamp-1', 'whatever-1');
      for (const credential of exchange.body()) assert.equal('device-id' in credential, false);
    });

    it('bcrypt: a $2a$ hash with cost 10 by default that verifies the password', async () => {
      const exchange = readThenWrite([]);
      await newRegistry().credentials.setPassword(TENANT, DEVICE, 'lamp-1', 'bcrypt-me-please', { hash: 'bcrypt' });
      const [secret] = passwordSecretOf(exchange.body());
      assert.ok(secret);
      assert.equal(secret['hash-function'], 'bcrypt');
      assert.match(secret['pwd-hash'] ?? '', /^\$2a\$10\$[./A-Za-z0-9]{53}$/);
      assert.equal(secret['pwd-plain'], undefined);
      assert.equal(await compare('bcrypt-me-please', secret['pwd-hash'] ?? ''), true);
    });

    it('bcrypt with bcryptCost 4', async () => {
      const exchange = readThenWrite([]);
      await newRegistry().credentials.setPassword(TENANT, DEVICE, 'lamp-1', 'cheap-hash', { hash: 'bcrypt', bcryptCost: 4 });
      const [secret] = passwordSecretOf(exchange.body());
      assert.match(secret?.['pwd-hash'] ?? '', /^\$2a\$04\$/);
    });

    for (const [hash, algorithm, length] of [
      ['sha-256', 'sha256', 32],
      ['sha-512', 'sha512', 64],
    ] as const) {
      it(`${hash}: pwd-hash = Base64(${hash}(salt ‖ UTF-8 password)) with a random 16-byte salt`, async () => {
        const exchange = readThenWrite([]);
        const password = 'pässwörd-ünïcode';
        await newRegistry().credentials.setPassword(TENANT, DEVICE, 'lamp-1', password, { hash });
        const [secret] = passwordSecretOf(exchange.body());
        assert.ok(secret);
        assert.equal(secret['hash-function'], hash);
        const salt = Buffer.from(secret.salt ?? '', 'base64');
        assert.equal(salt.length, 16);
        const expected = createHash(algorithm).update(salt).update(Buffer.from(password, 'utf8')).digest();
        assert.equal(expected.length, length);
        assert.equal(secret['pwd-hash'], expected.toString('base64'));
        assert.equal(secret['pwd-plain'], undefined);
      });
    }

    it('on 412 it re-reads and writes again with the new ETag', async () => {
      const puts: string[] = [];
      const scope = nock(BASE)
        .get(PATH)
        .reply(200, [], { ...JSON_HEADERS, ETag: 'c1' })
        .put(PATH)
        .matchHeader('if-match', 'c1')
        .reply(412, fixture('error-412'), JSON_HEADERS)
        .get(PATH)
        .reply(200, fixture('credentials'), { ...JSON_HEADERS, ETag: 'c2' })
        .put(PATH, (body: Credential[]) => {
          puts.push(JSON.stringify(body.map((c) => c.type)));
          return true;
        })
        .matchHeader('if-match', 'c2')
        .reply(204, '', { ETag: 'c3' });
      assert.deepEqual(await newRegistry().credentials.setPassword(TENANT, DEVICE, 'lamp-1', 'retry-pass'), { etag: 'c3' });
      assert.deepEqual(puts, ['["hashed-password","x509-cert"]']);
      scope.done();
    });

    it('gives up with PreconditionFailedError after maxAttempts', async () => {
      const scope = nock(BASE)
        .get(PATH)
        .times(2)
        .reply(200, [], { ...JSON_HEADERS, ETag: 'c1' })
        .put(PATH)
        .times(2)
        .reply(412, fixture('error-412'), JSON_HEADERS);
      await assert.rejects(
        newRegistry().credentials.setPassword(TENANT, DEVICE, 'lamp-1', 'retry-pass', { maxAttempts: 2 }),
        PreconditionFailedError,
      );
      scope.done();
    });
  });

  describe('setPsk()', () => {
    it('stores raw bytes Base64-encoded, replacing the secrets of an existing psk credential', async () => {
      const exchange = readThenWrite(fixture('credentials-psk-patch-mode'));
      await newRegistry().credentials.setPsk(TENANT, DEVICE, 'lamp-1', new Uint8Array([1, 2, 3, 4, 5, 250]));
      assert.deepEqual(exchange.body(), [
        { type: 'psk', 'auth-id': 'lamp-1', enabled: true, secrets: [{ key: Buffer.from([1, 2, 3, 4, 5, 250]).toString('base64') }] },
      ]);
    });

    it('takes a Base64 string as is, and mode add keeps the existing secret id', async () => {
      const exchange = readThenWrite(fixture('credentials-psk-patch-mode'));
      await newRegistry().credentials.setPsk(TENANT, DEVICE, 'lamp-1', 'c2hhcmVkLWtleQ==', { mode: 'add' });
      assert.deepEqual(exchange.body()[0]?.secrets, [{ id: '0b5c7e9a-3f2d-4e1c-8a6b-9d0e1f2a3b4c' }, { key: 'c2hhcmVkLWtleQ==' }]);
    });
  });

  describe('setX509()', () => {
    it('by subject DN: normalises the DN and replaces the credential with the same subject', async () => {
      const exchange = readThenWrite(fixture('credentials'));
      await newRegistry().credentials.setX509(
        TENANT,
        DEVICE,
        { subjectDn: 'cn=lamp-1, ou=iot, o=ACME, c=DE' },
        { notBefore: '2025-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' },
      );
      const body = exchange.body();
      assert.equal(body.length, 2);
      assert.deepEqual(body[0], fixture<Credential[]>('credentials')[0]);
      assert.deepEqual(body[1], {
        type: 'x509-cert',
        'auth-id': 'CN=lamp-1,OU=iot,O=ACME,C=DE',
        secrets: [{ 'not-before': '2025-01-01T00:00:00Z', 'not-after': '2027-01-01T00:00:00Z' }],
        enabled: true,
      });
    });

    it('by certificate: sends cert (Base64 DER) and drops the credential registered for the same subject', async () => {
      const pem = fixtureText('device-cert.pem');
      const exchange = readThenWrite(fixture('credentials'));
      await newRegistry().credentials.setX509(TENANT, DEVICE, { certificatePem: pem });
      const body = exchange.body();
      assert.equal(body.length, 2);
      assert.equal(body[0]?.type, 'hashed-password');
      assert.deepEqual(body[1], { type: 'x509-cert', cert: new X509Certificate(pem).raw.toString('base64'), enabled: true });
    });

    it('adds a new x509-cert credential when no credential has that subject', async () => {
      const exchange = readThenWrite([]);
      await newRegistry().credentials.setX509(TENANT, DEVICE, { subjectDn: 'CN=other,O=ACME' });
      assert.deepEqual(exchange.body(), [{ type: 'x509-cert', 'auth-id': 'CN=other,O=ACME', secrets: [{}] }]);
    });
  });

  describe('remove()', () => {
    it('removes the matching credential and keeps the others', async () => {
      const exchange = readThenWrite(fixture('credentials'));
      assert.deepEqual(await newRegistry().credentials.remove(TENANT, DEVICE, 'hashed-password', 'lamp-1'), { etag: 'c2', removed: true });
      assert.deepEqual(exchange.body(), [fixture<Credential[]>('credentials')[1]]);
    });

    it('matches x509-cert credentials by normalised subject DN', async () => {
      const exchange = readThenWrite(fixture('credentials'));
      await newRegistry().credentials.remove(TENANT, DEVICE, 'x509-cert', 'CN=lamp-1, OU=iot, O=ACME, C=DE');
      assert.deepEqual(exchange.body(), [fixture<Credential[]>('credentials')[0]]);
    });

    it('sends no PUT and reports removed: false when there is no such credential', async () => {
      const scope = nock(BASE)
        .get(PATH)
        .reply(200, fixture('credentials'), { ...JSON_HEADERS, ETag: 'c1' });
      assert.deepEqual(await newRegistry().credentials.remove(TENANT, DEVICE, 'psk', 'lamp-1'), { etag: 'c1', removed: false });
      scope.done();
    });

    it('can remove the last credential (PUT of an empty array)', async () => {
      const exchange = readThenWrite(fixture('credentials-psk-patch-mode'));
      await newRegistry().credentials.remove(TENANT, DEVICE, 'psk', 'lamp-1');
      assert.deepEqual(exchange.body(), []);
    });
  });
});
