/**
 * Proof verification, RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), step by step. Needs nothing but the
 * proof, the leaf and the root(s) someone trusts (e.g. read from the ledger).
 *
 * A root can come with its tree size (a `TreeHead`). Then a proof for another size does not verify. With a bare root
 * the proof's own sizes are taken as given: the leaf is proven to be in the tree with that root, but the index is
 * only meaningful if the size is the tree's true size — index 4 of a 5-leaf tree also verifies as index 1 of a
 * "2-leaf tree" with the same root, since both paths are one left sibling.
 *
 * What throws and what returns false: a proof that cannot be read (a size that is not a non-negative safe integer,
 * a path element that is not 64 hex digits) throws `MalformedProofError`; a root or leaf that is not a hash throws
 * `ValidationError`. Everything else is a verdict: a proof that reads but does not prove its claim — a changed hash,
 * index or size, a path too short or too long, `leafIndex >= treeSize` (which the RFC also calls a failed
 * verification) — returns `false`, never throws.
 *
 * Sizes go up to Number.MAX_SAFE_INTEGER, so halving is arithmetic, not `>>` (which works on 32 bits).
 */
import { ValidationError } from '../core/errors.js';
import { MalformedProofError } from './errors.js';
import {
  EMPTY_TREE_ROOT,
  HASH_BYTES,
  type HashStore,
  copyHash,
  describe,
  hashStore,
  leafHashInto,
  nodeHashInto,
  readHashInto,
  sameHash,
} from './hash.js';
import type { ConsistencyProof, HashInput, InclusionProof, LeafInput, TreeHead } from './types.js';

// Scratch, reused by every call (they are synchronous, see hash.ts): the running hashes, the roots to compare with,
// the empty tree's root; and room for the paths of proofs in any tree up to 2^53 leaves.
const FIRST = 0;
const SECOND = 1;
const FIRST_ROOT = 2;
const SECOND_ROOT = 3;
const EMPTY = 4;
const work = hashStore(5);
readHashInto(EMPTY_TREE_ROOT, 'EMPTY_TREE_ROOT', work, EMPTY);
const PATH_SLOTS = 128;
const pathScratch = hashStore(PATH_SLOTS);

function readProof(proof: unknown): Record<string, unknown> {
  if (proof !== null && typeof proof === 'object' && !Array.isArray(proof)) return proof as Record<string, unknown>;
  throw new MalformedProofError('proof', `must be an object, got ${describe(proof)}`);
}

function readSize(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new MalformedProofError(field, `must be a non-negative safe integer, got ${describe(value)}`);
}

/** The path's hashes, decoded into slots 0 .. length - 1. Every element is checked, even past the length the sizes call for. */
function readPath(value: unknown): HashStore {
  if (!Array.isArray(value)) throw new MalformedProofError('proof.path', `must be an array of hex hashes, got ${describe(value)}`);
  const path = value.length <= PATH_SLOTS ? pathScratch : hashStore(value.length);
  const bytes = path.bytes;
  for (let i = 0; i < value.length; i += 1) {
    const element: unknown = value[i];
    // The common case inline; readHashInto builds the field name and the message only for what it has to report.
    const fine =
      typeof element === 'string' &&
      element.length === 2 * HASH_BYTES &&
      bytes.write(element, i * HASH_BYTES, HASH_BYTES, 'hex') === HASH_BYTES;
    if (fine) continue;
    if (typeof element !== 'string')
      throw new MalformedProofError(`proof.path[${i}]`, `must be a SHA-256 hash as 64 hex digits, got ${describe(element)}`);
    readHashInto(element, `proof.path[${i}]`, path, i, MalformedProofError);
  }
  return path;
}

/** Reads a root or tree head into `slot`; returns the head's size, or undefined for a bare root. */
function readRoot(value: unknown, field: string, slot: number): number | undefined {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array || Array.isArray(value)) {
    readHashInto(value, field, work, slot);
    return undefined;
  }
  const head = value as Record<string, unknown>;
  const size = head.treeSize;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw new ValidationError(`${field}.treeSize`, `must be a non-negative safe integer, got ${describe(size)}`);
  readHashInto(head.root, `${field}.root`, work, slot);
  return size;
}

function readLeafInto(leaf: unknown, out: HashStore, slot: number): void {
  if (leaf !== null && typeof leaf === 'object') {
    const hasData = 'data' in leaf;
    const hasHash = 'hash' in leaf;
    if (hasData && !hasHash) {
      const data: unknown = leaf.data;
      if (!(data instanceof Uint8Array)) throw new ValidationError('leaf.data', `must be a Uint8Array, got ${describe(data)}`);
      leafHashInto(data, out, slot);
      return;
    }
    if (hasHash && !hasData) {
      readHashInto(leaf.hash, 'leaf.hash', out, slot);
      return;
    }
  }
  throw new ValidationError('leaf', 'must be { data } (the leaf bytes) or { hash } (its RFC 9162 leaf hash), exactly one of them');
}

