/**
 * The anchoring pipeline on its embedded defaults (DevLedger + EmbeddedStore in a temp folder, durable outbox), 256-byte
 * payloads. One run measures, each part in a fresh child process (so that no part inherits another's heap or disk
 * writeback):
 * - `batched` and `per-record`: 256 concurrent appenders as fast as they can; records/s from the first append until
 *   every record is anchored (its proof available), appends/s, ledger transactions, p50/p99 of append → anchored;
 * - `latency`: append → durable (the `append` call) at a steady offered load of 10,000 appends/s (open loop: each
 *   latency counts from the moment the append was due, so a stall is not hidden by fewer appends), with the pipeline
 *   uploading and anchoring in the background; the first 5,000 appends (start-up: modules loading, code warming up)
 *   are not counted;
 * - `rss`: a fresh child process appending 1,000,000 records as fast as the backlog allows; sampled every 50,000:
 *   resident memory split into anonymous memory (the heap and native allocations: what the process owns) and
 *   file-backed pages (the memory-mapped LMDB files of the outbox, ledger and store, which the kernel reclaims under
 *   pressure), and the live heap after a collection.
 * Goals (issue): batched ≥ 10,000 records/s sustained and ≥ 50× per-record; ≤ 1 ledger transaction per 1,000 records;
 * p99 append → durable ≤ 25 ms; RSS flat (≤ 250 MB) over 1,000,000 records.
 *
 *   BENCH_ANCHOR_RECORDS (100000)  BENCH_ANCHOR_RECORD_MODE_RECORDS (500)  BENCH_ANCHOR_LATENCY_RECORDS (50000)
 *   BENCH_ANCHOR_RSS_RECORDS (1000000)  BENCH_ANCHOR_CONCURRENCY (256)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Anchorer } from '../src/anchor/anchorer.js';
import type { AnchorMode } from '../src/anchor/types.js';

const RECORDS = Number(process.env.BENCH_ANCHOR_RECORDS ?? 100_000);
const RECORD_MODE_RECORDS = Number(process.env.BENCH_ANCHOR_RECORD_MODE_RECORDS ?? 500);
const LATENCY_RECORDS = Number(process.env.BENCH_ANCHOR_LATENCY_RECORDS ?? 50_000);
const RSS_RECORDS = Number(process.env.BENCH_ANCHOR_RSS_RECORDS ?? 1_000_000);
const CONCURRENCY = Number(process.env.BENCH_ANCHOR_CONCURRENCY ?? 256);
const OFFERED_PER_SEC = 10_000;
const WARM_UP = 5_000;
const PAYLOAD_BYTES = 256;
const BATCH = { maxLeaves: 10_000, maxWaitMs: 250 };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function payload(i: number): Uint8Array {
  const bytes = new Uint8Array(PAYLOAD_BYTES).fill(0x61);
  new DataView(bytes.buffer).setUint32(0, i);
  return bytes;
}

const record = (i: number) => ({ tenant: 'bench', thingId: 'org.acme:sensor', kind: 'telemetry' as const, payload: payload(i) });

async function withAnchorer<T>(options: Parameters<typeof Anchorer.open>[0], run: (anchorer: Anchorer) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'twinledger-anchor-bench-'));
  const anchorer = await Anchorer.open({ ...options, dataDir });
  try {
    return await run(anchorer);
  } finally {
    await anchorer.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Resolves once every record of the (single) stream is anchored; pushes append → anchored latencies. */
async function watchAnchoring(anchorer: Anchorer, mode: AnchorMode, records: number, appendedAt: Float64Array, latencies: number[]) {
  let anchoredUpTo = 0;
  while (anchoredUpTo < records) {
    await sleep(5);
    const stream = anchorer.status().streams[0];
    const upTo = mode === 'batch' ? (stream?.lastAnchoredBatch?.lastSeq ?? 0) : (stream?.lastSeq ?? 0) - (stream?.backlog ?? 0);
    const now = performance.now();
    for (let seq = anchoredUpTo + 1; seq <= upTo; seq += 1) latencies.push(now - appendedAt[seq]!);
    anchoredUpTo = Math.max(anchoredUpTo, upTo);
  }
}

async function throughput(mode: AnchorMode, records: number) {
  return withAnchorer({ mode, batch: BATCH, maxBacklog: records + 1 }, async (anchorer) => {
    const appendedAt = new Float64Array(records + 1);
    const anchored: number[] = [];
    let next = 0;
    const started = performance.now();
    const watcher = watchAnchoring(anchorer, mode, records, appendedAt, anchored);
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, records) }, async () => {
        while (next < records) {
          const i = (next += 1);
          const begin = performance.now();
          const receipt = await anchorer.append(record(i));
          appendedAt[receipt.seq] = begin;
        }
      }),
    );
    const appended = performance.now();
    await watcher;
    const finished = performance.now();
    const stream = anchorer.status().streams[0];
    anchored.sort((a, b) => a - b);
    return {
      records,
      recordsPerSec: Math.round(records / ((finished - started) / 1000)),
      appendsPerSec: Math.round(records / ((appended - started) / 1000)),
      ledgerTransactions: mode === 'batch' ? (stream?.lastAnchoredBatch?.batchSeq ?? 0) : records,
      appendToAnchoredMs: { p50: round(percentile(anchored, 50)), p99: round(percentile(anchored, 99)) },
    };
  });
}

