// src/merkle proofs exhaustively for small trees: every leaf of every tree of 1..70 leaves, every pair of sizes
// 0 ≤ m ≤ n ≤ 70, tampering of each, malformed input, the two trees' behaviour, and sizes past 2^32.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CompactMerkleTree,
  type ConsistencyProof,
  EMPTY_TREE_ROOT,
  type InclusionProof,
  MalformedProofError,
  MerkleTree,
  ValidationError,
  hashLeaf,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.js';
import { consistencyPath, inclusionPath, leafHash, mth, nodeHash, splitPoint } from '../support/merkle-reference.js';

const MAX = 70;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const leaves = Array.from({ length: MAX }, (_, index) => Buffer.from(`leaf ${index}`));
const tree = MerkleTree.fromLeafHashes(leaves.map(hashLeaf));
const roots = Array.from({ length: MAX + 1 }, (_, size) => hex(tree.root(size)));
const OTHER = 'abacaba000000000000000000000000000000000000000000060061e00123456';

function flipByte(path: string[], index: number): string[] {
  const copy = [...path];
  const element = Buffer.from(copy[index] ?? '', 'hex');
  const at = (index * 7) % 32;
  element[at] = (element[at] as number) ^ 0x01;
  copy[index] = element.toString('hex');
  return copy;
}

function throwsField(run: () => unknown, errorClass: typeof ValidationError, field: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof errorClass, `${String(error)} is not a ${errorClass.name}`);
    assert.equal((error as ValidationError).field, field);
    return true;
  });
}

describe('inclusion proofs in every tree of 1..70 leaves', () => {
  it('every leaf proves and verifies, by data, by leaf hash, against a root or a tree head, after a JSON round trip', () => {
    let count = 0;
    for (let size = 1; size <= MAX; size += 1) {
      const fresh = MerkleTree.fromLeafHashes(leaves.slice(0, size).map(hashLeaf));
      assert.equal(hex(fresh.root()), hex(mth(leaves.slice(0, size))));
      for (let index = 0; index < size; index += 1) {
        const proof = tree.inclusionProof(index, size);
        assert.deepEqual(fresh.inclusionProof(index), proof);
        assert.deepEqual(
          proof.path,
          inclusionPath(index, leaves.slice(0, size)).map((hash) => hash.toString('hex')),
        );
        const data = leaves[index] as Buffer;
        const root = roots[size] as string;
        const wire = JSON.parse(JSON.stringify(proof)) as InclusionProof;
        assert.ok(verifyInclusion(wire, { data }, root), `${index}/${size}`);
        assert.ok(verifyInclusion(proof, { hash: tree.leafHash(index) }, Buffer.from(root, 'hex')));
        assert.ok(verifyInclusion(proof, { hash: hex(hashLeaf(data)).toUpperCase() }, { treeSize: size, root: root.toUpperCase() }));
        count += 1;
      }
    }
    assert.equal(count, (MAX * (MAX + 1)) / 2);
  });

  it('rejects every tampered proof: a flipped byte, a wrong index or size, a truncated or extended path, another leaf or root', () => {
    for (let size = 1; size <= MAX; size += 1) {
      const root = roots[size] as string;
      const head = { treeSize: size, root };
      for (let index = 0; index < size; index += 1) {
        const proof = tree.inclusionProof(index, size);
        const { path } = proof;
        const leaf = { data: leaves[index] as Buffer };
        const tampered: Array<[string, InclusionProof]> = [
          ...path.map((_, at): [string, InclusionProof] => [`byte flipped in path[${at}]`, { ...proof, path: flipByte(path, at) }]),
          ...[index - 1, index + 1, index ^ 1, index ^ 2, size]
            .filter((other) => other >= 0 && other !== index)
            .map((other): [string, InclusionProof] => [`leafIndex ${other}`, { ...proof, leafIndex: other }]),
          ...[size * 2, size - 1, Math.floor(size / 2), 0]
            .filter((other) => other !== size)
            .map((other): [string, InclusionProof] => [`treeSize ${other}`, { ...proof, treeSize: other }]),
          ['path truncated', { ...proof, path: path.slice(0, -1) }],
          ['first element dropped', { ...proof, path: path.slice(1) }],
          ['path extended', { ...proof, path: [...path, OTHER] }],
          ['root prepended', { ...proof, path: [root, ...path] }],
          ['elements swapped', { ...proof, path: path.length > 1 ? [path[1] as string, path[0] as string, ...path.slice(2)] : [OTHER] }],
        ];
        const changed = tampered.filter(([, probe]) => JSON.stringify(probe) !== JSON.stringify(proof)); // an empty path stays empty
        for (const [what, probe] of changed) assert.equal(verifyInclusion(probe, leaf, head), false, `${what}: leaf ${index} of ${size}`);
        // Against a bare root the proof's size is taken as given: a size that keeps the path's shape passes (see the next test).
        for (const [what, probe] of changed.filter(([, probe]) => sizeChangesShape(proof, probe.treeSize)))
          assert.equal(verifyInclusion(probe, leaf, root), false, `${what} (bare root): leaf ${index} of ${size}`);
        assert.equal(verifyInclusion(proof, { data: Buffer.from('another leaf') }, head), false);
        assert.equal(verifyInclusion(proof, leaf, OTHER), false);
        if (size > 1) assert.equal(verifyInclusion(proof, leaf, roots[size - 1] as string), false);
      }
    }
  });

  it('binds the index only through the size: index 4 of 5 leaves passes as index 1 of "2 leaves" against the bare root', () => {
    const real = tree.inclusionProof(4, 5);
    const lie = { leafIndex: 1, treeSize: 2, path: real.path };
    const leaf = { data: leaves[4] as Buffer };
    assert.ok(verifyInclusion(lie, leaf, roots[5] as string), 'both paths are one left sibling: RFC 9162 verification cannot tell');
    assert.equal(verifyInclusion(lie, leaf, { treeSize: 5, root: roots[5] as string }), false, 'a tree head settles it');
    assert.ok(verifyInclusion(real, leaf, { treeSize: 5, root: roots[5] as string }));
  });
});

