import { ValidationError } from '../core/errors.js';
import {
  EMPTY_TREE_ROOT,
  type HashStore,
  bytesOf,
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
import type { ConsistencyProof, HashInput, InclusionProof } from './types.js';

const CHUNK_SHIFT = 11;
const CHUNK_SLOTS = 2 ** CHUNK_SHIFT;
const FIRST_CHUNK_SLOTS = 16;

/**
 * One level of the tree: its complete nodes' hashes back to back, in chunks of 2,048 (64 KiB), so growing never
 * copies a large buffer. Only the first chunk starts small and doubles, so a small tree stays small. Both nodes of a
 * pair (2i, 2i + 1) are always in the same chunk, next to each other: the input of their parent's hash.
 */
class Level {
  readonly chunks: HashStore[] = [];
  count = 0;
  /** The last chunk, and the node count at which it is full. */
  last: HashStore = hashStore(FIRST_CHUNK_SLOTS);
  end = FIRST_CHUNK_SLOTS;

  constructor() {
    this.chunks.push(this.last);
  }

  /** The chunk that takes node `count`, allocated or grown when needed. */
  next(): HashStore {
    return this.count < this.end ? this.last : this.#grow();
  }

  #grow(): HashStore {
    const index = this.count >>> CHUNK_SHIFT;
    let grown: HashStore;
    if (index > 0) grown = hashStore(CHUNK_SLOTS);
    else {
      grown = hashStore(2 * this.end);
      grown.words.set(this.last.words);
    }
    this.chunks[index] = grown;
    this.last = grown;
    this.end = index * CHUNK_SLOTS + grown.words.length / 8;
    return grown;
  }

  chunkOf(node: number): HashStore {
    return this.chunks[node >>> CHUNK_SHIFT] as HashStore;
  }
}

/** Where node `node` is in its chunk. */
function slotOf(node: number): number {
  return node & (CHUNK_SLOTS - 1);
}

/** The largest power of two smaller than `n` (n ≥ 2): where RFC 9162 splits a tree of n leaves. */
function split(n: number): number {
  return 2 ** (31 - Math.clz32(n - 1));
}

function checkCount(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ValidationError(field, `must be an integer, got ${describe(value)}`);
  if (max < min) throw new ValidationError(field, `got ${value}, but the tree is empty`, 'Append leaves first.');
  if (value < min || value > max) throw new ValidationError(field, `must be in ${min}..${max}, got ${value}`);
  return value;
}

/**
 * An append-only RFC 9162 Merkle tree that keeps every leaf hash and every complete interior node, so it gives the
 * root of any earlier size and inclusion and consistency proofs between any sizes it has seen. Appending costs one
 * leaf hash and, on average, one node hash; a root or proof costs O(log n) hashes.
 *
 * Memory: 32 bytes per leaf plus 32 per complete interior node, about 64 bytes per leaf (64 MiB for 2^20 leaves),
 * plus at most one partly used 64 KiB chunk per level. When only the current root is needed, `CompactMerkleTree`
 * keeps O(log n) hashes instead.
 */
export class MerkleTree {
  readonly #leaves = new Level();
  readonly #levels: Level[] = [this.#leaves];

  /** A tree of the given leaf hashes, in order. */
  static fromLeafHashes(leafHashes: Iterable<HashInput>): MerkleTree {
    const tree = new MerkleTree();
    let index = 0;
    for (const leafHash of leafHashes) {
      tree.#appendLeafHash(leafHash, `leafHashes[${index}]`);
      index += 1;
    }
    return tree;
  }

  /** The number of leaves. */
  get size(): number {
    return this.#leaves.count;
  }

  /** Appends a leaf (hashed as `SHA-256(0x00 ‖ data)`; the data is not kept) and returns its index. */
  append(data: Uint8Array): number {
    requireBytes(data, 'data');
    const leaves = this.#leaves;
    leafHashInto(data, leaves.next(), slotOf(leaves.count));
    return this.#completeLeaf();
  }

  /** Appends a leaf by its RFC 9162 leaf hash and returns its index. */
  appendLeafHash(leafHash: HashInput): number {
    return this.#appendLeafHash(leafHash, 'leafHash');
  }

