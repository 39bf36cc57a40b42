// Keeps the anchoring benchmark runnable: a short run must print the batched, per-record, latency, rss and summary lines with
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
  appendToDurableMs?: { p50: number; p99: number; max: number };
  appendToAnchoredMs?: { p50: number; p99: number };
  maxMiB?: { rss: number; anon: number; file: number; liveHeap: number };
  samples?: Array<{ records: number }>;
  goals?: Record<string, boolean>;
}

describe('bench/anchor.bench.ts', () => {
  it('measures batched and per-record anchoring, memory, and summarises against the goals', { timeout: 180_000 }, async () => {
    const { status, stdout, stderr } = await runBenchScript(BENCH, {
      BENCH_ANCHOR_RECORDS: '600',
      BENCH_ANCHOR_RECORD_MODE_RECORDS: '20',
      BENCH_ANCHOR_LATENCY_RECORDS: '500',
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
      ['batched', 'per-record', 'latency', 'rss', 'summary'],
    );
    for (const line of lines.slice(0, 2)) {
      assert.ok((line.recordsPerSec ?? 0) > 0 && (line.appendsPerSec ?? 0) > 0, JSON.stringify(line));
      assert.ok((line.ledgerTransactions ?? 0) > 0 && (line.ledgerTransactions ?? 0) <= (line.records ?? 0), JSON.stringify(line));
      assert.ok((line.appendToAnchoredMs?.p99 ?? 0) >= (line.appendToAnchoredMs?.p50 ?? -1), JSON.stringify(line));
    }
    assert.equal(lines[1]?.ledgerTransactions, 20, 'per-record mode: one transaction per record');
    const latency = lines[2]?.appendToDurableMs;
    assert.ok(
      latency !== undefined && latency.p50 > 0 && latency.max >= latency.p99 && latency.p99 >= latency.p50,
      JSON.stringify(lines[2]),
    );
    const memory = lines[3];
    assert.ok((memory?.maxMiB?.anon ?? 0) > 0 && (memory?.maxMiB?.rss ?? 0) >= (memory?.maxMiB?.anon ?? 0), JSON.stringify(memory));
    assert.deepEqual(
      memory?.samples?.map((sample) => sample.records),
      [0, 1000],
      'sampled at the start and at the end',
    );
    assert.deepEqual(Object.keys(lines[4]?.goals ?? {}).sort(), [
      'anonymousRssMaxMiB',
      'appendToDurableP99Ms',
      'batchedRecordsPerSec',
      'batchedVsPerRecord',
      'ledgerTransactionsPer1000',
    ]);
  });
});
