import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { MAX_CID_LENGTH, cidProblem } from '../src/cid';

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

/** A base32 CIDv1 from its bytes (version, codec varint, multihash). */
const cidV1 = (...parts: Array<number[] | Buffer>): string => `b${base32(Buffer.concat(parts.map((p) => Buffer.from(p))))}`;
const digest256 = (data: string): Buffer => createHash('sha256').update(data).digest();
const digest512 = (data: string): Buffer => createHash('sha512').update(data).digest();

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
      [
        `b${base32(Buffer.from([0x01, 0x55, 0x12, 0x10, ...Buffer.alloc(16)]))}`,
        /digest length 16 does not match the hash function \(expected 32\)/,
      ],
      [`b${base32(Buffer.from([0x01, 0x55, 0x12, 0x20, ...Buffer.alloc(31)]))}`, /does not match the bytes present/],
      [`b${base32(Buffer.from([0x01, 0x55, 0x7f, 0x20, ...Buffer.alloc(32)]))}`, /multihash function 0x7f is not supported/],
      ['zdj7WWeQ43G6JJvLWQWZpyHuAMq6uYWRjkBXFad11vE2LHhQ7', /must be a CIDv0/],
      ['hello', /must be a CIDv0/],
    ];
    for (const [cid, pattern] of cases) assert.match(cidProblem(cid) ?? 'valid', pattern, cid);
  });

  it('accepts the content codecs IPFS uses: raw, dag-pb, dag-cbor, dag-json, dag-jose', () => {
    const sha256mh = [0x12, 0x20];
    for (const codec of [[0x55], [0x70], [0x71], [0xa9, 0x02], [0x85, 0x01]]) {
      const cid = cidV1([0x01], codec, sha256mh, digest256('x'));
      assert.equal(cidProblem(cid), undefined, `codec ${codec.map((b) => b.toString(16)).join(' ')}: ${cid}`);
    }
    // blake2b-256 has a 3-byte function code; sha2-512 with dag-json is the longest accepted CID (112 characters).
    assert.equal(cidProblem(cidV1([0x01, 0x55], [0xa0, 0xe4, 0x02, 0x20], digest256('x'))), undefined);
    const longest = cidV1([0x01, 0xa9, 0x02, 0x13, 0x40], digest512('x'));
    assert.equal(longest.length, 112);
    assert.equal(cidProblem(longest), undefined);
    assert.equal(MAX_CID_LENGTH, 128);
  });

  it('refuses over-long strings, the identity multihash, non-minimal varints and other codecs, naming the rule', () => {
    const cases: Array<[string, RegExp]> = [
      [`b${'a'.repeat(200)}`, /^is 201 characters long; a CID may have at most 128$/],
      [`Qm${'Y'.repeat(130)}`, /is 132 characters long; a CID may have at most 128/],
      // identity multihash: the "digest" is the data itself.
      [cidV1([0x01, 0x55, 0x00, 0x05], Buffer.from('hello')), /uses the identity multihash \(0x00\)/],
      [cidV1([0x01, 0x70, 0x00, 0x00]), /identity multihash/],
      // non-minimal varints: 0x55 as d5 00, version 1 as 81 00, digest length 32 as a0 00.
      [cidV1([0x01, 0xd5, 0x00, 0x12, 0x20], digest256('x')), /its content codec is not a minimally encoded varint/],
      [cidV1([0x81, 0x00, 0x55, 0x12, 0x20], digest256('x')), /its CID version is not a minimally encoded varint/],
      [cidV1([0x01, 0x55, 0x92, 0x00, 0x20], digest256('x')), /its multihash function is not a minimally encoded varint/],
      [cidV1([0x01, 0x55, 0x12, 0xa0, 0x00], digest256('x')), /its digest length is not a minimally encoded varint/],
      [
        cidV1([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x12, 0x20], digest256('x')),
        /its content codec is a varint longer than 9 bytes/,
      ],
      // codecs that are not content: libp2p-key (IPNS names), plain json, git-raw.
      [
        cidV1([0x01, 0x72, 0x12, 0x20], digest256('x')),
        /its content codec 0x72 is not one IPFS uses for content \(allowed: raw 0x55, dag-pb 0x70, dag-cbor 0x71, dag-jose 0x85, dag-json 0x129\)/,
      ],
      [cidV1([0x01, 0x80, 0x04, 0x12, 0x20], digest256('x')), /content codec 0x200 is not one IPFS uses/],
      [cidV1([0x01, 0x78, 0x12, 0x20], digest256('x')), /content codec 0x78/],
    ];
    for (const [cid, pattern] of cases) assert.match(cidProblem(cid) ?? 'valid', pattern, cid);
  });
});
