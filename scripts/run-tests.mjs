#!/usr/bin/env node
// `npm test`: every *.test.ts under test/ with Node's test runner and tsx, then the chaincode package's own
// tests (building it first). With paths, runs just those files. The chaincode is an npm workspace of this
// repository: `npm install` at the root installs its dependencies (never `npm ci` inside chaincode/ in a checkout:
// npm would run it for the whole workspace and leave the root with the chaincode's packages only).
// Node 20 does not expand globs for --test, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...collect(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  return result.status ?? 1;
}

const args = process.argv.slice(2);
const roots = args.length > 0 ? args : ['test'];
const files = roots.flatMap((r) => (statSync(r).isDirectory() ? collect(r) : [r]));
if (files.length === 0) {
  console.error('no test files found under', roots.join(', '));
  process.exit(1);
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const withChaincode = args.length === 0 && existsSync('chaincode/package.json');
if (withChaincode) {
  // The Fabric network tests and DevLedger load the compiled chaincode: build it once, before test files that
  // may run in parallel would each try to.
  if (!existsSync('node_modules/twinledger-chaincode')) {
    console.error('the chaincode workspace is not installed: run `npm install` in the repository root');
    process.exit(1);
  }
  const built = run(npm, ['run', '--silent', 'build'], { cwd: 'chaincode' });
  if (built !== 0) process.exit(built);
}

let status = run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files]);

if (withChaincode) {
  console.log('\n# chaincode package tests');
  status = run(npm, ['test'], { cwd: 'chaincode' }) || status;
}
process.exit(status);
