// Keeps the samples benchmark runnable: one run of each sample must print its line and a summary with the goal. No
// speed is asserted here: the figures belong to `npm run bench`.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runBenchScript } from '../support/bench.js';

const BENCH = fileURLToPath(new URL('../../bench/samples.bench.ts', import.meta.url));

describe('bench/samples.bench.ts', () => {
  it('times the smart-city demo and the IDS sample, and summarises against the two-minute goal', { timeout: 120_000 }, async () => {
    const { status, stdout, stderr } = await runBenchScript(BENCH, { BENCH_SAMPLES_RUNS: '1' });
    assert.equal(status, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { name: string; runs?: number; seconds?: { min: number; max: number }; goals?: Record<string, boolean> },
      );
    assert.deepEqual(
      lines.map((line) => line.name),
      ['smart-city', 'ids', 'summary'],
    );
    for (const line of lines.slice(0, 2)) assert.ok((line.seconds?.min ?? 0) > 0 && line.runs === 1, JSON.stringify(line));
    assert.deepEqual(Object.keys(lines[2]?.goals ?? {}), ['demoUnderTwoMinutes']);
  });
});