describe('consistency proofs between every pair of sizes 0 ≤ m ≤ n ≤ 70', () => {
  it('every pair proves and verifies, against roots and tree heads, after a JSON round trip', () => {
    let count = 0;
    for (let toSize = 0; toSize <= MAX; toSize += 1) {
      for (let fromSize = 0; fromSize <= toSize; fromSize += 1) {
        const proof = tree.consistencyProof(fromSize, toSize);
        assert.deepEqual(
          proof.path,
          consistencyPath(fromSize, leaves.slice(0, toSize)).map((hash) => hash.toString('hex')),
        );
        const wire = JSON.parse(JSON.stringify(proof)) as ConsistencyProof;
        const from = roots[fromSize] as string;
        const to = roots[toSize] as string;
        assert.ok(verifyConsistency(wire, from, to), `${fromSize} → ${toSize}`);
        assert.ok(verifyConsistency(proof, { treeSize: fromSize, root: from }, { treeSize: toSize, root: Buffer.from(to, 'hex') }));
        count += 1;
      }
    }
    assert.equal(count, ((MAX + 1) * (MAX + 2)) / 2);
  });

  it('rejects every tampered proof: a flipped byte, wrong sizes, a truncated or extended path, other roots', () => {
    for (let toSize = 1; toSize <= MAX; toSize += 1) {
      for (let fromSize = 1; fromSize < toSize; fromSize += 1) {
        const proof = tree.consistencyProof(fromSize, toSize);
        const { path } = proof;
        const from = roots[fromSize] as string;
        const to = roots[toSize] as string;
        const heads = [
          { treeSize: fromSize, root: from },
          { treeSize: toSize, root: to },
        ] as const;
        const tampered: Array<[string, ConsistencyProof]> = [
          ...path.map((_, at): [string, ConsistencyProof] => [`byte flipped in path[${at}]`, { ...proof, path: flipByte(path, at) }]),
          ...[fromSize - 1, fromSize + 1, toSize]
            .filter((other) => other !== fromSize)
            .map((other): [string, ConsistencyProof] => [`fromSize ${other}`, { ...proof, fromSize: other }]),
          ...[toSize - 1, toSize + 1, toSize * 2]
            .filter((other) => other !== toSize)
            .map((other): [string, ConsistencyProof] => [`toSize ${other}`, { ...proof, toSize: other }]),
          ['path truncated', { ...proof, path: path.slice(0, -1) }],
          ['first element dropped', { ...proof, path: path.slice(1) }],
          ['path extended', { ...proof, path: [...path, OTHER] }],
          ['old root prepended', { ...proof, path: [from, ...path] }],
          ['empty path', { ...proof, path: [] }],
        ];
        for (const [what, probe] of tampered) {
          assert.equal(verifyConsistency(probe, heads[0], heads[1]), false, `${what}: ${fromSize} → ${toSize}`);
        }
        assert.equal(verifyConsistency(proof, OTHER, to), false);
        assert.equal(verifyConsistency(proof, from, OTHER), false);
        assert.equal(verifyConsistency(proof, to, from), false);
        assert.equal(verifyConsistency(proof, roots[fromSize - 1] as string, to), false);
      }
    }
  });
});

