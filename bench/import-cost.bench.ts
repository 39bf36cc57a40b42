/**
 * What importing the package costs: for the root and every entry point of package.json `exports`, the time the
 * `import()` takes and the resident memory right after it, each the median of BENCH_IMPORT_RUNS (default 7) fresh
 * Node processes (plain node, no tsx; the entry points alternate within each round). A line for Node with nothing
 * imported gives the floor. Measures the SDK as users run it: compiled by tsc (into
 * node_modules/.cache/twinledger-bench-import-cost), or the build in BENCH_IMPORT_BUILD (e.g. `dist` after
 * `npm run build`, or a build of another commit to compare with; entry points it lacks are skipped).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileSdk } from './support/compiled-sdk.js';

const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 7);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const CHILD = [
  'const target = process.env.TWINLEDGER_BENCH_TARGET;',
  'const start = performance.now();',
  'if (target) await import(target);',
  'const importMs = performance.now() - start;',
  'process.stdout.write(JSON.stringify({ importMs, rssBytes: process.memoryUsage().rss }));',
].join('\n');

interface Entry {
  /** `twinledger`, `twinledger/device`, ... or `(node)` for nothing imported. */
  entry: string;
  /** Relative to the build folder; empty for `(node)`. */
  file: string;
}

interface Sample {
  importMs: number;
  rssBytes: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function entries(): Entry[] {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, { import?: string } | string>;
  };
  const list: Entry[] = [{ entry: '(node)', file: '' }];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target !== 'object' || typeof target.import !== 'string') continue;
    list.push({ entry: `${pkg.name}${subpath.slice(1)}`, file: target.import.replace(/^\.\/dist\//, '') });
  }
  return list;
}

function measure(build: string, entry: Entry): Sample {
  const target = entry.file === '' ? '' : pathToFileURL(join(build, entry.file)).href;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, TWINLEDGER_BENCH_TARGET: target },
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`importing ${entry.entry} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Sample;
}

function main(): void {
  const given = process.env.BENCH_IMPORT_BUILD;
  const build = given === undefined ? compileSdk('import-cost', 'twinledger-bench-import-cost') : resolve(given);
  if (build === undefined) process.exit(1);
  const measured = entries().filter((entry) => {
    if (entry.file === '' || existsSync(join(build, entry.file))) return true;
    console.log(JSON.stringify({ bench: 'import-cost', entry: entry.entry, skipped: `${entry.file} is not in ${build}` }));
    return false;
  });
  const samples = new Map<string, Sample[]>(measured.map((entry) => [entry.entry, []]));
  for (let run = 0; run < RUNS; run += 1) {
    for (const entry of measured) samples.get(entry.entry)?.push(measure(build, entry));
  }
  const summary: Record<string, { importMs: number; rssMiB: number }> = {};
  for (const entry of measured) {
    const runs = samples.get(entry.entry) ?? [];
    const importMs = runs.map((sample) => sample.importMs);
    const line = {
      bench: 'import-cost',
      entry: entry.entry,
      file: entry.file || undefined,
      runs: runs.length,
      importMsMedian: Number(median(importMs).toFixed(1)),
      importMsMin: Number(Math.min(...importMs).toFixed(1)),
      importMsMax: Number(Math.max(...importMs).toFixed(1)),
      rssMiBMedian: Number((median(runs.map((sample) => sample.rssBytes)) / 2 ** 20).toFixed(1)),
    };
    summary[entry.entry] = { importMs: line.importMsMedian, rssMiB: line.rssMiBMedian };
    console.log(JSON.stringify(line));
  }
  const rootCost = summary.twinledger;
  const device = summary['twinledger/device'];
  if (rootCost !== undefined && device !== undefined) {
    console.log(
      JSON.stringify({
        bench: 'import-cost',
        name: 'summary',
        deviceVsRoot: {
          importMsSaved: Number((rootCost.importMs - device.importMs).toFixed(1)),
          rssMiBSaved: Number((rootCost.rssMiB - device.rssMiB).toFixed(1)),
        },
      }),
    );
  }
}

main();
