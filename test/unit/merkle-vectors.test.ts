// The Certificate Transparency / Trillian reference vectors for RFC 6962 trees, copied as data (hex) from:
//   - transparency-dev/merkle testonly/constants.go (commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1; the same data
//     is google/trillian merkle/testonly/constants.go): the 8 leaf inputs, the root of every size 0..8, the node
//     hashes of the complete subtrees, and the compact-range hashes per size;
//   - transparency-dev/merkle proof/verify_test.go (commit 02194e9afb6c1d95b5381350007963aa70fff472): the inclusion
//     and consistency proofs in that tree (its leaf numbers are 1-based; here they are 0-based indices) and the
//     corruptions a verifier must reject;
//   - transparency-dev/merkle rfc6962/rfc6962_test.go (commit 78493b07ef9b552e3379abf9e23d4da26fbe797c): the hasher.
// Apache License 2.0, Copyright Google LLC.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CompactMerkleTree,
  EMPTY_TREE_ROOT,
  MerkleTree,
  hashChildren,
  hashLeaf,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (text: string): Buffer => Buffer.from(text, 'hex');

const LEAF_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(bytes);

/** Roots by tree size, 0..8. */
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** Hashes of the complete subtrees, by level (0 = leaves) and position. */
const NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];
const node = (level: number, index: number): string => NODES[level]?.[index] ?? assert.fail(`no node ${level}/${index}`);

/** The compact range (perfect subtree roots, largest first) of every size 0..8: CompactTrees(). */
const COMPACT = [
  [],
  [node(0, 0)],
  [node(1, 0)],
  [node(1, 0), node(0, 2)],
  [node(2, 0)],
  [node(2, 0), node(0, 4)],
  [node(2, 0), node(1, 2)],
  [node(2, 0), node(1, 2), node(0, 6)],
  [node(3, 0)],
];

const INCLUSION = [
  { leafIndex: 0, treeSize: 8, path: [node(0, 1), node(1, 1), node(2, 1)] },
  { leafIndex: 5, treeSize: 8, path: [node(0, 4), node(1, 3), node(2, 0)] },
  { leafIndex: 2, treeSize: 3, path: [node(1, 0)] },
  { leafIndex: 1, treeSize: 5, path: [node(0, 0), node(1, 1), node(0, 4)] },
  { leafIndex: 0, treeSize: 1, path: [] },
];

const CONSISTENCY = [
  { fromSize: 1, toSize: 1, path: [] },
  { fromSize: 1, toSize: 8, path: [node(0, 1), node(1, 1), node(2, 1)] },
  { fromSize: 6, toSize: 8, path: [node(1, 2), node(1, 3), node(2, 0)] },
  { fromSize: 2, toSize: 5, path: [node(1, 1), node(0, 4)] },
  { fromSize: 6, toSize: 7, path: [node(1, 2), node(0, 6), node(2, 0)] },
];

/** verify_test.go's sha256SomeHash: a 32-byte value that is no hash in the tree. */
const SOME_HASH = 'abacaba000000000000000000000000000000000000000000060061e00123456';

function tree(size: number): MerkleTree {
  const built = new MerkleTree();
  for (const data of LEAF_INPUTS.slice(0, size)) built.append(data);
  return built;
}

function flipped(path: string[], index: number, mask: number): string[] {
  const copy = [...path];
  const element = bytes(copy[index] ?? '');
  element[0] = (element[0] as number) ^ mask;
  copy[index] = hex(element);
  return copy;
}