/** Whether the proof with `treeSize` instead of its own takes other steps, so that even against a bare root it must fail. */
function sizeChangesShape(proof: InclusionProof, treeSize: number): boolean {
  if (treeSize === proof.treeSize) return true;
  return proof.leafIndex >= treeSize || inclusionShape(proof.leafIndex, treeSize) !== inclusionShape(proof.leafIndex, proof.treeSize);
}

/** The RFC 9162 §2.1.3.2 verifier's sequence of left/right steps, e.g. "RLR": what a proof's sizes decide. */
function inclusionShape(leafIndex: number, treeSize: number): string {
  let steps = '';
  for (let start = 0, end = treeSize; end - start > 1;) {
    const k = splitPoint(end - start);
    if (leafIndex < start + k) {
      steps = `R${steps}`;
      end = start + k;
    } else {
      steps = `L${steps}`;
      start += k;
    }
  }
  return steps;
}

describe('malformed proofs and bad arguments', () => {
  const proof = tree.inclusionProof(5, 8);
  const leaf = { data: leaves[5] as Buffer };
  const root = roots[8] as string;

  it('a proof that cannot be read throws MalformedProofError naming the field', () => {
    const bad = (value: unknown) => value as InclusionProof;
    throwsField(() => verifyInclusion(bad(null), leaf, root), MalformedProofError, 'proof');
    throwsField(() => verifyInclusion(bad([1, 2]), leaf, root), MalformedProofError, 'proof');
    for (const leafIndex of [-1, 1.5, '5', Number.NaN, 2 ** 53, undefined])
      throwsField(() => verifyInclusion(bad({ ...proof, leafIndex }), leaf, root), MalformedProofError, 'proof.leafIndex');
    throwsField(() => verifyInclusion(bad({ leafIndex: 5, path: proof.path }), leaf, root), MalformedProofError, 'proof.treeSize');
    throwsField(() => verifyInclusion(bad({ ...proof, path: proof.path.join('') }), leaf, root), MalformedProofError, 'proof.path');
    throwsField(() => verifyInclusion(bad({ leafIndex: 5, treeSize: 8 }), leaf, root), MalformedProofError, 'proof.path');
    throwsField(
      () => verifyConsistency(bad({ fromSize: 3, toSize: 8 }) as unknown as ConsistencyProof, root, root),
      MalformedProofError,
      'proof.path',
    );
    const replaced = (at: number, value: unknown) =>
      bad({ ...proof, path: proof.path.map((element, index) => (index === at ? value : element)) });
    for (const element of [
      'zz' + (proof.path[1] as string).slice(2),
      (proof.path[1] as string).slice(0, 62),
      `${proof.path[1] as string}0`,
      ` ${(proof.path[1] as string).slice(1)}`,
      `0x${(proof.path[1] as string).slice(2)}`,
      42,
      null,
      new Uint8Array(31),
    ])
      throwsField(() => verifyInclusion(replaced(1, element), leaf, root), MalformedProofError, 'proof.path[1]');
    // Every element is read, even past the length the sizes call for.
    throwsField(
      () => verifyInclusion(bad({ ...proof, path: [...proof.path, 'nothex'] }), leaf, root),
      MalformedProofError,
      'proof.path[3]',
    );
    const consistency = tree.consistencyProof(3, 8);
    throwsField(() => verifyConsistency({ ...consistency, fromSize: -3 }, roots[3] as string, root), MalformedProofError, 'proof.fromSize');
    throwsField(() => verifyConsistency({ ...consistency, path: ['00'] }, roots[3] as string, root), MalformedProofError, 'proof.path[0]');
  });

  it('a leaf or root that is not one throws ValidationError (not MalformedProofError) naming it', () => {
    const notProof = (run: () => unknown, field: string) => {
      throwsField(run, ValidationError, field);
      assert.throws(run, (error: unknown) => !(error instanceof MalformedProofError));
    };
    notProof(() => verifyInclusion(proof, leaf, root.slice(1)), 'root');
    notProof(() => verifyInclusion(proof, leaf, new Uint8Array(33)), 'root');
    notProof(() => verifyInclusion(proof, leaf, { treeSize: -1, root }), 'root.treeSize');
    notProof(() => verifyInclusion(proof, leaf, { treeSize: 8, root: 'nope' }), 'root.root');
    notProof(() => verifyInclusion(proof, {} as { hash: string }, root), 'leaf');
    notProof(() => verifyInclusion(proof, { data: leaves[5] as Buffer, hash: root } as unknown as { hash: string }, root), 'leaf');
    notProof(() => verifyInclusion(proof, { data: 'leaf 5' } as unknown as { data: Uint8Array }, root), 'leaf.data');
    notProof(() => verifyInclusion(proof, { hash: 'leaf 5' }, root), 'leaf.hash');
    notProof(() => verifyConsistency(tree.consistencyProof(3, 8), 42 as unknown as string, root), 'fromRoot');
    notProof(
      () => verifyConsistency(tree.consistencyProof(3, 8), roots[3] as string, { treeSize: 8, root: null as unknown as string }),
      'toRoot.root',
    );
  });

  it('trees refuse bad arguments with ValidationError', () => {
    throwsField(() => tree.inclusionProof(8, 8), ValidationError, 'leafIndex');
    throwsField(() => tree.inclusionProof(-1), ValidationError, 'leafIndex');
    throwsField(() => tree.inclusionProof(0, MAX + 1), ValidationError, 'treeSize');
    throwsField(() => tree.inclusionProof(0, 0), ValidationError, 'treeSize');
    throwsField(() => tree.consistencyProof(9, 8), ValidationError, 'fromSize');
    throwsField(() => tree.consistencyProof(1, MAX + 1), ValidationError, 'toSize');
    throwsField(() => tree.root(MAX + 1), ValidationError, 'size');
    throwsField(() => tree.root(1.5), ValidationError, 'size');
    throwsField(() => tree.leafHash(MAX), ValidationError, 'index');
    assert.throws(() => new MerkleTree().inclusionProof(0), /the tree is empty/);
    throwsField(() => tree.append('text' as unknown as Uint8Array), ValidationError, 'data');
    throwsField(() => new CompactMerkleTree().append([1, 2] as unknown as Uint8Array), ValidationError, 'data');
    throwsField(() => new MerkleTree().appendLeafHash('zz'), ValidationError, 'leafHash');
    throwsField(() => new CompactMerkleTree().appendLeafHash(new Uint8Array(16)), ValidationError, 'leafHash');
    throwsField(() => MerkleTree.fromLeafHashes([OTHER, 'short']), ValidationError, 'leafHashes[1]');
    throwsField(() => merkleRoot([OTHER, OTHER, new Uint8Array(0)]), ValidationError, 'leafHashes[2]');
  });

  it('a failed append leaves the tree as it was', () => {
    const stored = MerkleTree.fromLeafHashes([OTHER]);
    const compact = new CompactMerkleTree();
    compact.appendLeafHash(OTHER);
    assert.throws(() => stored.appendLeafHash('zz'));
    assert.throws(() => compact.appendLeafHash('zz'));
    stored.appendLeafHash(OTHER);
    compact.appendLeafHash(OTHER);
    assert.equal(stored.size, 2);
    assert.equal(hex(stored.root()), hex(merkleRoot([OTHER, OTHER])));
    assert.equal(hex(compact.root()), hex(stored.root()));
  });
});

