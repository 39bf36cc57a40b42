// Keeps the import-cost benchmark runnable: a short run (one process per entry point) must print a line with a
// positive import time and memory for the root and every entry point of package.json `exports`, and the summary.
// No speed is asserted here: the figures belong to `npm run bench`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runBenchScript } from '../support/bench.js';

const BENCH = fileURLToPath(new URL('../../bench/import-cost.bench.ts', import.meta.url));
const PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url));

interface BenchLine {
  bench: string;
  entry?: string;
  name?: string;
  runs?: number;
  importMsMedian?: number;
  rssMiBMedian?: number;
  deviceVsRoot?: { importMsSaved: number; rssMiBSaved: number };
}

describe('bench/import-cost.bench.ts', () => {
  it('measures the root and every entry point', { timeout: 180_000 }, async () => {
    const { status, stdout, stderr } = await runBenchScript(BENCH, { BENCH_IMPORT_RUNS: '1' });
    assert.equal(status, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as BenchLine);
    assert.ok(
      lines.every((line) => line.bench === 'import-cost'),
      stdout,
    );
    const { exports } = JSON.parse(readFileSync(PACKAGE, 'utf8')) as { exports: Record<string, unknown> };
    const expected = Object.entries(exports)
      .filter(([, target]) => typeof target === 'object')
      .map(([subpath]) => `twinledger${subpath.slice(1)}`);
    const measured = lines.filter((line) => line.entry !== undefined && line.entry !== '(node)');
    assert.deepEqual(measured.map((line) => line.entry).sort(), expected.sort());
    for (const line of measured) {
      assert.equal(line.runs, 1);
      assert.ok((line.importMsMedian ?? 0) > 0 && (line.rssMiBMedian ?? 0) > 0, JSON.stringify(line));
    }
    const summary = lines.find((line) => line.name === 'summary');
    assert.equal(typeof summary?.deviceVsRoot?.importMsSaved, 'number');
  });
});
