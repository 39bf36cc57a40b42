// Keeps the Merkle benchmark runnable: a short run (a 1,024-leaf tree, few proofs, one round) must print the raw
// SHA-256 lines, both append lines, both verify lines (wall-clock and CPU-time rates) and a summary with both goals. No speed is asserted here:
// the figures belong to `npm run bench`.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runBenchScript } from '../support/bench.js';

const BENCH = fileURLToPath(new URL('../../bench/merkle.bench.ts', import.meta.url));

interface BenchLine {
  bench: string;
  name: string;
  method?: string;
  hashesPerSec?: number;
  hashesPerCpuSec?: number;
  tree?: string;
  leavesPerSec?: number;
  leavesPerCpuSec?: number;
  treeSize?: number;
  proofsPerSec?: number;
  proofsPerCpuSec?: number;
  hashesPerProof?: number;
  rawHashesPerSec?: number;
  rawHashesPerCpuSec?: number;
  wallClock?: { appendVsRaw: { compact: number; stored: number }; verifyVsRawPerProof: number };
  appendVsRaw?: { compact: number; stored: number };
  appendGoalMet?: { compact: boolean; stored: boolean };
  verifyVsRawPerProof?: number;
  verifyGoalMet?: boolean;
}

describe('bench/merkle.bench.ts', () => {
  it('measures raw SHA-256, appending, verifying, and summarises against both goals', { timeout: 120_000 }, async () => {
    const { status, stdout, stderr } = await runBenchScript(BENCH, {
      BENCH_MERKLE_LEAVES: '1024',
      BENCH_MERKLE_PROOFS: '200',
      BENCH_MERKLE_RAW: '5000',
      BENCH_MERKLE_ROUNDS: '1',
    });
    assert.equal(status, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as BenchLine);
    assert.ok(
      lines.every((line) => line.bench === 'merkle'),
      stdout,
    );
    const raw = lines.filter((line) => line.name === 'raw-sha256');
    assert.equal(raw.length, 3, stdout);
    assert.ok(raw.every((line) => (line.hashesPerSec ?? 0) > 0 && (line.hashesPerCpuSec ?? 0) > 0 && typeof line.method === 'string'));
    const appended = lines.filter((line) => line.name === 'append');
    assert.deepEqual(appended.map((line) => line.tree).sort(), ['compact', 'stored']);
    assert.ok(appended.every((line) => (line.leavesPerSec ?? 0) > 0 && (line.leavesPerCpuSec ?? 0) > 0));
    for (const name of ['verify-inclusion', 'verify-consistency']) {
      const line = lines.find((candidate) => candidate.name === name);
      assert.ok(line && line.treeSize === 1024 && (line.proofsPerSec ?? 0) > 0 && (line.proofsPerCpuSec ?? 0) > 0, `${name}:\n${stdout}`);
    }
    const summary = lines.find((line) => line.name === 'summary');
    assert.ok(summary, stdout);
    assert.equal(summary.hashesPerProof, 11, 'a 1,024-leaf tree: a leaf hash and 10 node hashes per proof');
    assert.ok((summary.rawHashesPerCpuSec ?? 0) > 0 && (summary.rawHashesPerSec ?? 0) > 0 && (summary.verifyVsRawPerProof ?? 0) > 0);
    assert.ok((summary.wallClock?.verifyVsRawPerProof ?? 0) > 0 && (summary.wallClock?.appendVsRaw.stored ?? 0) > 0);
    assert.ok((summary.appendVsRaw?.compact ?? 0) > 0 && (summary.appendVsRaw?.stored ?? 0) > 0);
    assert.equal(typeof summary.appendGoalMet?.compact, 'boolean');
    assert.equal(typeof summary.appendGoalMet?.stored, 'boolean');
    assert.equal(typeof summary.verifyGoalMet, 'boolean');
  });
});
