/**
 * Speed of src/merkle against raw SHA-256 in the same process: leaves appended per second (CompactMerkleTree and
 * MerkleTree) and inclusion proofs verified per second in a tree of BENCH_MERKLE_LEAVES leaves (default 2^20), beside
 * node:crypto's rate for one SHA-256 of a 65-byte input (the size of a node hash's input).
 *
 * The raw rate is the fastest of node:crypto's ways to hash a 65-byte input, the strictest reference there is:
 * `createHash().update().digest()`, `crypto.hash(…, 'buffer')`, and `crypto.hash(…, 'binary')` whose digest stays a
 * string (nothing copied anywhere; in practice the fastest).
 *
 * Goals: appending ≥ 40 % of the raw rate (a leaf costs a leaf hash and, on average, one node hash); verifying a proof
 * ≥ 50 % of raw ÷ (1 + path length), i.e. ÷ 21 in a 2^20-leaf tree (the leaf is given as data: 1 leaf hash + 20 node
 * hashes). Leaves are 32 bytes (a record's SHA-256, what an anchoring pipeline appends).
 *
 * Every measurement runs once per round, one after the other, for BENCH_MERKLE_ROUNDS rounds (default 5); each figure
 * is its best round. Each rate is given per second of wall-clock time and per second of this process's CPU time: on a
 * shared machine other processes take the CPU away at random, which skews wall-clock ratios but not CPU-time ones, so
 * the goals are judged on CPU time (on an idle machine the two agree); the wall-clock ratios are printed too.
 * Prints one JSON line per measurement and a summary.
 */
import { createHash, hash, randomBytes } from 'node:crypto';
import { CompactMerkleTree, MerkleTree, verifyConsistency, verifyInclusion } from '../src/merkle/index.js';

const LEAVES = Number(process.env.BENCH_MERKLE_LEAVES ?? 2 ** 20);
const PROOFS = Number(process.env.BENCH_MERKLE_PROOFS ?? 50_000);
/** As many hashes as appending LEAVES leaves takes, so both measurements last about as long. */
const RAW_HASHES = Number(process.env.BENCH_MERKLE_RAW ?? 2 * LEAVES);
const ROUNDS = Number(process.env.BENCH_MERKLE_ROUNDS ?? 5);
const LEAF_BYTES = 32;
const APPEND_GOAL = 0.4;
const VERIFY_GOAL = 0.5;

function emit(line: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench: 'merkle', ...line }));
}

interface Rate {
  /** Per second of wall-clock time. */
  wall: number;
  /** Per second of this process's CPU time (user + system). */
  cpu: number;
}

/** Operations per second of one run of `run`, which performs `operations` of them. */
function rate(operations: number, run: () => void): Rate {
  const cpu = process.cpuUsage();
  const started = performance.now();
  run();
  const wallSeconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { wall: operations / wallSeconds, cpu: operations / ((used.user + used.system) / 1e6) };
}

// Distinct inputs, cycled: the same bytes every time could flatter a cache.
const POOL = 4096;
const inputs = Array.from({ length: POOL }, () => randomBytes(65));
const leafData = Array.from({ length: POOL }, () => randomBytes(LEAF_BYTES));
let sink = 0;

const RAW_METHODS: Array<[string, () => void]> = [
  [
    'createHash().digest()',
    () => {
      for (let i = 0; i < RAW_HASHES; i += 1)
        sink ^= createHash('sha256')
          .update(inputs[i % POOL] as Buffer)
          .digest()[0] as number;
    },
  ],
  [
    "crypto.hash(…, 'buffer')",
    () => {
      for (let i = 0; i < RAW_HASHES; i += 1) sink ^= hash('sha256', inputs[i % POOL] as Buffer, 'buffer')[0] as number;
    },
  ],
  [
    "crypto.hash(…, 'binary'), digest left a string",
    () => {
      for (let i = 0; i < RAW_HASHES; i += 1) sink ^= hash('sha256', inputs[i % POOL] as Buffer, 'binary').length;
    },
  ],
];

function appendAll(tree: CompactMerkleTree | MerkleTree): void {
  for (let i = 0; i < LEAVES; i += 1) tree.append(leafData[i % POOL] as Buffer);
  sink ^= tree.root()[0] as number;
}

// One tree for the proofs (every round builds the same tree again, so its proofs hold for all of them). The proofs
// are made afresh in each round, untimed, and dropped before the next: kept, their million strings would make every
// garbage collection during the append measurements mark them again.
const built = new MerkleTree();
appendAll(built);
const root = built.root();
const inclusionProofs = () =>
  Array.from({ length: PROOFS }, () => {
    const index = Math.floor(Math.random() * built.size);
    return { proof: built.inclusionProof(index), data: leafData[index % POOL] as Buffer };
  });