describe('the trees', () => {
  it('append returns the leaf index; the empty tree has the empty root', () => {
    const stored = new MerkleTree();
    const compact = new CompactMerkleTree();
    assert.equal(hex(stored.root()), EMPTY_TREE_ROOT);
    assert.equal(hex(compact.root()), EMPTY_TREE_ROOT);
    assert.equal(hex(merkleRoot([])), EMPTY_TREE_ROOT);
    for (let index = 0; index < 5; index += 1) {
      assert.equal(stored.append(leaves[index] as Buffer), index);
      assert.equal(compact.append(leaves[index] as Buffer), index);
    }
    assert.equal(stored.size, 5);
    assert.equal(compact.size, 5);
  });

  it('a compact tree saved as JSON resumes where it stopped', () => {
    const whole = new CompactMerkleTree();
    let resumed = new CompactMerkleTree();
    for (let index = 0; index < MAX; index += 1) {
      whole.append(leaves[index] as Buffer);
      resumed.append(leaves[index] as Buffer);
      resumed = CompactMerkleTree.fromJSON(JSON.parse(JSON.stringify(resumed)) as ReturnType<CompactMerkleTree['toJSON']>);
      assert.equal(resumed.size, index + 1);
      assert.equal(hex(resumed.root()), roots[index + 1]);
    }
    assert.deepEqual(resumed.toJSON(), whole.toJSON());
    assert.equal(whole.toJSON().hashes.length, 3, '70 = 64 + 4 + 2');
  });

  it('CompactMerkleTree.fromJSON refuses what is not a state', () => {
    const state = { size: 3, hashes: [OTHER, OTHER] };
    throwsField(() => CompactMerkleTree.fromJSON(null as unknown as typeof state), ValidationError, 'state');
    throwsField(() => CompactMerkleTree.fromJSON({ ...state, size: -1 }), ValidationError, 'state.size');
    throwsField(() => CompactMerkleTree.fromJSON({ ...state, size: 4 }), ValidationError, 'state.hashes');
    throwsField(() => CompactMerkleTree.fromJSON({ size: 3, hashes: [OTHER, 'x'] }), ValidationError, 'state.hashes[1]');
    assert.equal(CompactMerkleTree.fromJSON(state).size, 3);
  });

  it('hands out copies: changing a returned hash changes nothing inside', () => {
    const compact = new CompactMerkleTree();
    compact.append(leaves[0] as Buffer);
    const stored = MerkleTree.fromLeafHashes([hashLeaf(leaves[0] as Buffer)]);
    for (const hash of [compact.root(), stored.root(), stored.leafHash(0)]) hash.fill(0);
    assert.equal(hex(compact.root()), roots[1]);
    assert.equal(hex(stored.root()), roots[1]);
    assert.equal(hex(stored.leafHash(0)), roots[1]);
  });

  it('hashes leaves of any size, including past the one-shot scratch (16 KiB)', () => {
    const sizes = [0, 1, 31, 32, 33, 64, 65, 1000, 16 * 1024, 16 * 1024 + 1, 100_000];
    const data = sizes.map((size, index) => Buffer.alloc(size, index + 1));
    const stored = new MerkleTree();
    const compact = new CompactMerkleTree();
    for (const item of data) {
      assert.equal(hex(hashLeaf(item)), hex(leafHash(item)));
      stored.append(item);
      compact.append(item);
    }
    assert.equal(hex(stored.root()), hex(mth(data)));
    assert.equal(hex(compact.root()), hex(mth(data)));
    const backing = new Uint8Array(40);
    backing.set(data[3] as Buffer, 2);
    const view = backing.subarray(2, 34);
    assert.equal(hex(hashLeaf(view)), hex(leafHash(data[3] as Buffer)), 'a Uint8Array view hashes its own bytes only');
  });

  it('grows past its first chunks: 5,000 leaves', () => {
    const many = Array.from({ length: 5000 }, (_, index) => Buffer.from(`record ${index}`));
    const stored = new MerkleTree();
    const compact = new CompactMerkleTree();
    for (const item of many) {
      stored.append(item);
      compact.append(item);
    }
    assert.equal(hex(stored.root()), hex(mth(many)));
    assert.equal(hex(compact.root()), hex(stored.root()));
    for (const size of [2048, 2049, 4096, 4097, 4999]) assert.equal(hex(stored.root(size)), hex(mth(many.slice(0, size))));
    for (const index of [0, 2047, 2048, 4095, 4096, 4999]) {
      const proof = stored.inclusionProof(index);
      assert.ok(verifyInclusion(proof, { data: many[index] as Buffer }, { treeSize: 5000, root: stored.root() }));
    }
    assert.ok(verifyConsistency(stored.consistencyProof(2049), stored.root(2049), stored.root()));
  });
});