const isOdd = (value: number): boolean => value % 2 === 1;
const half = (value: number): number => Math.floor(value / 2);

function isPowerOfTwo(value: number): boolean {
  let rest = value;
  while (rest > 1 && rest % 2 === 0) rest /= 2;
  return rest === 1;
}

/**
 * Whether `proof` shows that `leaf` is at `proof.leafIndex` in the tree of `proof.treeSize` leaves whose root is `root`
 * (and, given a tree head, whose size is `root.treeSize`). Throws `MalformedProofError` for a proof that cannot be
 * read, `ValidationError` for a leaf or root that is not one.
 */
export function verifyInclusion(proof: InclusionProof, leaf: LeafInput, root: HashInput | TreeHead): boolean {
  const fields = readProof(proof);
  const leafIndex = readSize(fields.leafIndex, 'proof.leafIndex');
  const treeSize = readSize(fields.treeSize, 'proof.treeSize');
  const path = readPath(fields.path);
  const length = (fields.path as unknown[]).length; // an array: readPath checked
  readLeafInto(leaf, work, FIRST);
  const trustedSize = readRoot(root, 'root', FIRST_ROOT);
  if (leafIndex >= treeSize || (trustedSize !== undefined && trustedSize !== treeSize)) return false;

  let fn = leafIndex;
  let sn = treeSize - 1;
  for (let i = 0; i < length; i += 1) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      nodeHashInto(path, i, work, FIRST, work, FIRST);
      while (!isOdd(fn) && fn !== 0) {
        fn /= 2;
        sn = half(sn);
      }
    } else {
      nodeHashInto(work, FIRST, path, i, work, FIRST);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && sameHash(work, FIRST, work, FIRST_ROOT);
}

/**
 * Whether `proof` shows that the tree of `proof.toSize` leaves with root `toRoot` extends (only appends to) the tree
 * of `proof.fromSize` leaves with root `fromRoot` (and, given tree heads, that those are their sizes). From size 0
 * the path is empty and `fromRoot` must be the empty tree's root (`EMPTY_TREE_ROOT`); between equal sizes the path
 * is empty and the roots are equal. Throws `MalformedProofError` for a proof that cannot be read, `ValidationError`
 * for a root that is not one.
 */
export function verifyConsistency(proof: ConsistencyProof, fromRoot: HashInput | TreeHead, toRoot: HashInput | TreeHead): boolean {
  const fields = readProof(proof);
  const fromSize = readSize(fields.fromSize, 'proof.fromSize');
  const toSize = readSize(fields.toSize, 'proof.toSize');
  const path = readPath(fields.path);
  const length = (fields.path as unknown[]).length; // an array: readPath checked
  const trustedFrom = readRoot(fromRoot, 'fromRoot', FIRST_ROOT);
  const trustedTo = readRoot(toRoot, 'toRoot', SECOND_ROOT);

  if (fromSize > toSize) return false;
  if ((trustedFrom !== undefined && trustedFrom !== fromSize) || (trustedTo !== undefined && trustedTo !== toSize)) return false;
  if (fromSize === toSize) return length === 0 && sameHash(work, FIRST_ROOT, work, SECOND_ROOT);
  if (fromSize === 0) return length === 0 && sameHash(work, FIRST_ROOT, work, EMPTY);
  if (length === 0) return false;

  // When fromSize is a power of two, its root is a node of the new tree and the RFC prepends it to the path.
  let i = 0;
  if (isPowerOfTwo(fromSize)) {
    copyHash(work, FIRST_ROOT, work, FIRST);
  } else {
    copyHash(path, 0, work, FIRST);
    i = 1;
  }
  copyHash(work, FIRST, work, SECOND);
  let fn = fromSize - 1;
  let sn = toSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  for (; i < length; i += 1) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      nodeHashInto(path, i, work, FIRST, work, FIRST);
      nodeHashInto(path, i, work, SECOND, work, SECOND);
      while (!isOdd(fn) && fn !== 0) {
        fn /= 2;
        sn = half(sn);
      }
    } else {
      nodeHashInto(work, SECOND, path, i, work, SECOND);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && sameHash(work, FIRST, work, FIRST_ROOT) && sameHash(work, SECOND, work, SECOND_ROOT);
}