const consistencyProofs = () =>
  Array.from({ length: Math.min(PROOFS, 10_000) }, () => {
    const fromSize = 1 + Math.floor(Math.random() * (built.size - 1));
    return { proof: built.consistencyProof(fromSize), fromRoot: built.root(fromSize) };
  });
let hashesPerProof = 0;
let consistencyCount = 0;

const best = new Map<string, Rate>();
const keep = (name: string, value: Rate) => {
  const known = best.get(name) ?? { wall: 0, cpu: 0 };
  best.set(name, { wall: Math.max(known.wall, value.wall), cpu: Math.max(known.cpu, value.cpu) });
};
for (let round = 0; round < ROUNDS; round += 1) {
  for (const [method, run] of RAW_METHODS) keep(method, rate(RAW_HASHES, run));
  keep(
    'compact',
    rate(LEAVES, () => appendAll(new CompactMerkleTree())),
  );
  keep(
    'stored',
    rate(LEAVES, () => appendAll(new MerkleTree())),
  );
  const inclusion = inclusionProofs();
  hashesPerProof = 1 + inclusion.reduce((sum, { proof }) => sum + proof.path.length, 0) / PROOFS;
  keep(
    'verify-inclusion',
    rate(PROOFS, () => {
      for (const { proof, data } of inclusion) if (!verifyInclusion(proof, { data }, root)) throw new Error('a valid proof did not verify');
    }),
  );
  const consistency = consistencyProofs();
  consistencyCount = consistency.length;
  keep(
    'verify-consistency',
    rate(consistency.length, () => {
      for (const { proof, fromRoot } of consistency)
        if (!verifyConsistency(proof, fromRoot, root)) throw new Error('a valid consistency proof did not verify');
    }),
  );
}

const figure = (name: string): Rate => best.get(name) ?? { wall: 0, cpu: 0 };
/** `{ <unit>PerSec, <unit>PerCpuSec }`, rounded. */
const per = (unit: string, value: Rate) => ({ [`${unit}PerSec`]: Math.round(value.wall), [`${unit}PerCpuSec`]: Math.round(value.cpu) });
let reference = { method: '', rate: { wall: 0, cpu: 0 } };
for (const [method] of RAW_METHODS) {
  emit({ name: 'raw-sha256', inputBytes: 65, method, hashes: RAW_HASHES, rounds: ROUNDS, ...per('hashes', figure(method)) });
  if (figure(method).cpu > reference.rate.cpu) reference = { method, rate: figure(method) };
}
for (const tree of ['compact', 'stored'])
  emit({ name: 'append', tree, leafBytes: LEAF_BYTES, leaves: LEAVES, rounds: ROUNDS, ...per('leaves', figure(tree)) });
emit({
  name: 'verify-inclusion',
  treeSize: built.size,
  proofs: PROOFS,
  hashesPerProof,
  rounds: ROUNDS,
  ...per('proofs', figure('verify-inclusion')),
});
emit({
  name: 'verify-consistency',
  treeSize: built.size,
  proofs: consistencyCount,
  rounds: ROUNDS,
  ...per('proofs', figure('verify-consistency')),
});

const ratio = (value: number) => Number(value.toFixed(3));
const ratios = (clock: keyof Rate) => ({
  appendVsRaw: {
    compact: ratio(figure('compact')[clock] / reference.rate[clock]),
    stored: ratio(figure('stored')[clock] / reference.rate[clock]),
  },
  verifyVsRawPerProof: ratio(figure('verify-inclusion')[clock] / (reference.rate[clock] / hashesPerProof)),
});
const judged = ratios('cpu');
emit({
  name: 'summary',
  rawMethod: reference.method,
  rawHashesPerCpuSec: Math.round(reference.rate.cpu),
  rawHashesPerSec: Math.round(reference.rate.wall),
  ...judged,
  appendGoal: APPEND_GOAL,
  appendGoalMet: { compact: judged.appendVsRaw.compact >= APPEND_GOAL, stored: judged.appendVsRaw.stored >= APPEND_GOAL },
  hashesPerProof,
  verifyGoal: VERIFY_GOAL,
  verifyGoalMet: judged.verifyVsRawPerProof >= VERIFY_GOAL,
  wallClock: ratios('wall'),
});
if (sink === 0.5) console.error('unreachable: keeps the results alive');
