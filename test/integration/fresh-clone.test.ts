// What a new user does first, on a clean copy of the repository (the files git tracks, nothing built, no
// node_modules): `npm ci`, then `npm run demo` must end with every tampering caught and exit 0; the other samples
// run there too. The copy goes to a temporary folder; npm uses its cache and the registry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findExecutable, skipUnlessAvailable } from '../support/services.js';

const root = resolve(import.meta.dirname, '..', '..');
const git = findExecutable('git');
const problem = git === undefined ? 'git is not installed: cannot tell which files a clone has' : undefined;

function run(command: string, args: string[], cwd: string, timeoutMs: number) {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, TWINLEDGER_DATA_DIR: undefined, REGISTRY_BASE_URL: undefined, DITTO_API_BASE_URL: undefined },
  });
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

describe('a fresh clone: npm ci && npm run demo', { skip: skipUnlessAvailable(problem) }, () => {
  let copy: string;

  before(() => {
    if (problem !== undefined) throw new Error(problem);
    copy = mkdtempSync(join(tmpdir(), 'twinledger-clone-'));
    // Tracked files, and new files not ignored yet (a working tree before its commit): what a clone of it would hold.
    const listed = run(git!, ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], root, 30_000);
    assert.equal(listed.status, 0, listed.stderr);
    const files = listed.stdout.split('\0').filter((file) => file !== '');
    assert.ok(files.includes('package.json') && files.includes('package-lock.json'));
    assert.ok(!files.some((file) => file.startsWith('node_modules/') || file.startsWith('dist/')));
    for (const file of files) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(root, file), join(copy, file));
    }
  });

  after(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('installs without engine warnings and runs the demo to a clean verdict', (t) => {
    const install = run('npm', ['ci', '--no-audit', '--no-fund'], copy, 600_000);
    assert.equal(install.status, 0, `${install.stdout}\n${install.stderr}`);
    assert.doesNotMatch(install.stderr, /EBADENGINE|Unsupported engine/);
    const demo = run('npm', ['run', 'demo'], copy, 600_000);
    assert.equal(demo.status, 0, `${demo.stdout}\n${demo.stderr}`);
    assert.match(demo.stdout, /^TwinLedger smart-city demo/m);
    assert.match(demo.stdout, /\nOK: 3 of 3 tamperings caught, 0 unexplained failures/);
    t.diagnostic(`npm ci ${install.seconds.toFixed(1)} s, npm run demo ${demo.seconds.toFixed(1)} s`);
  });

  it('runs the IDS sample, the quickstart and the CLI there too', () => {
    const ids = run('npm', ['run', 'sample:ids'], copy, 300_000);
    assert.equal(ids.status, 0, `${ids.stdout}\n${ids.stderr}`);
    assert.match(ids.stdout, /✔ refused: org\.plant:ids-1's stored result rewritten/);
    const quickstart = run('npm', ['run', 'quickstart'], copy, 300_000);
    assert.equal(quickstart.status, 0, `${quickstart.stdout}\n${quickstart.stderr}`);
    assert.match(quickstart.stdout, /twin now: .*"temperature":\{"properties":\{"value":21\.5\}\}/);
    const cli = run(
      'npm',
      ['run', '-s', 'cli', '--', '--json', 'provision', 'org.acme:lamp-1', '--password', 'lamp-1-secret'],
      copy,
      300_000,
    );
    assert.equal(cli.status, 0, `${cli.stdout}\n${cli.stderr}`);
    assert.equal((JSON.parse(cli.stdout) as { username: string }).username, 'lamp-1@org.acme');
  });
});
