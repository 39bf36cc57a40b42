/**
 * Syntax checks for IPFS CIDs, without dependencies: CIDv0 (`Qm…`, base58btc, a sha2-256 multihash,
 * 46 characters) and CIDv1 in base32 (`b…`, lower case, RFC 4648 alphabet without padding), which
 * is what Kubo prints for `--cid-version=1`.
 */

const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Multihash functions and their digest lengths (sha2-256, sha2-512, sha3-256, blake2b-256, identity). */
const MULTIHASH_LENGTHS: ReadonlyMap<number, number | undefined> = new Map([
  [0x12, 32],
  [0x13, 64],
  [0x16, 32],
  [0xb220, 32],
  [0x00, undefined],
]);

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

function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = offset; i < bytes.length && i < offset + 9; i += 1) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
    shift += 7;
  }
  return undefined;
}

function checkMultihash(bytes: Uint8Array, offset: number): string | undefined {
  const code = readVarint(bytes, offset);
  if (!code) return 'its multihash is truncated';
  const length = readVarint(bytes, code.next);
  if (!length) return 'its multihash is truncated';
  if (!MULTIHASH_LENGTHS.has(code.value)) return `its multihash function 0x${code.value.toString(16)} is not supported`;
  const expected = MULTIHASH_LENGTHS.get(code.value);
  if (expected !== undefined && length.value !== expected) {
    return `its digest length ${length.value} does not match the hash function (expected ${expected})`;
  }
  if (bytes.length - length.next !== length.value) return 'its digest length does not match the bytes present';
  return undefined;
}

/** Returns why `cid` is not a valid CIDv0 / base32 CIDv1, or undefined when it is valid. */
export function cidProblem(cid: string): string | undefined {
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
    const version = readVarint(bytes, 0);
    if (!version || version.value !== 1) return 'does not start with CID version 1';
    const codec = readVarint(bytes, version.next);
    if (!codec) return 'has no content codec';
    return checkMultihash(bytes, codec.next);
  }
  return 'must be a CIDv0 ("Qm…", base58btc, 46 characters) or a CIDv1 in base32 ("b…", e.g. from `ipfs add --cid-version=1`)';
}
