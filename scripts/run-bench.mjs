#!/usr/bin/env node
// Runs every bench/*.bench.ts (or the files given) with tsx; each prints JSON lines to stdout.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const files =
  process.argv.slice(2).length > 0
    ? process.argv.slice(2)
    : readdirSync('bench')
        .filter((f) => f.endsWith('.bench.ts'))
        .sort()
        .map((f) => join('bench', f));
let failed = 0;
for (const file of files) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', file], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