describe('sizes past 2^32 (verification works on any safe integer)', () => {
  // A tree whose leaves are all the same: any subtree's hash depends only on its size, so proofs in trees of 2^40
  // or 2^53 - 1 leaves can be built without building the tree. A 32-bit shift anywhere in the verifier breaks them.
  const same = leafHash(Buffer.from('same'));
  const cache = new Map<number, Buffer>();
  const uniformRoot = (size: number): Buffer => {
    if (size === 1) return same;
    const known = cache.get(size);
    if (known) return known;
    const k = splitPoint(size);
    const root = nodeHash(uniformRoot(k), uniformRoot(size - k));
    cache.set(size, root);
    return root;
  };
  const path = (m: number, n: number): string[] => {
    const siblings: string[] = [];
    for (let start = 0, end = n; end - start > 1;) {
      const k = splitPoint(end - start);
      if (m < start + k) {
        siblings.unshift(uniformRoot(end - start - k).toString('hex'));
        end = start + k;
      } else {
        siblings.unshift(uniformRoot(k).toString('hex'));
        start += k;
      }
    }
    return siblings;
  };
  const consistency = (m: number, n: number): string[] => {
    const proof: string[] = [];
    let start = 0;
    let end = n;
    let whole = true;
    while (m !== end) {
      const k = splitPoint(end - start);
      if (m <= start + k) {
        proof.unshift(uniformRoot(end - start - k).toString('hex'));
        end = start + k;
      } else {
        proof.unshift(uniformRoot(k).toString('hex'));
        start += k;
        whole = false;
      }
    }
    if (!whole) proof.unshift(uniformRoot(end - start).toString('hex'));
    return proof;
  };

  it('inclusion', () => {
    for (const [leafIndex, treeSize] of [
      [2 ** 33 + 5, 2 ** 33 + 10],
      [2 ** 40 - 1, 2 ** 40 + 3],
      [2 ** 52 + 12_345, Number.MAX_SAFE_INTEGER],
      [Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER],
    ] as const) {
      const proof = { leafIndex, treeSize, path: path(leafIndex, treeSize) };
      const head = { treeSize, root: uniformRoot(treeSize) };
      assert.ok(verifyInclusion(proof, { hash: same }, head), `${leafIndex}/${treeSize}`);
      assert.equal(verifyInclusion({ ...proof, path: flipByte(proof.path, 0) }, { hash: same }, head), false);
    }
  });

  it('consistency', () => {
    for (const [fromSize, toSize] of [
      [2 ** 32 + 1, 2 ** 33 + 7],
      [2 ** 35 + 3, 2 ** 52 + 7],
      [2 ** 40, Number.MAX_SAFE_INTEGER],
      [3, 2 ** 45 + 1],
    ] as const) {
      const proof = { fromSize, toSize, path: consistency(fromSize, toSize) };
      const from = { treeSize: fromSize, root: uniformRoot(fromSize) };
      const to = { treeSize: toSize, root: uniformRoot(toSize) };
      assert.ok(verifyConsistency(proof, from, to), `${fromSize} → ${toSize}`);
      assert.equal(verifyConsistency({ ...proof, path: proof.path.slice(1) }, from, to), false);
    }
  });
});
