/**
 * RFC 9162 §2.1.1 hashing: leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right), and the primitives the
 * trees and verifiers share.
 *
 * Speed, measured on Node 20 (bench/merkle.bench.ts): one SHA-256 of 65 bytes is about 230 ns, and the usual
 * plumbing around it cost as much again — `crypto.hash(…, 'buffer')` allocates its result, `Buffer.copy` and
 * `Buffer.write` allocate views and check arguments. So hashes live in `HashStore`s, addressed by slot, and move as
 * eight 32-bit words; a node's input is assembled in one module-level scratch buffer; the digest comes back as a
 * latin1 ('binary') string, one character per byte, and is written into its slot four characters per word. Every function here
 * is synchronous, so no call can see another's scratch.
 */
import { createHash, hash } from 'node:crypto';
import { ValidationError } from '../core/errors.js';

export const HASH_BYTES = 32;
const HASH_WORDS = HASH_BYTES / 4;

/** The root of the empty tree, SHA-256 of nothing (RFC 9162 §2.1.1), as lower-case hex. */
export const EMPTY_TREE_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** 32-byte hashes back to back, as bytes and as 32-bit words over the same memory. Slot `i` is bytes `32i .. 32i + 32`. */
export interface HashStore {
  readonly bytes: Buffer;
  readonly words: Int32Array;
}

export function hashStore(slots: number): HashStore {
  const words = new Int32Array(slots * HASH_WORDS);
  return { words, bytes: Buffer.from(words.buffer) };
}

/** Leaf data up to this size is copied behind the 0x00 prefix for a one-shot hash; longer data streams through createHash. */
const LEAF_SCRATCH_BYTES = 16 * 1024;
const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

const leafInput = new Uint8Array(1 + LEAF_SCRATCH_BYTES);
/** A view of `leafInput` one byte longer than the last leaf: leaves of one size (the usual case) reuse it. */
let leafView = leafInput.subarray(0, 1);

// The node input 0x01 ‖ left ‖ right, placed so that left and right start on a 4-byte boundary: words 0-7 and 8-15.
const nodeScratch = new ArrayBuffer(4 + 2 * HASH_BYTES);
const nodeInput = new Uint8Array(nodeScratch, 3, 1 + 2 * HASH_BYTES);
const nodeWords = new Int32Array(nodeScratch, 4, 2 * HASH_WORDS);
nodeInput[0] = 1;

/** Int32Array words are in the platform's byte order: little-endian almost everywhere, checked once. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Writes a latin1 digest string into `out` at `slot`: four characters per word where the byte order allows. */
function writeDigest(digest: string, out: HashStore, slot: number): void {
  if (LITTLE_ENDIAN) {
    const words = out.words;
    const first = slot * HASH_WORDS;
    for (let i = 0, c = 0; i < HASH_WORDS; i += 1, c += 4)
      words[first + i] =
        digest.charCodeAt(c) | (digest.charCodeAt(c + 1) << 8) | (digest.charCodeAt(c + 2) << 16) | (digest.charCodeAt(c + 3) << 24);
  } else {
    const bytes = out.bytes;
    const first = slot * HASH_BYTES;
    for (let i = 0; i < HASH_BYTES; i += 1) bytes[first + i] = digest.charCodeAt(i);
  }
}

function setWords(target: number, source: Int32Array, first: number): void {
  for (let i = 0; i < HASH_WORDS; i += 1) nodeWords[target + i] = source[first + i] as number;
}

/** Writes the leaf hash of `data` into `out` at `slot`. */
export function leafHashInto(data: Uint8Array, out: HashStore, slot: number): void {
  const length = data.length;
  if (length > LEAF_SCRATCH_BYTES) {
    out.bytes.set(createHash('sha256').update(LEAF_PREFIX).update(data).digest(), slot * HASH_BYTES);
    return;
  }
  leafInput.set(data, 1);
  if (leafView.length !== length + 1) leafView = leafInput.subarray(0, length + 1);
  writeDigest(hash('sha256', leafView, 'binary'), out, slot);
}

