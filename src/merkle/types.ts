/** A SHA-256 hash: 32 bytes, or 64 hex digits (either case; the SDK writes lower case). */
export type HashInput = Uint8Array | string;

/**
 * A tree head you trust: a root and the size of its tree, e.g. a batch read from the ledger (`BatchRecord` has both
 * fields). Verifying against a head rather than a bare root also checks the proof's size, and so its leaf index.
 */
export interface TreeHead {
  treeSize: number;
  root: HashInput;
}

/** The leaf a proof is about: its data (hashed here as `SHA-256(0x00 ‖ data)`) or its RFC 9162 leaf hash. */
export type LeafInput = { readonly data: Uint8Array } | { readonly hash: HashInput };

/**
 * RFC 9162 §2.1.3 inclusion proof: the leaf at `leafIndex` (0-based) is in the tree of `treeSize` leaves. `path` holds
 * the sibling hashes from the leaf level up, 64 lower-case hex digits each. Plain JSON: store it, send it, verify it
 * anywhere with `verifyInclusion` or any SHA-256.
 */
export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  path: string[];
}

/**
 * RFC 9162 §2.1.4 consistency proof: the tree of `toSize` leaves extends the tree of `fromSize` leaves (appends only).
 * `path` in the RFC's order, 64 lower-case hex digits each; empty when `fromSize` is 0 or equals `toSize`.
 */
export interface ConsistencyProof {
  fromSize: number;
  toSize: number;
  path: string[];
}

/**
 * The whole state of a `CompactMerkleTree`, as plain JSON: the roots of the perfect subtrees that make up the tree,
 * largest (leftmost) first — one per bit set in `size`, so at most 53 hashes.
 */
export interface CompactTreeState {
  size: number;
  hashes: string[];
}
