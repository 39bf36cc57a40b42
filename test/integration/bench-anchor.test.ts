// Keeps the anchoring benchmark runnable: a short run must print the batched, per-record, rss and summary lines with
// positive figures. No speed is asserted here: the figures belong to `npm run bench`.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runBenchScript } from '../support/bench.js';

const BENCH = fileURLToPath(new URL('../../bench/anchor.bench.ts', import.meta.url));

interface BenchLine {
  bench: string;
  name: string;
  records?: number;
  recordsPerSec?: number;
  appendsPerSec?: number;
  ledgerTransactions?: number;
  appendToDurableMs?: { p50: number; p99: number };
  appendToAnchoredMs?: { p50: number; p99: number };
  rssMiB?: { start: number; max: number; end: number };
  goals?: Record<string, boolean>;
}

describe('bench/anchor.bench.ts', () => {
  it('measures batched and per-record anchoring, memory, and summarises against the goals', { timeout: 180_000 }, async () => {
    const { status, stdout, stderr } = await runBenchScript(BENCH, {
      BENCH_ANCHOR_RECORDS: '600',
      BENCH_ANCHOR_RECORD_MODE_RECORDS: '20',
      BENCH_ANCHOR_RSS_RECORDS: '1000',
      BENCH_ANCHOR_CONCURRENCY: '32',
    });
    assert.equal(status, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as BenchLine);
    assert.deepEqual(
      lines.map((line) => line.name),
      ['batched', 'per-record', 'rss', 'summary'],
    );
    for (const line of lines.slice(0, 2)) {
      assert.ok((line.recordsPerSec ?? 0) > 0 && (line.appendsPerSec ?? 0) > 0, JSON.stringify(line));
      assert.ok((line.ledgerTransactions ?? 0) > 0 && (line.ledgerTransactions ?? 0) <= (line.records ?? 0), JSON.stringify(line));
      assert.ok((line.appendToAnchoredMs?.p99 ?? 0) >= (line.appendToAnchoredMs?.p50 ?? -1), JSON.stringify(line));
    }
    assert.equal(lines[1]?.ledgerTransactions, 20, 'per-record mode: one transaction per record');
    assert.ok((lines[2]?.rssMiB?.max ?? 0) > 0);
    assert.deepEqual(Object.keys(lines[3]?.goals ?? {}).sort(), [
      'appendToDurableP99Ms',
      'batchedRecordsPerSec',
      'batchedVsPerRecord',
      'ledgerTransactionsPer1000',
      'rssMaxMiB',
    ]);
  });
});
