import { ValidationError } from '../core/errors.js';
import {
  EMPTY_TREE_ROOT,
  copyHash,
  describe,
  hashStore,
  hexOf,
  leafHashInto,
  nodeHashInto,
  pairHashInto,
  readHashInto,
  requireBytes,
} from './hash.js';
import type { CompactTreeState, HashInput } from './types.js';

/** One perfect subtree per set bit of the size (< 2^53), plus the slot the next leaf goes into before it merges. */
const SLOTS = 54;

function bitCount(value: number): number {
  let count = 0;
  for (let rest = value; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

/** `appendLeafHash` naming the argument `field` in its error, for `merkleRoot` (set in the class's static block). */
let appendLeafHashAs: (tree: CompactMerkleTree, leafHash: HashInput, field: string) => number;

/**
 * An append-only RFC 9162 Merkle tree that keeps only the roots of its perfect subtrees (Certificate Transparency's
 * "compact range"): at most 53 hashes, 1.7 KiB, for any size. Appending costs one leaf hash and, on average, one
 * node hash; `root()` costs one hash per perfect subtree but the first. It cannot give proofs or earlier roots: use
 * `MerkleTree` (which keeps every hash) for those. Its state is plain JSON (`toJSON()` / `fromJSON()`), so an
 * append-only log can stop and resume.
 */
export class CompactMerkleTree {
  /** The subtree roots, largest first, back to back; the next leaf hash goes right after them. */
  readonly #stack = hashStore(SLOTS);
  #count = 0;
  #size = 0;

  /** A tree resumed from `toJSON()`'s output. Throws `ValidationError` when the state is not one. */
  static fromJSON(state: CompactTreeState): CompactMerkleTree {
    if (state === null || typeof state !== 'object') throw new ValidationError('state', `must be an object, got ${describe(state)}`);
    const { size, hashes } = state;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new ValidationError('state.size', `must be a non-negative safe integer, got ${describe(size)}`);
    const expected = bitCount(size);
    if (!Array.isArray(hashes) || hashes.length !== expected)
      throw new ValidationError(
        'state.hashes',
        `must be an array of ${expected} hashes for size ${size} (one per bit set), got ${describe(hashes)}`,
      );
    const tree = new CompactMerkleTree();
    hashes.forEach((value: unknown, index) => readHashInto(value, `state.hashes[${index}]`, tree.#stack, index));
    tree.#count = expected;
    tree.#size = size;
    return tree;
  }

  /** The number of leaves. */
  get size(): number {
    return this.#size;
  }

  /** Appends a leaf (hashed as `SHA-256(0x00 ‖ data)`; the data is not kept) and returns its index. */
  append(data: Uint8Array): number {
    leafHashInto(requireBytes(data, 'data'), this.#stack, this.#count);
    return this.#merge();
  }

  /** Appends a leaf by its RFC 9162 leaf hash and returns its index. */
  appendLeafHash(leafHash: HashInput): number {
    return this.#appendLeafHash(leafHash, 'leafHash');
  }

  #appendLeafHash(leafHash: HashInput, field: string): number {
    readHashInto(leafHash, field, this.#stack, this.#count);
    return this.#merge();
  }

  static {
    appendLeafHashAs = (tree, leafHash, field) => tree.#appendLeafHash(leafHash, field);
  }

  /** The new leaf is a perfect subtree of one; it merges with the one before it once per trailing 1 bit of the old size. */
  #merge(): number {
    const index = this.#size;
    let count = this.#count + 1;
    for (let rest = index; rest % 2 === 1; rest = (rest - 1) / 2) {
      count -= 1;
      pairHashInto(this.#stack, count - 1, this.#stack, count - 1);
    }
    this.#count = count;
    this.#size = index + 1;
    return index;
  }

  /** The root of the tree: the subtree roots folded from the right, as RFC 9162's split rule nests them. */
  root(): Uint8Array {
    if (this.#count === 0) return Buffer.from(EMPTY_TREE_ROOT, 'hex');
    const out = hashStore(1);
    copyHash(this.#stack, this.#count - 1, out, 0);
    for (let i = this.#count - 2; i >= 0; i -= 1) nodeHashInto(this.#stack, i, out, 0, out, 0);
    return out.bytes;
  }

  /** The whole state as plain JSON, for `CompactMerkleTree.fromJSON()`. */
  toJSON(): CompactTreeState {
    const hashes: string[] = [];
    for (let i = 0; i < this.#count; i += 1) hashes.push(hexOf(this.#stack, i));
    return { size: this.#size, hashes };
  }
}

/** MTH: the RFC 9162 root of the tree with these leaf hashes, in order (the empty tree's root for none). */
export function merkleRoot(leafHashes: Iterable<HashInput>): Uint8Array {
  const tree = new CompactMerkleTree();
  let index = 0;
  for (const leafHash of leafHashes) {
    appendLeafHashAs(tree, leafHash, `leafHashes[${index}]`);
    index += 1;
  }
  return tree.root();
}
