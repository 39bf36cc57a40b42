/**
 * RFC 9162 (RFC 6962) Merkle trees: the tree hash, inclusion and consistency proofs as plain JSON, their
 * verification, an append-only tree that keeps every hash (`MerkleTree`, for proofs) and one that keeps O(log n)
 * hashes (`CompactMerkleTree`, for the root). Pure: no I/O, only node:crypto's SHA-256. See docs/merkle.md.
 */
export { EMPTY_TREE_ROOT, hashChildren, hashLeaf } from './hash.js';
export { verifyConsistency, verifyInclusion } from './verify.js';
export { MerkleTree } from './tree.js';
export { CompactMerkleTree, merkleRoot } from './compact.js';
export { MalformedProofError } from './errors.js';
export type { CompactTreeState, ConsistencyProof, HashInput, InclusionProof, LeafInput, TreeHead } from './types.js';
// The shared core API (errors, options, retry, logging, TLS, ID rules, configuration, events): one curated list, src/core/index.ts.
export * from '../core/index.js';