describe('RFC 6962 reference vectors (Certificate Transparency, transparency-dev/merkle)', () => {
  it('hashes like the RFC 6962 hasher', () => {
    assert.equal(EMPTY_TREE_ROOT, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(hex(hashLeaf(new Uint8Array())), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    assert.equal(hex(hashLeaf(Buffer.from('L123456'))), '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56');
    assert.equal(
      hex(hashChildren(Buffer.from('N123'), Buffer.from('N456'))),
      'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
    );
    assert.equal(hex(hashChildren(bytes(node(0, 0)), bytes(node(0, 1)))), node(1, 0));
  });

  it('gives the root of every size 0..8, with either tree and with merkleRoot', () => {
    const stored = tree(8);
    const compact = new CompactMerkleTree();
    assert.equal(hex(compact.root()), ROOTS[0]);
    LEAF_INPUTS.forEach((data, index) => {
      compact.append(data);
      assert.equal(hex(compact.root()), ROOTS[index + 1], `compact, size ${index + 1}`);
    });
    ROOTS.forEach((root, size) => {
      assert.equal(hex(stored.root(size)), root, `stored, size ${size}`);
      assert.equal(hex(tree(size).root()), root, `fresh tree of size ${size}`);
      assert.equal(hex(merkleRoot(LEAF_INPUTS.slice(0, size).map(hashLeaf))), root, `merkleRoot, size ${size}`);
    });
  });

  it('keeps the compact range of every size 0..8', () => {
    const compact = new CompactMerkleTree();
    assert.deepEqual(compact.toJSON(), { size: 0, hashes: COMPACT[0] });
    LEAF_INPUTS.forEach((data, index) => {
      compact.append(data);
      assert.deepEqual(compact.toJSON(), { size: index + 1, hashes: COMPACT[index + 1] });
    });
  });

  it('leaf hashes and complete subtrees hash to the reference node hashes', () => {
    const stored = tree(8);
    NODES[0]?.forEach((expected, index) => assert.equal(hex(stored.leafHash(index)), expected));
    // Interior nodes are the roots of aligned power-of-two ranges: the root at size 2^h of the tree shifted by i·2^h.
    NODES.forEach((level, height) =>
      level.forEach((expected, index) => {
        const width = 2 ** height;
        const shifted = new MerkleTree();
        for (const data of LEAF_INPUTS.slice(index * width, (index + 1) * width)) shifted.append(data);
        assert.equal(hex(shifted.root()), expected, `node ${height}/${index}`);
      }),
    );
  });

  it('produces and verifies the reference inclusion proofs', () => {
    const stored = tree(8);
    for (const vector of INCLUSION) {
      assert.deepEqual(stored.inclusionProof(vector.leafIndex, vector.treeSize), vector);
      const root = ROOTS[vector.treeSize] as string;
      const data = LEAF_INPUTS[vector.leafIndex] as Buffer;
      assert.ok(verifyInclusion(vector, { data }, root));
      assert.ok(verifyInclusion(vector, { hash: hex(hashLeaf(data)) }, { treeSize: vector.treeSize, root: bytes(root) }));
    }
  });

  it('produces and verifies the reference consistency proofs', () => {
    const stored = tree(8);
    for (const vector of CONSISTENCY) {
      assert.deepEqual(stored.consistencyProof(vector.fromSize, vector.toSize), vector);
      assert.ok(verifyConsistency(vector, ROOTS[vector.fromSize] as string, ROOTS[vector.toSize] as string));
    }
  });

  it("rejects verify_test.go's corrupted inclusion proofs", () => {
    for (const vector of INCLUSION.filter((candidate) => candidate.path.length > 0)) {
      const { leafIndex, treeSize, path } = vector;
      const root = ROOTS[treeSize] as string;
      const leaf = { data: LEAF_INPUTS[leafIndex] as Buffer };
      const probes: Array<[string, { leafIndex: number; treeSize: number; path: string[] }, string, typeof leaf | { data: Buffer }]> = [
        ['leafIndex - 1', { leafIndex: leafIndex - 1, treeSize, path }, root, leaf],
        ['leafIndex + 1', { leafIndex: leafIndex + 1, treeSize, path }, root, leaf],
        ['leafIndex ^ 2', { leafIndex: leafIndex ^ 2, treeSize, path }, root, leaf],
        ['treeSize * 2', { leafIndex, treeSize: treeSize * 2, path }, root, leaf],
        ['treeSize / 2', { leafIndex, treeSize: Math.floor(treeSize / 2), path }, root, leaf],
        ['wrong leaf', vector, root, { data: Buffer.from('WrongLeaf') }],
        ['empty root', vector, EMPTY_TREE_ROOT, leaf],
        ['random root', vector, SOME_HASH, leaf],
        ['trailing root', { leafIndex, treeSize, path: [...path, root] }, root, leaf],
        ['preceding root', { leafIndex, treeSize, path: [root, ...path] }, root, leaf],
        ['removed component', { leafIndex, treeSize, path: path.slice(0, -1) }, root, leaf],
        ['inserted component', { leafIndex, treeSize, path: [path[0] as string, SOME_HASH, ...path.slice(1)] }, root, leaf],
        ...path.map((_, index): [string, typeof vector, string, typeof leaf] => [
          `modified path[${index}] bit 3`,
          { leafIndex, treeSize, path: flipped(path, index, 8) },
          root,
          leaf,
        ]),
      ];
      for (const [what, proof, probeRoot, probeLeaf] of probes) {
        if (proof.leafIndex < 0) continue;
        assert.equal(verifyInclusion(proof, probeLeaf, probeRoot), false, `${what} of ${JSON.stringify(vector)}`);
      }
    }
  });

  it("rejects verify_test.go's corrupted consistency proofs", () => {
    for (const vector of CONSISTENCY.filter((candidate) => candidate.path.length > 0)) {
      const { fromSize, toSize, path } = vector;
      const from = ROOTS[fromSize] as string;
      const to = ROOTS[toSize] as string;
      const probes: Array<[string, { fromSize: number; toSize: number; path: string[] }, string, string]> = [
        ['fromSize - 1', { fromSize: fromSize - 1, toSize, path }, from, to],
        ['fromSize + 1', { fromSize: fromSize + 1, toSize, path }, from, to],
        ['fromSize ^ 2', { fromSize: fromSize ^ 2, toSize, path }, from, to],
        ['toSize * 2', { fromSize, toSize: toSize * 2, path }, from, to],
        ['toSize / 2', { fromSize, toSize: Math.floor(toSize / 2), path }, from, to],
        ['wrong fromRoot', vector, SOME_HASH, to],
        ['wrong toRoot', vector, from, SOME_HASH],
        ['swapped roots', vector, to, from],
        ['empty proof', { fromSize, toSize, path: [] }, from, to],
        ['trailing fromRoot', { fromSize, toSize, path: [...path, from] }, from, to],
        ['trailing toRoot', { fromSize, toSize, path: [...path, to] }, from, to],
        ['preceding fromRoot', { fromSize, toSize, path: [from, ...path] }, from, to],
        ['preceding toRoot', { fromSize, toSize, path: [to, ...path] }, from, to],
        ['preceding path[0]', { fromSize, toSize, path: [path[0] as string, ...path] }, from, to],
        ['truncated proof', { fromSize, toSize, path: path.slice(0, -1) }, from, to],
        ...path.map((_, index): [string, typeof vector, string, string] => [
          `modified path[${index}] bit 4`,
          { fromSize, toSize, path: flipped(path, index, 16) },
          from,
          to,
        ]),
      ];
      for (const [what, proof, fromRoot, toRoot] of probes) {
        assert.equal(verifyConsistency(proof, fromRoot, toRoot), false, `${what} of ${JSON.stringify(vector)}`);
      }
    }
  });

  it("follows verify_test.go's trivial consistency cases, with the empty tree's root required from size 0", () => {
    const anyRoot = ROOTS[3] as string;
    assert.ok(verifyConsistency({ fromSize: 0, toSize: 0, path: [] }, EMPTY_TREE_ROOT, EMPTY_TREE_ROOT));
    assert.ok(verifyConsistency({ fromSize: 0, toSize: 3, path: [] }, EMPTY_TREE_ROOT, anyRoot));
    assert.ok(verifyConsistency({ fromSize: 3, toSize: 3, path: [] }, anyRoot, anyRoot));
    // Go accepts any roots from size 0; here the old root must be the empty tree's.
    assert.equal(verifyConsistency({ fromSize: 0, toSize: 3, path: [] }, SOME_HASH, anyRoot), false);
    assert.equal(verifyConsistency({ fromSize: 3, toSize: 3, path: [] }, anyRoot, SOME_HASH), false);
    assert.equal(verifyConsistency({ fromSize: 1, toSize: 0, path: [] }, anyRoot, anyRoot), false);
    assert.equal(verifyConsistency({ fromSize: 2, toSize: 1, path: [] }, anyRoot, anyRoot), false);
    assert.equal(verifyConsistency({ fromSize: 1, toSize: 2, path: [] }, ROOTS[1] as string, ROOTS[2] as string), false);
    assert.equal(verifyConsistency({ fromSize: 3, toSize: 3, path: [EMPTY_TREE_ROOT] }, anyRoot, anyRoot), false);
    assert.equal(verifyConsistency({ fromSize: 0, toSize: 1, path: [EMPTY_TREE_ROOT] }, EMPTY_TREE_ROOT, ROOTS[1] as string), false);
  });

  it('verifies a one-leaf tree, whose root is its leaf hash, with an empty path', () => {
    const leafHash = hex(hashLeaf(Buffer.from('data')));
    assert.ok(verifyInclusion({ leafIndex: 0, treeSize: 1, path: [] }, { hash: leafHash }, leafHash));
    assert.equal(verifyInclusion({ leafIndex: 0, treeSize: 1, path: [] }, { hash: leafHash }, SOME_HASH), false);
    for (const [leafIndex, treeSize] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [1, 1],
    ] as const) {
      assert.equal(verifyInclusion({ leafIndex, treeSize, path: [] }, { hash: SOME_HASH }, SOME_HASH), false, `${leafIndex}/${treeSize}`);
    }
  });
});
