// A naive RFC 9162 Merkle tree, written from the RFC's recursive definitions (§2.1.1 MTH, §2.1.3.1 PATH, §2.1.4.1
// PROOF/SUBPROOF) with createHash and Buffer.concat, and verifiers that rebuild the roots by the same recursion. Slow
// and obviously right: the reference src/merkle is tested against. It shares no code with src/merkle.
import { createHash } from 'node:crypto';

const sha256 = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/** The largest power of two smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function leafHash(data: Uint8Array): Buffer {
  return sha256(LEAF, data);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(NODE, left, right);
}

/** MTH(D[n]) over the leaves' data. */
export function mth(leaves: readonly Uint8Array[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leafHash(leaves[0] as Uint8Array);
  const k = splitPoint(leaves.length);
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** PATH(m, D[n]). */
export function inclusionPath(m: number, leaves: readonly Uint8Array[]): Buffer[] {
  const n = leaves.length;
  if (n <= 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...inclusionPath(m, leaves.slice(0, k)), mth(leaves.slice(k))];
  return [...inclusionPath(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

/** PROOF(m, D[n]), with the trivial cases (m = 0, m = n) as empty proofs. */
export function consistencyPath(m: number, leaves: readonly Uint8Array[]): Buffer[] {
  if (m === 0 || m === leaves.length) return [];
  return subproof(m, leaves, true);
}

function subproof(m: number, leaves: readonly Uint8Array[], complete: boolean): Buffer[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [mth(leaves)];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(m, leaves.slice(0, k), complete), mth(leaves.slice(k))];
  return [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

/** The root PATH's recursion rebuilds from a leaf hash, or undefined when the path does not fit (m, n). */
function rootFromPath(m: number, n: number, leaf: Buffer, path: readonly Buffer[]): Buffer | undefined {
  if (n === 1) return path.length === 0 ? leaf : undefined;
  const last = path.at(-1);
  if (last === undefined) return undefined;
  const k = splitPoint(n);
  const rest = path.slice(0, -1);
  if (m < k) {
    const left = rootFromPath(m, k, leaf, rest);
    return left && nodeHash(left, last);
  }
  const right = rootFromPath(m - k, n - k, leaf, rest);
  return right && nodeHash(last, right);
}

export function naiveVerifyInclusion(m: number, n: number, leaf: Buffer, path: readonly Buffer[], root: Buffer): boolean {
  if (!(m >= 0 && m < n)) return false;
  return rootFromPath(m, n, leaf, path)?.equals(root) ?? false;
}

/** The old and new roots SUBPROOF's recursion rebuilds, given the old root for the complete-subtree case. */
function rootsFromSubproof(
  m: number,
  n: number,
  path: readonly Buffer[],
  complete: boolean,
  oldRoot: Buffer,
): [Buffer, Buffer] | undefined {
  if (m === n) {
    if (complete) return path.length === 0 ? [oldRoot, oldRoot] : undefined;
    const only = path[0];
    return path.length === 1 && only !== undefined ? [only, only] : undefined;
  }
  const last = path.at(-1);
  if (last === undefined) return undefined;
  const k = splitPoint(n);
  const rest = path.slice(0, -1);
  if (m <= k) {
    const roots = rootsFromSubproof(m, k, rest, complete, oldRoot);
    return roots && [roots[0], nodeHash(roots[1], last)];
  }
  const roots = rootsFromSubproof(m - k, n - k, rest, false, oldRoot);
  return roots && [nodeHash(last, roots[0]), nodeHash(last, roots[1])];
}

export function naiveVerifyConsistency(m: number, n: number, path: readonly Buffer[], oldRoot: Buffer, newRoot: Buffer): boolean {
  if (m < 0 || m > n) return false;
  if (m === n) return path.length === 0 && oldRoot.equals(newRoot);
  if (m === 0) return path.length === 0 && oldRoot.equals(sha256());
  const roots = rootsFromSubproof(m, n, path, true, oldRoot);
  return roots !== undefined && roots[0].equals(oldRoot) && roots[1].equals(newRoot);
}
