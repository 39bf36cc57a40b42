// Keeps the DevLedger benchmark runnable: a short run (one second per measurement, 1 and 4 submitters, one block
// timeout) must print a line per concurrency with transactions committed in blocks and none failed. No speed is
// asserted here: the figures (and whether the 1,000 submits/s goal is met) belong to `npm run bench`.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runBenchScript } from '../support/bench.js';

const BENCH = fileURLToPath(new URL('../../bench/dev-ledger.bench.ts', import.meta.url));

interface BenchLine {
  bench: string;
  transaction: string;
  concurrency: number;
  blockTimeoutMs: number;
  transactions: number;
  submitsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  blocks: number;
  transactionsPerBlock: number;
  goalSubmitsPerSec: number;
  goalMet: boolean;
  failures: number;
}

describe('bench/dev-ledger.bench.ts', () => {
  it('measures AnchorBatch submits/s and commit latency at each concurrency', { timeout: 120_000 }, async () => {
    const { status, stdout, stderr } = await runBenchScript(BENCH, {
      BENCH_SECONDS: '1',
      BENCH_CONCURRENCY: '1,4',
      BENCH_BLOCK_TIMEOUTS: '2',
    });
    assert.equal(status, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as BenchLine);
    assert.deepEqual(
      lines.map((line) => [line.bench, line.transaction, line.concurrency, line.blockTimeoutMs]),
      [
        ['dev-ledger', 'AnchorBatch', 1, 2],
        ['dev-ledger', 'AnchorBatch', 4, 2],
      ],
      stdout,
    );
    for (const line of lines) {
      assert.ok(line.transactions > 0 && line.submitsPerSec > 0, stdout);
      assert.ok(line.p50Ms > 0 && line.p99Ms >= line.p50Ms, stdout);
      assert.ok(line.blocks > 0 && line.blocks <= line.transactions, stdout);
      assert.equal(line.goalSubmitsPerSec, 1000);
      assert.equal(typeof line.goalMet, 'boolean');
      assert.equal(line.failures, 0, stdout);
    }
  });
});
