/**
 * Syntax checks for IPFS CIDs, without dependencies: CIDv0 (`Qm…`, base58btc, a sha2-256 multihash,
 * 46 characters) and CIDv1 in base32 (`b…`, lower case, RFC 4648 alphabet without padding), which
 * is what Kubo prints for `--cid-version=1`.
 *
 * Rules (each failure names its rule): at most MAX_CID_LENGTH characters; varints minimal (no trailing 0x00
 * continuation byte) and at most 9 bytes, as the multiformats unsigned-varint spec requires; the content codec is
 * one IPFS uses for content (CONTENT_CODECS); the multihash is a real hash (sha2-256, sha2-512, sha3-256,
 * blake2b-256) with its exact digest length — never the identity multihash 0x00, which embeds the data itself
 * instead of a digest of it and so anchors nothing.
 */

/**
 * Longest CID accepted, in characters: a base32 CIDv1 with a 2-byte codec and a sha2-512 digest is 112
 * characters (CIDv0 is always 46); 128 leaves room without letting a key-sized blob through.
 */
export const MAX_CID_LENGTH = 128;

/** Content codecs (multicodec) that IPFS uses for content addressed by a CIDv1. */
export const CONTENT_CODECS: ReadonlyMap<number, string> = new Map([
  [0x55, 'raw'],
  [0x70, 'dag-pb'],
  [0x71, 'dag-cbor'],
  [0x85, 'dag-jose'],
  [0x0129, 'dag-json'],
]);

const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Multihash functions and their digest lengths (sha2-256, sha2-512, sha3-256, blake2b-256). */
const MULTIHASH_LENGTHS: ReadonlyMap<number, number> = new Map([
  [0x12, 32],
  [0x13, 64],
  [0x16, 32],
  [0xb220, 32],
]);
const IDENTITY_MULTIHASH = 0x00;

function decodeBase58(text: string): Uint8Array | undefined {
  let value = 0n;
  for (const char of text) {
    const digit = BASE58_ALPHABET.indexOf(char);
    if (digit < 0) return undefined;
    value = value * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  while (value > 0n) {
    bytes.unshift(Number(value % 256n));
    value /= 256n;
  }
  for (const char of text) {
    if (char !== '1') break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

function decodeBase32(text: string): Uint8Array | undefined {
  let bits = 0;
  let buffer = 0;
  const bytes: number[] = [];
  for (const char of text) {
    const digit = BASE32_ALPHABET.indexOf(char);
    if (digit < 0) return undefined;
    buffer = (buffer << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero padding (fewer than 5 of them).
  if (bits >= 5 || (buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return Uint8Array.from(bytes);
}

type Varint = { value: number; next: number } | { problem: string };

/** Reads an unsigned varint (multiformats): at most 9 bytes, minimally encoded. */
function readVarint(bytes: Uint8Array, offset: number, what: string): Varint {
  let value = 0;
  for (let i = offset; i < bytes.length && i < offset + 9; i += 1) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * 2 ** (7 * (i - offset));
    if ((byte & 0x80) === 0) {
      // A last byte of 0 after a continuation byte adds nothing: the same number has a shorter encoding.
      if (byte === 0 && i > offset) return { problem: `its ${what} is not a minimally encoded varint (it ends in a 0x00 continuation)` };
      return { value, next: i + 1 };
    }
  }
  if (bytes.length - offset >= 9) return { problem: `its ${what} is a varint longer than 9 bytes` };
  return { problem: `its ${what} is truncated` };
}

function checkMultihash(bytes: Uint8Array, offset: number): string | undefined {
  const code = readVarint(bytes, offset, 'multihash function');
  if ('problem' in code) return code.problem;
  if (code.value === IDENTITY_MULTIHASH) {
    return 'uses the identity multihash (0x00), which embeds the data instead of a digest of it; add the content with a real hash such as sha2-256';
  }
  const expected = MULTIHASH_LENGTHS.get(code.value);
  if (expected === undefined) {
    return `its multihash function 0x${code.value.toString(16)} is not supported (use sha2-256 0x12, sha2-512 0x13, sha3-256 0x16 or blake2b-256 0xb220)`;
  }
  const length = readVarint(bytes, code.next, 'digest length');
  if ('problem' in length) return length.problem;
  if (length.value !== expected) {
    return `its digest length ${length.value} does not match the hash function (expected ${expected})`;
  }
  if (bytes.length - length.next !== length.value) return 'its digest length does not match the bytes present';
  return undefined;
}

/** Returns why `cid` is not a valid CIDv0 / base32 CIDv1, or undefined when it is valid. */
export function cidProblem(cid: string): string | undefined {
  if (cid.length > MAX_CID_LENGTH) return `is ${cid.length} characters long; a CID may have at most ${MAX_CID_LENGTH}`;
  if (cid.startsWith('Qm')) {
    if (cid.length !== 46) return `is a CIDv0 ("Qm…") of ${cid.length} characters; a CIDv0 has exactly 46`;
    const bytes = decodeBase58(cid);
    if (!bytes) return 'is not valid base58btc (a CIDv0 uses 1-9, A-Z, a-z without 0, O, I and l)';
    if (bytes.length !== 34 || bytes[0] !== 0x12 || bytes[1] !== 0x20) return 'is not a sha2-256 multihash';
    return undefined;
  }
  if (cid.startsWith('b')) {
    const bytes = decodeBase32(cid.slice(1));
    if (!bytes) return 'is not valid lower-case base32 (RFC 4648 alphabet a-z, 2-7, no padding)';
    const version = readVarint(bytes, 0, 'CID version');
    if ('problem' in version) return version.problem;
    if (version.value !== 1) return 'does not start with CID version 1';
    const codec = readVarint(bytes, version.next, 'content codec');
    if ('problem' in codec) return codec.problem;
    if (!CONTENT_CODECS.has(codec.value)) {
      const known = [...CONTENT_CODECS].map(([code, name]) => `${name} 0x${code.toString(16)}`).join(', ');
      return `its content codec 0x${codec.value.toString(16)} is not one IPFS uses for content (allowed: ${known})`;
    }
    return checkMultihash(bytes, codec.next);
  }
  return 'must be a CIDv0 ("Qm…", base58btc, 46 characters) or a CIDv1 in base32 ("b…", e.g. from `ipfs add --cid-version=1`)';
}
