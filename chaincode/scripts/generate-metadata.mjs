#!/usr/bin/env node
// Regenerates META-INF/metadata.json from the compiled contract (run `npm run build` first).
// The old file is removed first: fabric-chaincode-node would otherwise merge it into the result.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'META-INF', 'metadata.json');
rmSync(file, { force: true });
mkdirSync(dirname(file), { recursive: true });
const cli = createRequire(join(root, 'package.json')).resolve('fabric-shim/cli.js');
const result = spawnSync(process.execPath, [cli, 'metadata', 'generate', `--file=${file}`, `--module-path=${root}`], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (result.status !== 0) process.exit(result.status ?? 1);
console.error(`wrote ${file}`);