  #appendLeafHash(leafHash: HashInput, field: string): number {
    const leaves = this.#leaves;
    readHashInto(leafHash, field, leaves.next(), slotOf(leaves.count));
    return this.#completeLeaf();
  }

  /** Counts the leaf just written and hashes the interior nodes it completes (one per trailing 1 bit of its index). */
  #completeLeaf(): number {
    const levels = this.#levels;
    const leaves = this.#leaves;
    const index = leaves.count;
    leaves.count = index + 1;
    // Indices stay below 2^32 (a tree that large would need 256 GiB), so `>>>` and `&` are exact here.
    for (let node = index, height = 0; (node & 1) === 1; node >>>= 1, height += 1) {
      const below = levels[height] as Level;
      const above = levels[height + 1] ?? (levels[height + 1] = new Level());
      // The pair's right node was just written, so both are in `below`'s last chunk.
      pairHashInto(below.last, slotOf(node - 1), above.next(), slotOf(above.count));
      above.count += 1;
    }
    return index;
  }

  /** The hash of leaf `index`. */
  leafHash(index: number): Uint8Array {
    checkCount(index, 'index', 0, this.size - 1);
    return bytesOf(this.#leaves.chunkOf(index), slotOf(index));
  }

  /** The root of the tree of the first `size` leaves (default: all of them). */
  root(size: number = this.size): Uint8Array {
    checkCount(size, 'size', 0, this.size);
    if (size === 0) return Buffer.from(EMPTY_TREE_ROOT, 'hex');
    const out = hashStore(1);
    this.#subtreeHashInto(0, size, out);
    return out.bytes;
  }

  /** The proof that leaf `leafIndex` is in the tree of the first `treeSize` leaves (default: all of them). */
  inclusionProof(leafIndex: number, treeSize: number = this.size): InclusionProof {
    checkCount(treeSize, 'treeSize', 1, this.size);
    checkCount(leafIndex, 'leafIndex', 0, treeSize - 1);
    // RFC 9162 §2.1.3.1, top down: the sibling of the half that holds the leaf, level by level; the path lists them bottom up.
    const path: string[] = [];
    const node = hashStore(1);
    let start = 0;
    let end = treeSize;
    while (end - start > 1) {
      const k = split(end - start);
      if (leafIndex < start + k) {
        this.#subtreeHashInto(start + k, end, node);
        end = start + k;
      } else {
        this.#subtreeHashInto(start, start + k, node);
        start += k;
      }
      path.push(hexOf(node, 0));
    }
    return { leafIndex, treeSize, path: path.reverse() };
  }

  /** The proof that the tree of `toSize` leaves (default: all of them) extends the tree of the first `fromSize`. */
  consistencyProof(fromSize: number, toSize: number = this.size): ConsistencyProof {
    checkCount(toSize, 'toSize', 0, this.size);
    checkCount(fromSize, 'fromSize', 0, toSize);
    const path: string[] = [];
    if (fromSize === 0 || fromSize === toSize) return { fromSize, toSize, path };
    // RFC 9162 §2.1.4.1 SUBPROOF, top down; `whole` is its flag b: the old tree is still a complete subtree of the range.
    const node = hashStore(1);
    let start = 0;
    let end = toSize;
    let whole = true;
    while (fromSize !== end) {
      const k = split(end - start);
      if (fromSize <= start + k) {
        this.#subtreeHashInto(start + k, end, node);
        end = start + k;
      } else {
        this.#subtreeHashInto(start, start + k, node);
        start += k;
        whole = false;
      }
      path.push(hexOf(node, 0));
    }
    if (!whole) {
      this.#subtreeHashInto(start, end, node);
      path.push(hexOf(node, 0));
    }
    return { fromSize, toSize, path: path.reverse() };
  }

  /**
   * MTH(D[start:end]) into `out`. The range splits into perfect subtrees, largest first, each a stored node: `start`
   * is a multiple of a power of two at least `end - start` for every range the RFC's recursion visits. They fold
   * from the right, as the recursion does.
   */
  #subtreeHashInto(start: number, end: number, out: HashStore): void {
    let right = end;
    let first = true;
    for (let rest = end - start, height = 0; rest > 0; rest >>>= 1, height += 1) {
      if ((rest & 1) === 0) continue;
      right -= 2 ** height;
      const level = this.#levels[height] as Level;
      const node = right / 2 ** height;
      if (first) copyHash(level.chunkOf(node), slotOf(node), out, 0);
      else nodeHashInto(level.chunkOf(node), slotOf(node), out, 0, out, 0);
      first = false;
    }
  }
}
