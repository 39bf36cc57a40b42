// The samples' command line (samples/support/sample-cli.ts) as a user meets it: --help, a bad option and a data
// folder an earlier run left behind each end with a clear line and their exit code, before anything runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'twinledger-sample-cli-'));

function sample(script: string, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, script), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

describe('the samples’ command line', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('prints its usage for --help (exit 0) and refuses an unknown option (exit 2)', () => {
    const help = sample('samples/smart-city/main.ts', '--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^usage: npm run demo/);
    const bad = sample('samples/ids/main.ts', '--bogus');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /Unknown option '--bogus'[\s\S]*usage: npm run sample:ids/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  });

  it('refuses a data folder that is not empty (exit 2), and runs nothing', () => {
    const used = join(scratch, 'used');
    rmSync(used, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', used]);
    writeFileSync(join(used, 'outbox.mdb'), '');
    for (const script of ['samples/smart-city/main.ts', 'samples/ids/main.ts']) {
      const run = sample(script, '--data-dir', used);
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /is not empty: an earlier run's data .* would fail this run\.\n {2}Pass a new --data-dir/);
      assert.equal(run.stdout, '');
    }
  });
});