/** Writes the node hash of the hashes at `slot` and `slot + 1` of `source` into `out` at `outSlot`. */
export function pairHashInto(source: HashStore, slot: number, out: HashStore, outSlot: number): void {
  const words = source.words;
  const first = slot * HASH_WORDS;
  for (let i = 0; i < 2 * HASH_WORDS; i += 1) nodeWords[i] = words[first + i] as number;
  writeDigest(hash('sha256', nodeInput, 'binary'), out, outSlot);
}

/** Writes the node hash of `left` at `leftSlot` and `right` at `rightSlot` into `out` at `outSlot` (which may be an input). */
export function nodeHashInto(
  left: HashStore,
  leftSlot: number,
  right: HashStore,
  rightSlot: number,
  out: HashStore,
  outSlot: number,
): void {
  setWords(0, left.words, leftSlot * HASH_WORDS);
  setWords(HASH_WORDS, right.words, rightSlot * HASH_WORDS);
  writeDigest(hash('sha256', nodeInput, 'binary'), out, outSlot);
}

export function copyHash(source: HashStore, slot: number, out: HashStore, outSlot: number): void {
  out.words.set(source.words.subarray(slot * HASH_WORDS, (slot + 1) * HASH_WORDS), outSlot * HASH_WORDS);
}

export function sameHash(a: HashStore, aSlot: number, b: HashStore, bSlot: number): boolean {
  for (let i = 0; i < HASH_WORDS; i += 1) if (a.words[aSlot * HASH_WORDS + i] !== b.words[bSlot * HASH_WORDS + i]) return false;
  return true;
}

export function hexOf(store: HashStore, slot: number): string {
  return store.bytes.toString('hex', slot * HASH_BYTES, (slot + 1) * HASH_BYTES);
}

/** A fresh 32-byte Buffer with the hash at `slot`. */
export function bytesOf(store: HashStore, slot: number): Buffer {
  return Buffer.from(store.bytes.subarray(slot * HASH_BYTES, (slot + 1) * HASH_BYTES));
}

/**
 * Reads a `HashInput` into `out` at `slot`, or throws `errorClass` naming `field`. Hex must be exactly 64 digits:
 * `Buffer.write` stops at the first non-hex character, so a short count means bad hex.
 */
export function readHashInto(
  value: unknown,
  field: string,
  out: HashStore,
  slot: number,
  errorClass: typeof ValidationError = ValidationError,
): void {
  if (typeof value === 'string') {
    if (value.length === 2 * HASH_BYTES && out.bytes.write(value, slot * HASH_BYTES, HASH_BYTES, 'hex') === HASH_BYTES) return;
    throw new errorClass(field, `must be a SHA-256 hash: 64 hex digits, got ${describe(value)}`);
  }
  if (value instanceof Uint8Array) {
    if (value.length === HASH_BYTES) {
      out.bytes.set(value, slot * HASH_BYTES);
      return;
    }
    throw new errorClass(field, `must be a SHA-256 hash: 32 bytes, got ${value.length}`);
  }
  throw new errorClass(field, `must be a SHA-256 hash (32 bytes or 64 hex digits), got ${describe(value)}`);
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 80 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

export function requireBytes(value: unknown, field: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new ValidationError(field, `must be a Uint8Array, got ${describe(value)}`);
}

/** RFC 9162 leaf hash: SHA-256(0x00 ‖ data). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  const out = hashStore(1);
  leafHashInto(requireBytes(data, 'data'), out, 0);
  return out.bytes;
}

/** RFC 9162 node hash: SHA-256(0x01 ‖ left ‖ right). The children are normally 32-byte hashes, but any bytes hash. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  requireBytes(left, 'left');
  requireBytes(right, 'right');
  const out = hashStore(1);
  if (left.length === HASH_BYTES && right.length === HASH_BYTES) {
    nodeInput.set(left, 1);
    nodeInput.set(right, 1 + HASH_BYTES);
    writeDigest(hash('sha256', nodeInput, 'binary'), out, 0);
  } else {
    out.bytes.set(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
  }
  return out.bytes;
}
