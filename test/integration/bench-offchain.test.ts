// Keeps the off-chain store benchmark runnable: a short run (one round, 20 payloads of 1 KiB and 2 of 1 MiB) must
// print a line per store and payload size with positive put and get rates, the bytes read back verified, and a
// summary; with Kubo, KuboStore's lines and the embedded/Kubo ratios; without it (KUBO_BIN pointing nowhere), a
// skip line for Kubo and the embedded lines still. No speed is asserted here: the figures belong to `npm run bench`.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { type BenchRun, runBenchScript } from '../support/bench.js';
import { kuboProblem } from '../support/kubo.js';
import { skipUnlessAvailable } from '../support/services.js';

const BENCH = fileURLToPath(new URL('../../bench/offchain.bench.ts', import.meta.url));
const SHORT = { BENCH_OFFCHAIN_ROUNDS: '1', BENCH_OFFCHAIN_1KIB_PAYLOADS: '20', BENCH_OFFCHAIN_1MIB_PAYLOADS: '2' };
const SIZES = [
  { payload: '1KiB', payloadBytes: 1024, payloads: 20 },
  { payload: '1MiB', payloadBytes: 1024 * 1024, payloads: 2 },
];
const EMBEDDED = [
  { name: 'embedded', durable: true },
  { name: 'embedded-nondurable', durable: false },
];

interface BenchLine {
  bench: string;
  name: string;
  skipped?: string;
  durable?: boolean;
  offline?: boolean;
  payload?: string;
  payloadBytes?: number;
  payloads?: number;
  rounds?: number;
  putMBPerSec?: number;
  putsPerSec?: number;
  getMBPerSec?: number;
  getsPerSec?: number;
  roundsPutMBPerSec?: number[];
  roundsGetMBPerSec?: number[];
  verified?: boolean;
  mbPerSec?: Record<string, Record<string, { put: number; get: number }>>;
  vsKubo?: Record<string, Record<string, { put: number; get: number }>>;
  kuboSkipped?: string;
}

const positive = (value: number | undefined) => value !== undefined && Number.isFinite(value) && value > 0;

function parse({ status, stdout, stderr }: BenchRun): BenchLine[] {
  assert.equal(status, 0, stderr);
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as BenchLine);
  assert.ok(
    lines.every((line) => line.bench === 'offchain'),
    stdout,
  );
  return lines;
}

/** The store's line for each payload size: positive, finite rates, one round, the bytes read back verified. */
function assertMeasured(lines: BenchLine[], name: string, extra: Partial<BenchLine> = {}): void {
  const text = lines.map((line) => JSON.stringify(line)).join('\n');
  for (const { payload, payloadBytes, payloads } of SIZES) {
    const line = lines.find((candidate) => candidate.name === name && candidate.payload === payload);
    assert.ok(line, `no ${name} line for ${payload}:\n${text}`);
    assert.deepEqual(
      { payloadBytes: line.payloadBytes, payloads: line.payloads, rounds: line.rounds, verified: line.verified },
      {
        payloadBytes,
        payloads,
        rounds: 1,
        verified: true,
      },
    );
    for (const [field, value] of Object.entries(extra)) assert.equal(line[field as keyof BenchLine], value, `${name} ${field}`);
    for (const field of ['putMBPerSec', 'putsPerSec', 'getMBPerSec', 'getsPerSec'] as const) {
      assert.ok(positive(line[field]), `${name} ${payload} ${field}: ${line[field]}`);
    }
    assert.ok(line.roundsPutMBPerSec?.length === 1 && positive(line.roundsPutMBPerSec[0]), text);
    assert.ok(line.roundsGetMBPerSec?.length === 1 && positive(line.roundsGetMBPerSec[0]), text);
    // MB/s and operations/s describe the same passes.
    const expectedMB = ((line.putsPerSec ?? 0) * payloadBytes) / 1e6;
    assert.ok(Math.abs((line.putMBPerSec ?? 0) - expectedMB) <= expectedMB * 0.02, `${name} ${payload}: MB/s and puts/s disagree`);
  }
}

function summaryOf(lines: BenchLine[]): BenchLine {
  const summaries = lines.filter((line) => line.name === 'summary');
  assert.equal(summaries.length, 1, 'one summary line');
  const summary = summaries[0] as BenchLine;
  assert.equal(lines.at(-1), summary, 'the summary comes last');
  return summary;
}

describe('bench/offchain.bench.ts', () => {
  const problem = kuboProblem();

  describe('with Kubo', { skip: skipUnlessAvailable(problem) }, () => {
    let lines: BenchLine[] = [];
    before(
      async () => {
        if (problem !== undefined) throw new Error(problem);
        lines = parse(await runBenchScript(BENCH, SHORT));
      },
      { timeout: 120_000 },
    );

    it('measures EmbeddedStore, durable and not, for 1 KiB and 1 MiB payloads', () => {
      for (const { name, durable } of EMBEDDED) assertMeasured(lines, name, { durable });
    });

    it('measures KuboStore on a real daemon, on the same payloads, and compares', () => {
      assert.equal(
        lines.find((line) => line.skipped !== undefined),
        undefined,
        'nothing skipped',
      );
      assertMeasured(lines, 'kubo', { offline: true });
      const summary = summaryOf(lines);
      assert.equal(summary.kuboSkipped, undefined);
      for (const { payload } of SIZES) {
        assert.deepEqual(Object.keys(summary.mbPerSec?.[payload] ?? {}).sort(), ['embedded', 'embedded-nondurable', 'kubo']);
        for (const { name } of EMBEDDED) {
          const ratios = summary.vsKubo?.[payload]?.[name];
          assert.ok(ratios && positive(ratios.put) && positive(ratios.get), `${payload} ${name}: ${JSON.stringify(summary.vsKubo)}`);
        }
      }
    });
  });

  it('without Kubo, prints a skip line for it and measures EmbeddedStore only', { timeout: 120_000 }, async () => {
    const missing = join(tmpdir(), 'twinledger-no-such-kubo', 'ipfs');
    const lines = parse(await runBenchScript(BENCH, { ...SHORT, KUBO_BIN: missing }));
    const skipped = lines.filter((line) => line.skipped !== undefined);
    assert.deepEqual(skipped, [{ bench: 'offchain', name: 'kubo', skipped: `KUBO_BIN=${missing} does not exist` }]);
    for (const { name, durable } of EMBEDDED) assertMeasured(lines, name, { durable });
    assert.equal(
      lines.find((line) => line.name === 'kubo' && line.skipped === undefined),
      undefined,
    );
    const summary = summaryOf(lines);
    assert.equal(summary.kuboSkipped, skipped[0]?.skipped);
    assert.equal(summary.vsKubo, undefined);
    for (const { payload } of SIZES)
      assert.deepEqual(Object.keys(summary.mbPerSec?.[payload] ?? {}).sort(), ['embedded', 'embedded-nondurable']);
  });
});