/** Appends at a steady rate (open loop) and measures each append from the moment it was due. */
async function latency(records: number) {
  return withAnchorer({ batch: BATCH }, async (anchorer) => {
    const durable: number[] = [];
    const inFlight: Array<Promise<void>> = [];
    const total = records + WARM_UP;
    const started = performance.now();
    let issued = 0;
    while (issued < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * OFFERED_PER_SEC));
      for (; issued < due; issued += 1) {
        const dueAt = started + (issued / OFFERED_PER_SEC) * 1000;
        const counted = issued >= WARM_UP;
        inFlight.push(
          anchorer.append(record(issued)).then(() => {
            if (counted) durable.push(performance.now() - dueAt);
          }),
        );
      }
      await sleep(1);
    }
    await Promise.all(inFlight);
    const offeredSeconds = (performance.now() - started) / 1000 - WARM_UP / OFFERED_PER_SEC;
    durable.sort((a, b) => a - b);
    return {
      records,
      offeredPerSec: OFFERED_PER_SEC,
      achievedPerSec: Math.round(records / offeredSeconds),
      appendToDurableMs: { p50: round(percentile(durable, 50)), p99: round(percentile(durable, 99)), max: round(durable.at(-1) ?? 0) },
    };
  });
}

function memory() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  const mib = (value: number) => round(value / 1024);
  return { rss: mib(kib('VmRSS')), anon: mib(kib('RssAnon')), file: mib(kib('RssFile')) };
}

/** Runs in a child process of its own, so that nothing measured before counts. */
async function rss(records: number) {
  const gc = (globalThis as { gc?: () => void }).gc;
  return withAnchorer({ batch: BATCH }, async (anchorer) => {
    const samples: Array<{ records: number; rss: number; anon: number; file: number; liveHeap: number }> = [];
    const sample = (count: number) => {
      gc?.();
      samples.push({ records: count, ...memory(), liveHeap: round(process.memoryUsage().heapUsed / 1024 / 1024) });
    };
    sample(0);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < records) {
          const i = (next += 1);
          await anchorer.append(record(i));
          if (i % 50_000 === 0) sample(i);
        }
      }),
    );
    while (anchorer.status().backlog > 0) await sleep(50);
    sample(records);
    const max = (key: 'rss' | 'anon' | 'file' | 'liveHeap') => Math.max(...samples.map((entry) => entry[key]));
    const late = samples.filter((entry) => entry.records >= records / 2);
    return {
      records,
      seconds: round((performance.now() - started) / 1000),
      maxMiB: { rss: max('rss'), anon: max('anon'), file: max('file'), liveHeap: max('liveHeap') },
      // Flat: the second half of the run holds no more anonymous memory than the first half's peak.
      anonSecondHalfMaxMiB: Math.max(...late.map((entry) => entry.anon)),
      samples,
    };
  });
}

const PARTS = {
  batched: () => throughput('batch', RECORDS),
  'per-record': () => throughput('record', RECORD_MODE_RECORDS),
  latency: () => latency(LATENCY_RECORDS),
  rss: () => rss(RSS_RECORDS),
} as const;
type Part = keyof typeof PARTS;

const part = process.env.BENCH_ANCHOR_PART as Part | undefined;
if (part !== undefined) {
  console.log(JSON.stringify(await PARTS[part]()));
  process.exit(0);
}

function runPart<P extends Part>(name: P): Awaited<ReturnType<(typeof PARTS)[P]>> {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_ANCHOR_PART: name },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.status !== 0) throw new Error(`the ${name} run failed (exit ${child.status})`);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Awaited<ReturnType<(typeof PARTS)[P]>>;
  console.log(
    JSON.stringify({
      bench: 'anchor',
      name,
      payloadBytes: PAYLOAD_BYTES,
      ...(name === 'latency' || name === 'rss' ? {} : { concurrency: CONCURRENCY }),
      ...result,
    }),
  );
  return result;
}

const batched = runPart('batched');
const perRecord = runPart('per-record');
const steady = runPart('latency');
const memoryRun = runPart('rss');
const txPer1000 = round((batched.ledgerTransactions / batched.records) * 1000, 3);
console.log(
  JSON.stringify({
    bench: 'anchor',
    name: 'summary',
    batchedRecordsPerSec: batched.recordsPerSec,
    batchedVsPerRecord: round(batched.recordsPerSec / Math.max(1, perRecord.recordsPerSec)),
    ledgerTransactionsPer1000: txPer1000,
    appendToDurableP99Ms: steady.appendToDurableMs.p99,
    anonymousRssMaxMiB: memoryRun.maxMiB.anon,
    rssMaxMiB: memoryRun.maxMiB.rss,
    goals: {
      batchedRecordsPerSec: batched.recordsPerSec >= 10_000,
      batchedVsPerRecord: batched.recordsPerSec >= 50 * perRecord.recordsPerSec,
      ledgerTransactionsPer1000: txPer1000 <= 1,
      appendToDurableP99Ms: steady.appendToDurableMs.p99 <= 25,
      // Anonymous memory is what the process holds; file-backed pages of the mapped databases are the kernel's cache.
      anonymousRssMaxMiB: memoryRun.maxMiB.anon <= 250,
    },
  }),
);
