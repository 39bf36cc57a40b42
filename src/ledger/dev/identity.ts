import { createHash, generateKeyPairSync, sign } from 'node:crypto';

/**
 * The client identities of the dev ledger. fabric-shim's `ClientIdentity` (what the contract's `ctx.clientIdentity`
 * is) parses the creator's X.509 certificate, so each organisation gets a throw-away self-signed certificate with
 * Fabric's usual names (`CN=User1@<msp>`, issued by `CN=ca.<msp>`). Nothing verifies it: the dev ledger has no PKI,
 * and the contract uses only the MSP ID.
 */

function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]) => der(0x30, ...items);

function oid(text: string): Buffer {
  const [first = 0, second = 0, ...rest] = text.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift(0x80 | (value & 0x7f));
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function name(commonName: string, organization: string): Buffer {
  const attribute = (type: string, value: string) => der(0x31, sequence(oid(type), der(0x0c, Buffer.from(value, 'utf8'))));
  return sequence(attribute('2.5.4.10', organization), attribute('2.5.4.3', commonName));
}

function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return der(0x17, Buffer.from(text, 'ascii'));
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

/** A PEM certificate for `User1@<mspId>`; a fresh P-256 key each time (the key is not kept). */
export function devCertificate(mspId: string): string {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const serial = createHash('sha256').update(mspId).digest().subarray(0, 16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive INTEGER
  const now = Date.now();
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))), // v3
    der(0x02, serial),
    ECDSA_WITH_SHA256,
    name(`ca.${mspId}`, mspId),
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 10 * 365 * 86_400_000))),
    name(`User1@${mspId}`, mspId),
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, ECDSA_WITH_SHA256, der(0x03, Buffer.from([0]), signature));
  const base64 = certificate.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}
