// Pure helpers of the registry module: password hashing, DN handling, certificate parsing, query encoding.
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { compare } from 'bcryptjs';
import { ValidationError } from '../../src/core/index.js';
import { BCRYPT_HASH, passwordSecret } from '../../src/registry/passwords.js';
import { encodeSearchQuery } from '../../src/registry/query.js';
import { validateCredentials } from '../../src/registry/validation.js';
import { normalizeSubjectDn, parseCertificatePem, sameSubjectDn } from '../../src/registry/x509.js';
import { defaultIdRules } from '../../src/core/ids.js';
import { fixtureText } from '../fixtures/registry/support.js';

describe('registry helpers', () => {
  describe('passwordSecret()', () => {
    it('plain → pwd-plain only', async () => {
      assert.deepEqual(await passwordSecret('open-sesame', 'plain'), { 'pwd-plain': 'open-sesame' });
    });

    it('bcrypt → a $2a$ hash (bcryptjs 3 would write $2b$) that verifies', async () => {
      const secret = await passwordSecret('open-sesame', 'bcrypt', 5);
      assert.equal(secret['hash-function'], 'bcrypt');
      assert.match(secret['pwd-hash'] ?? '', BCRYPT_HASH);
      assert.ok(secret['pwd-hash']?.startsWith('$2a$05$'));
      assert.equal(await compare('open-sesame', secret['pwd-hash'] ?? ''), true);
      assert.equal(await compare('open-sesamE', secret['pwd-hash'] ?? ''), false);
    });

    it('sha-512 → fresh salt every time', async () => {
      const a = await passwordSecret('open-sesame', 'sha-512');
      const b = await passwordSecret('open-sesame', 'sha-512');
      assert.notEqual(a.salt, b.salt);
      assert.notEqual(a['pwd-hash'], b['pwd-hash']);
      const salt = Buffer.from(a.salt ?? '', 'base64');
      const expected = createHash('sha512')
        .update(Buffer.concat([salt, Buffer.from('open-sesame')]))
        .digest('base64');
      assert.equal(a['pwd-hash'], expected);
    });
  });

  describe('subject DNs', () => {
    it('normalises blanks and attribute type case, keeps values and escapes', () => {
      assert.equal(normalizeSubjectDn('cn=lamp-1, ou=iot , o=ACME,c=DE'), 'CN=lamp-1,OU=iot,O=ACME,C=DE');
      assert.equal(normalizeSubjectDn('CN=Smith\\, John,O=ACME'), 'CN=Smith\\, John,O=ACME');
      assert.equal(normalizeSubjectDn('CN=a\\ ,O=b'), 'CN=a\\ ,O=b');
      assert.equal(normalizeSubjectDn('CN=a + UID=7,O=b'), 'CN=a+UID=7,O=b');
      assert.equal(normalizeSubjectDn('OID.2.5.4.3=x'), '2.5.4.3=x');
      assert.equal(normalizeSubjectDn('CN="Quoted, Value",O=b'), 'CN="Quoted, Value",O=b');
    });

    it('rejects what is not a DN', () => {
      for (const bad of ['lamp-1', 'CN=a,,O=b', '=x', 'C N=x', '']) {
        assert.throws(() => normalizeSubjectDn(bad), ValidationError, bad);
      }
    });

    it('sameSubjectDn compares normalised forms', () => {
      assert.equal(sameSubjectDn('CN=a,O=b', 'cn=a, o=b'), true);
      assert.equal(sameSubjectDn('CN=a,O=b', 'O=b,CN=a'), false);
      assert.equal(sameSubjectDn('not a dn', 'not a dn'), false);
    });
  });

  it('parseCertificatePem() returns Base64 DER and the RFC 2253 subject (most specific first)', () => {
    const pem = fixtureText('device-cert.pem');
    const parsed = parseCertificatePem(pem);
    assert.equal(parsed.subjectDn, 'CN=lamp-1,OU=iot,O=ACME,C=DE');
    assert.deepEqual(Buffer.from(parsed.der, 'base64'), new X509Certificate(pem).raw);
  });

  it('encodeSearchQuery() writes one filterJson / sortJson per expression and omits unset options', () => {
    assert.deepEqual(encodeSearchQuery(undefined), {});
    assert.deepEqual(
      encodeSearchQuery({
        pageSize: 50,
        filter: [{ field: '/ext/count', value: 15 }],
        sort: [{ field: '/ext/brand', direction: 'asc' }],
        isGateway: true,
      }),
      {
        pageSize: 50,
        filterJson: ['{"field":"/ext/count","value":15}'],
        sortJson: ['{"field":"/ext/brand","direction":"asc"}'],
        isGateway: true,
      },
    );
  });

  it('validateCredentials() accepts the spec examples and an x509 credential given only by cert', () => {
    const valid = validateCredentials(
      [
        {
          type: 'hashed-password',
          'auth-id': 'sensor1',
          secrets: [{ 'pwd-hash': 'AQIDBAUGBwg=', salt: 'Mq7wFw==', 'hash-function': 'sha-512', 'not-after': '2027-12-24T19:00:00Z' }],
        },
        { type: 'psk', 'auth-id': 'sensor1', secrets: [{ id: '349556ea-4902-47c7-beb0-1009ab693fb4' }] },
        { type: 'x509-cert', cert: 'MIIByjCCAXGg' },
        { type: 'x509-cert', 'auth-id': 'CN=Device 4711,OU=Hono,O=Eclipse IoT,L=Ottawa,C=CA', secrets: [{}] },
      ],
      defaultIdRules,
    );
    assert.equal(valid.length, 4);
  });
});
