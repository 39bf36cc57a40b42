// src/merkle against the naive recursive RFC 9162 implementation in test/support/merkle-reference.ts, on random
// trees (random sizes, leaves of random length, empty ones included): roots, proofs, and the verdict on valid and
// randomly damaged proofs must agree. Seeded, so a failure names the seed that reproduces it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CompactMerkleTree,
  type ConsistencyProof,
  type InclusionProof,
  MerkleTree,
  hashLeaf,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.js';
import {
  consistencyPath,
  inclusionPath,
  leafHash,
  mth,
  naiveVerifyConsistency,
  naiveVerifyInclusion,
} from '../support/merkle-reference.js';

const SEED = Number(process.env.MERKLE_PROPERTY_SEED ?? 0x5eed);
const TREES = 60;
const MAX_LEAVES = 300;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (path: string[]): Buffer[] => path.map((element) => Buffer.from(element, 'hex'));

describe(`src/merkle against a naive recursive RFC 9162 implementation (seed ${SEED})`, () => {
  const next = random(SEED);
  const int = (below: number): number => Math.floor(next() * below);
  const bytes = (length: number): Buffer => Buffer.from(Array.from({ length }, () => int(256)));

  const trees = Array.from({ length: TREES }, () => {
    const size = 1 + int(MAX_LEAVES);
    return Array.from({ length: size }, () => bytes(int(5) === 0 ? 0 : int(100)));
  });

  /** A copy of a path with one random change: a flipped bit, an element dropped, added, swapped or replaced. */
  function damage(path: string[]): string[] {
    const copy = [...path];
    const at = int(Math.max(copy.length, 1));
    switch (copy.length === 0 ? 2 : int(5)) {
      case 0: {
        const element = Buffer.from(copy[at] as string, 'hex');
        const bit = int(256);
        element[bit >> 3] = (element[bit >> 3] as number) ^ (1 << (bit & 7));
        copy[at] = element.toString('hex');
        break;
      }
      case 1:
        copy.splice(at, 1);
        break;
      case 2:
        copy.splice(int(copy.length + 1), 0, bytes(32).toString('hex'));
        break;
      case 3:
        copy.splice(at, 1, ...copy.splice(int(copy.length), 1, copy[at] as string));
        break;
      default:
        copy[at] = bytes(32).toString('hex');
    }
    return copy;
  }

  it('roots agree: MerkleTree.root(size), CompactMerkleTree.root() as leaves are appended, merkleRoot', () => {
    for (const leaves of trees.slice(0, 12)) {
      const stored = new MerkleTree();
      const compact = new CompactMerkleTree();
      for (const [index, leaf] of leaves.entries()) {
        stored.append(leaf);
        compact.append(leaf);
        if (index < 70 || int(8) === 0)
          assert.equal(hex(compact.root()), hex(mth(leaves.slice(0, index + 1))), `compact, size ${index + 1}`);
      }
      for (let size = 0; size <= leaves.length; size += 1 + int(7))
        assert.equal(hex(stored.root(size)), hex(mth(leaves.slice(0, size))), `stored, size ${size}`);
      assert.equal(hex(merkleRoot(leaves.map(leafHash))), hex(mth(leaves)));
    }
  });

  it('inclusion proofs agree with PATH(m, D[n]), and the verifiers agree on valid and damaged proofs', () => {
    for (const leaves of trees) {
      const stored = MerkleTree.fromLeafHashes(leaves.map(hashLeaf));
      for (let probe = 0; probe < 25; probe += 1) {
        const treeSize = 1 + int(leaves.length);
        const leafIndex = int(treeSize);
        const proof = stored.inclusionProof(leafIndex, treeSize);
        const prefix = leaves.slice(0, treeSize);
        assert.deepEqual(fromHex(proof.path), inclusionPath(leafIndex, prefix));
        const root = mth(prefix);
        const leaf = leaves[leafIndex] as Buffer;
        assert.ok(verifyInclusion(proof, { data: leaf }, root));

        const damaged: InclusionProof[] = [
          { ...proof, path: damage(proof.path) },
          { ...proof, leafIndex: int(treeSize + 2) },
          { ...proof, treeSize: 1 + int(2 * treeSize) },
          { leafIndex: int(treeSize), treeSize: 1 + int(treeSize), path: damage(proof.path) },
        ];
        for (const candidate of damaged) {
          const expected = naiveVerifyInclusion(candidate.leafIndex, candidate.treeSize, leafHash(leaf), fromHex(candidate.path), root);
          assert.equal(verifyInclusion(candidate, { data: leaf }, root), expected, JSON.stringify({ seed: SEED, candidate }));
        }
      }
    }
  });

  it('consistency proofs agree with PROOF(m, D[n]), and the verifiers agree on valid and damaged proofs', () => {
    for (const leaves of trees) {
      const stored = MerkleTree.fromLeafHashes(leaves.map(hashLeaf));
      const rootOf = (size: number) => mth(leaves.slice(0, size));
      for (let probe = 0; probe < 25; probe += 1) {
        const toSize = int(leaves.length + 1);
        const fromSize = int(toSize + 1);
        const proof = stored.consistencyProof(fromSize, toSize);
        assert.deepEqual(fromHex(proof.path), consistencyPath(fromSize, leaves.slice(0, toSize)));
        const from = rootOf(fromSize);
        const to = rootOf(toSize);
        assert.ok(verifyConsistency(proof, from, to));

        const otherFrom = int(leaves.length + 1);
        const damaged: Array<[ConsistencyProof, Buffer, Buffer]> = [
          [{ ...proof, path: damage(proof.path) }, from, to],
          [{ ...proof, fromSize: otherFrom }, from, to],
          [{ ...proof, fromSize: otherFrom }, rootOf(otherFrom), to],
          [{ ...proof, toSize: int(leaves.length + 1) }, from, to],
          [proof, rootOf(int(toSize + 1)), to],
        ];
        for (const [candidate, fromRoot, toRoot] of damaged) {
          const expected = naiveVerifyConsistency(candidate.fromSize, candidate.toSize, fromHex(candidate.path), fromRoot, toRoot);
          assert.equal(verifyConsistency(candidate, fromRoot, toRoot), expected, JSON.stringify({ seed: SEED, candidate }));
        }
      }
    }
  });
});
