/**
 * The anchoring pipeline on its embedded defaults (DevLedger + EmbeddedStore in a temp folder, durable outbox), 256-byte
 * payloads, many concurrent appends. One run measures both modes:
 * - `batched` and `per-record`: records/s from the first append until every record is anchored (its proof available),
 *   appends/s, ledger transactions per 10,000 records, p50/p99 of append → durable (the `append` call) and of
 *   append → anchored (seen through `status()`);
 * - `rss`: resident memory while appending many records in batch mode (sampled; start, max, end).
 * Goals (issue): batched ≥ 10,000 records/s sustained and ≥ 50× per-record; ≤ 1 ledger transaction per 1,000 records;
 * p99 append → durable ≤ 25 ms; RSS ≤ 250 MB over 1,000,000 records.
 *
 *   BENCH_ANCHOR_RECORDS (20000)  BENCH_ANCHOR_RECORD_MODE_RECORDS (500)  BENCH_ANCHOR_RSS_RECORDS (1000000)
 *   BENCH_ANCHOR_CONCURRENCY (256)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Anchorer } from '../src/anchor/anchorer.js';
import type { AnchorMode } from '../src/anchor/types.js';

const RECORDS = Number(process.env.BENCH_ANCHOR_RECORDS ?? 20_000);
const RECORD_MODE_RECORDS = Number(process.env.BENCH_ANCHOR_RECORD_MODE_RECORDS ?? 500);
const RSS_RECORDS = Number(process.env.BENCH_ANCHOR_RSS_RECORDS ?? 1_000_000);
const CONCURRENCY = Number(process.env.BENCH_ANCHOR_CONCURRENCY ?? 256);
const PAYLOAD_BYTES = 256;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

function payload(i: number): Uint8Array {
  const bytes = new Uint8Array(PAYLOAD_BYTES).fill(0x61);
  new DataView(bytes.buffer).setUint32(0, i);
  return bytes;
}

interface Measured {
  records: number;
  recordsPerSec: number;
  appendsPerSec: number;
  ledgerTransactions: number;
  appendToDurableMs: { p50: number; p99: number };
  appendToAnchoredMs: { p50: number; p99: number };
}

async function measure(mode: AnchorMode, records: number): Promise<Measured> {
  const dataDir = mkdtempSync(join(tmpdir(), 'twinledger-anchor-bench-'));
  const anchorer = await Anchorer.open({ dataDir, mode, batch: { maxLeaves: 10_000, maxWaitMs: 250 }, maxBacklog: records + 1 });
  try {
    const appendedAt = new Float64Array(records + 1);
    const durable: number[] = [];
    const anchoredLatency: number[] = [];
    let anchoredUpTo = 0;
    let next = 0;
    const started = performance.now();
    const watcher = (async () => {
      while (anchoredUpTo < records) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const stream = anchorer.status().streams[0];
        const upTo = mode === 'batch' ? (stream?.lastAnchoredBatch?.lastSeq ?? 0) : (stream?.lastSeq ?? 0) - (stream?.backlog ?? 0);
        const now = performance.now();
        for (let seq = anchoredUpTo + 1; seq <= upTo; seq += 1) anchoredLatency.push(now - appendedAt[seq]!);
        anchoredUpTo = Math.max(anchoredUpTo, upTo);
      }
    })();
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, records) }, async () => {
        while (next < records) {
          const i = (next += 1);
          const begin = performance.now();
          const receipt = await anchorer.append({ tenant: 'bench', thingId: 'org.acme:sensor', kind: 'telemetry', payload: payload(i) });
          appendedAt[receipt.seq] = begin;
          durable.push(performance.now() - begin);
        }
      }),
    );
    const appended = performance.now();
    await watcher;
    const finished = performance.now();
    const stream = anchorer.status().streams[0];
    durable.sort((a, b) => a - b);
    anchoredLatency.sort((a, b) => a - b);
    return {
      records,
      recordsPerSec: Math.round(records / ((finished - started) / 1000)),
      appendsPerSec: Math.round(records / ((appended - started) / 1000)),
      ledgerTransactions: mode === 'batch' ? (stream?.lastAnchoredBatch?.batchSeq ?? 0) : records,
      appendToDurableMs: { p50: round(percentile(durable, 50)), p99: round(percentile(durable, 99)) },
      appendToAnchoredMs: { p50: round(percentile(anchoredLatency, 50)), p99: round(percentile(anchoredLatency, 99)) },
    };
  } finally {
    await anchorer.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function measureRss(records: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'twinledger-anchor-rss-'));
  const anchorer = await Anchorer.open({ dataDir, batch: { maxLeaves: 10_000, maxWaitMs: 250 } });
  const mib = () => round(process.memoryUsage().rss / 1024 / 1024);
  const heapMib = () => round(process.memoryUsage().heapUsed / 1024 / 1024);
  try {
    const start = mib();
    let max = start;
    let heapMax = heapMib();
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < records) {
          const i = (next += 1);
          await anchorer.append({ tenant: 'bench', thingId: 'org.acme:sensor', kind: 'telemetry', payload: payload(i) });
          if (i % 10_000 === 0) {
            max = Math.max(max, mib());
            heapMax = Math.max(heapMax, heapMib());
          }
        }
      }),
    );
    while (anchorer.status().backlog > 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      max = Math.max(max, mib());
    }
    // RSS includes the pages of the memory-mapped outbox (LMDB) that were touched; the heap is what the SDK holds.
    return { records, rssMiB: { start, max, end: mib() }, heapUsedMaxMiB: heapMax, seconds: round((performance.now() - started) / 1000) };
  } finally {
    await anchorer.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const batched = await measure('batch', RECORDS);
console.log(JSON.stringify({ bench: 'anchor', name: 'batched', payloadBytes: PAYLOAD_BYTES, concurrency: CONCURRENCY, ...batched }));
const perRecord = await measure('record', RECORD_MODE_RECORDS);
console.log(JSON.stringify({ bench: 'anchor', name: 'per-record', payloadBytes: PAYLOAD_BYTES, concurrency: CONCURRENCY, ...perRecord }));
const rss = await measureRss(RSS_RECORDS);
console.log(JSON.stringify({ bench: 'anchor', name: 'rss', payloadBytes: PAYLOAD_BYTES, ...rss }));
const txPer1000 = round((batched.ledgerTransactions / batched.records) * 1000, 3);
console.log(
  JSON.stringify({
    bench: 'anchor',
    name: 'summary',
    batchedRecordsPerSec: batched.recordsPerSec,
    batchedVsPerRecord: round(batched.recordsPerSec / Math.max(1, perRecord.recordsPerSec)),
    ledgerTransactionsPer1000: txPer1000,
    appendToDurableP99Ms: batched.appendToDurableMs.p99,
    rssMaxMiB: rss.rssMiB.max,
    goals: {
      batchedRecordsPerSec: batched.recordsPerSec >= 10_000,
      batchedVsPerRecord: batched.recordsPerSec >= 50 * perRecord.recordsPerSec,
      ledgerTransactionsPer1000: txPer1000 <= 1,
      appendToDurableP99Ms: batched.appendToDurableMs.p99 <= 25,
      rssMaxMiB: rss.rssMiB.max <= 250,
    },
  }),
);
