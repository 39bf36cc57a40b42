#!/usr/bin/env node
// Runs the compiled tests (dist/test/*.test.js) with Node's test runner. `npm test` compiles first.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'dist', 'test');
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.test.js'))
  .sort()
  .map((name) => join(dir, name));
if (files.length === 0) {
  console.error(`no compiled tests in ${dir}; run "npm run build" first`);
  process.exit(1);
}
// fabric-contract-api logs every decorator and failed transaction at INFO/ERROR; keep test output readable.
const env = { ...process.env, CORE_CHAINCODE_LOGGING_LEVEL: process.env.CORE_CHAINCODE_LOGGING_LEVEL ?? 'CRITICAL' };
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit', cwd: root, env });
process.exit(result.status ?? 1);
