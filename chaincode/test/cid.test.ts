import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { cidProblem } from '../src/cid';

function base32(bytes: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** CIDv1 raw leaf (what `ipfs add --cid-version=1` prints for a small file). */
function rawCidV1(data: string): string {
  const digest = createHash('sha256').update(data).digest();
  return `b${base32(Buffer.concat([Buffer.from([0x01, 0x55, 0x12, 0x20]), digest]))}`;
}

describe('cidProblem', () => {
  it('accepts CIDv0 and base32 CIDv1', () => {
    for (const cid of [
      'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
      'QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR',
      'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
      rawCidV1('hello'),
      rawCidV1(''),
    ]) {
      assert.equal(cidProblem(cid), undefined, cid);
    }
  });

  it('says what is wrong with anything else', () => {
    const cases: Array<[string, RegExp]> = [
      ['QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbd', /45 characters; a CIDv0 has exactly 46/],
      ['QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPb0G', /not valid base58btc/],
      ['QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdl', /not valid base58btc/],
      ['bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzd', /digest length|truncated|base32/],
      ['bAFYBEI', /not valid lower-case base32/],
      [`b${base32(Buffer.from([0x02, 0x55, 0x12, 0x20, ...Buffer.alloc(32)]))}`, /does not start with CID version 1/],
      [`b${base32(Buffer.from([0x01, 0x55, 0x12, 0x10, ...Buffer.alloc(16)]))}`, /digest length 16 does not match the hash function \(expected 32\)/],
      [`b${base32(Buffer.from([0x01, 0x55, 0x12, 0x20, ...Buffer.alloc(31)]))}`, /does not match the bytes present/],
      [`b${base32(Buffer.from([0x01, 0x55, 0x7f, 0x20, ...Buffer.alloc(32)]))}`, /multihash function 0x7f is not supported/],
      ['zdj7WWeQ43G6JJvLWQWZpyHuAMq6uYWRjkBXFad11vE2LHhQ7', /must be a CIDv0/],
      ['hello', /must be a CIDv0/],
    ];
    for (const [cid, pattern] of cases) assert.match(cidProblem(cid) ?? 'valid', pattern, cid);
  });
});
