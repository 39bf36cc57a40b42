// Keeps the Fabric ledger benchmark runnable: a short run (one second per measurement, 1 and 2 submitters) on a
// real network must produce a line per transaction type and concurrency, with transactions committed and none
// failed. No speed is asserted here: the figures belong to `npm run bench`.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { fabricProblem } from '../support/fabric.js';
import { runBenchScript } from '../support/bench.js';
import { skipUnlessAvailable } from '../support/services.js';

const BENCH = fileURLToPath(new URL('../../bench/fabric-ledger.bench.ts', import.meta.url));

interface BenchLine {
  bench: string;
  name?: string;
  transaction?: string;
  concurrency?: number;
  transactions?: number;
  txPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  failures?: number;
}

describe('bench/fabric-ledger.bench.ts', { skip: skipUnlessAvailable(fabricProblem()) }, () => {
  it('measures AnchorBatch and PublishTelemetryData at each concurrency', { timeout: 240_000 }, async () => {
    const { status, stdout, stderr } = await runBenchScript(BENCH, {
      BENCH_SECONDS: '1',
      BENCH_CONCURRENCY: '1,2',
      BENCH_BATCH_TIMEOUTS: '100ms',
    });
    assert.equal(status, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as BenchLine);
    assert.ok(
      lines.every((line) => line.bench === 'fabric-ledger'),
      stdout,
    );
    assert.ok(
      lines.some((line) => line.name === 'network-up'),
      stdout,
    );
    for (const transaction of ['AnchorBatch', 'PublishTelemetryData']) {
      const runs = lines.filter((line) => line.transaction === transaction);
      assert.deepEqual(
        runs.map((line) => line.concurrency),
        [1, 2],
        stdout,
      );
      for (const run of runs) {
        assert.ok((run.transactions ?? 0) > 0 && (run.txPerSec ?? 0) > 0, stdout);
        assert.ok((run.p50Ms ?? 0) > 0 && (run.p99Ms ?? 0) >= (run.p50Ms ?? 0), stdout);
        assert.equal(run.failures, 0, stdout);
      }
    }
  });
});
