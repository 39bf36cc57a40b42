// The `twinledger` command line on the sandbox: each command in-process (runCli with its own streams), `--json`
// parsed, exit codes (0 done, 1 a check failed, 2 a bad command line, 3 the operation failed), errors as one line;
// and the bin itself as a process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runSmartCity } from '../../samples/smart-city/run.js';
import { Cloud2Edge } from '../../src/c2e/index.js';
import { EXIT_CODES, runCli } from '../../src/cli/index.js';

const root = resolve(import.meta.dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(dataDir: string, env: Record<string, string | undefined> = {}, signal?: AbortSignal) {
  return async (...argv: string[]): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', dataDir, ...argv], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env,
      cwd: dataDir,
      ...(signal ? { signal } : {}),
    });
    return { code, stdout, stderr };
  };
}

const json = <T>(run: Run): T => JSON.parse(run.stdout) as T;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('twinledger CLI', () => {
  let workDir: string;

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'twinledger-cli-'));
  });

  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('refuses a bad command line with one line and exit code 2, and prints help with 0', async () => {
    const run = cli(join(workDir, 'usage'));
    const unknown = await run('bogus');
    assert.equal(unknown.code, EXIT_CODES.usage);
    assert.match(unknown.stderr, /^error: unknown command 'bogus'\n/);
    const missing = await run('provision');
    assert.equal(missing.code, EXIT_CODES.usage);
    assert.match(missing.stderr, /missing required argument 'thingId'/);
    const badJson = await run('send', 'org.acme:lamp-1', '{bad', '--password', 'x');
    assert.equal(badJson.code, EXIT_CODES.usage);
    assert.equal(badJson.stderr.trim().split('\n').length, 1, badJson.stderr);
    assert.match(badJson.stderr, /^ValidationError: payload: is not JSON/);
    assert.doesNotMatch(badJson.stderr, /\n\s+at /, 'no stack trace without --debug');
    const noPassword = await run('send', 'org.acme:lamp-1', '{}');
    assert.equal(noPassword.code, EXIT_CODES.usage);
    assert.match(noPassword.stderr, /--password: is required.*TWINLEDGER_DEVICE_PASSWORD/);
    const badTransport = await run('send', 'org.acme:lamp-1', '{}', '--password', 'x', '--transport', 'coap');
    assert.equal(badTransport.code, EXIT_CODES.usage);
    const debug = await run('--debug', 'send', 'org.acme:lamp-1', '{bad', '--password', 'x');
    assert.match(debug.stderr, /\n\s+at /, '--debug prints the stack');
    const help = await run('--help');
    assert.equal(help.code, EXIT_CODES.ok);
    for (const command of ['sandbox', 'provision', 'send', 'watch', 'command', 'anchor', 'verify', 'audit', 'ledger']) {
      assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`), command);
    }
    const noNamespace = await run('send', 'lamp-1', '{}', '--password', 'x');
    assert.equal(noNamespace.code, EXIT_CODES.usage);
    assert.match(noNamespace.stderr, /thingId: must be namespace:name/);
    const badTimeout = await run('command', 'org.acme:lamp-1', 'switch', '--timeout', 'abc');
    assert.equal(badTimeout.code, EXIT_CODES.usage);
    assert.match(badTimeout.stderr, /--timeout: must be whole seconds from 0 to 300, got "abc"/);
    const unreachable = await run('command', 'org.acme:lamp-1', 'switch');
    assert.equal(unreachable.code, EXIT_CODES.failed);
    assert.match(unreachable.stderr, /^CliError: no Cloud2Edge to talk to: a device must be connected.*twinledger sandbox/);
    const watchNothing = await run('watch', 'org.acme', '--count', '1');
    assert.equal(watchNothing.code, EXIT_CODES.failed);
    writeFileSync(join(workDir, 'a-file'), 'not a folder');
    const fileAsDir = await cli(join(workDir, 'a-file'))('ledger', 'head', 'x');
    assert.equal(fileAsDir.code, EXIT_CODES.usage);
    assert.match(fileAsDir.stderr, /--data-dir: .* is not a folder/);
    const noData = await run('anchor', 'status');
    assert.equal(noData.code, EXIT_CODES.failed);
    assert.match(noData.stderr, /^CliError: no anchorer data in .*hint: Pass --data-dir/);
  });

  it('sandbox, provision, send, watch and command: a device and an application on the running sandbox', async () => {
    const dataDir = join(workDir, 'live');
    const stopSandbox = new AbortController();
    const sandboxRun = cli(dataDir, {}, stopSandbox.signal)('--json', 'sandbox', '--memory');
    const run = cli(dataDir);
    let env: Record<string, string> | undefined;
    for (let attempt = 0; attempt < 100 && env === undefined; attempt += 1) {
      await sleep(50);
      try {
        env = (JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as { env: Record<string, string> }).env;
      } catch {
        // not written yet
      }
    }
    assert.ok(env?.DITTO_API_BASE_URL, 'the sandbox wrote its environment');
    try {
      const provisioned = await run('--json', 'provision', 'org.city:lamp-1');
      assert.equal(provisioned.code, EXIT_CODES.ok, provisioned.stderr);
      const result = json<{ username: string; password: string; steps: Record<string, string> }>(provisioned);
      assert.equal(result.username, 'lamp-1@org.city');
      assert.equal(result.steps.thing, 'created');
      assert.ok(result.password.length >= 16, 'a generated password is printed');
      assert.doesNotMatch(provisioned.stderr, /starting the sandbox/, 'the running sandbox was found');

      const update = await run('send', 'org.city:lamp-1', '21.5', '--password', result.password, '--property', 'temperature/value');
      assert.equal(update.code, EXIT_CODES.ok, update.stderr);
      assert.match(update.stdout, /twin update of temperature\/value sent over mqtt/);
      const c2e = Cloud2Edge.fromEnv({}, env);
      try {
        for (let attempt = 0; attempt < 50; attempt += 1) {
          const thing = await c2e.ditto.things.get('org.city:lamp-1');
          if ((thing.features?.temperature?.properties as { value?: number } | undefined)?.value === 21.5) break;
          await sleep(20);
        }
        assert.deepEqual((await c2e.ditto.things.get('org.city:lamp-1')).features?.temperature?.properties, { value: 21.5 });

        // watch: a tenant without a Ditto connection, so the CLI is its only consumer.
        await c2e.registry.tenants.create({}, { tenantId: 'org.watched' });
        await c2e.registry.devices.create('org.watched', {}, { deviceId: 'org.watched:meter-1' });
        await c2e.registry.credentials.setPassword('org.watched', 'org.watched:meter-1', 'meter-1', 'meter-1-secret');
        const watching = run('--json', 'watch', 'org.watched', '--kind', 'telemetry', '--count', '2');
        await sleep(300);
        for (const reading of ['{"kwh":1}', '{"kwh":2}']) {
          const sent = await run('send', 'org.watched:meter-1', reading, '--transport', 'http', '--password', 'meter-1-secret');
          assert.equal(sent.code, EXIT_CODES.ok, sent.stderr);
        }
        const watched = await watching;
        assert.equal(watched.code, EXIT_CODES.ok, watched.stderr);
        const lines = watched.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { kind: string; deviceId: string; payload: string });
        assert.deepEqual(
          lines.map((line) => [line.kind, line.deviceId, line.payload]),
          [
            ['telemetry', 'org.watched:meter-1', '{"kwh":1}'],
            ['telemetry', 'org.watched:meter-1', '{"kwh":2}'],
          ],
        );

        // command: the device answers; a status ≥ 400 is exit code 1.
        const lamp = c2e.device({ transport: 'mqtt', tenant: 'org.city', thingId: 'org.city:lamp-1', password: result.password });
        await lamp.connect();
        const stop = lamp.twin.onMessage(async (message) => {
          if (message.subject === 'ignore') return;
          if (message.subject === 'switch') await message.respond(200, { on: (message.value as { on: boolean }).on });
          else await message.respond(501, { error: `no ${message.subject}` });
        });
        try {
          const switched = await run('--json', 'command', 'org.city:lamp-1', 'switch', '{"on":true}', '--timeout', '5');
          assert.equal(switched.code, EXIT_CODES.ok, switched.stderr);
          assert.deepEqual(json(switched), { thingId: 'org.city:lamp-1', subject: 'switch', status: 200, answer: { on: true } });
          const refused = await run('command', 'org.city:lamp-1', 'dance', '--timeout', '5');
          assert.equal(refused.code, EXIT_CODES.checkFailed);
          assert.match(refused.stdout, /^501 \{"error":"no dance"\}/);
          const unanswered = await run('command', 'org.city:lamp-1', 'ignore', '--timeout', '1');
          assert.equal(unanswered.code, EXIT_CODES.failed);
          assert.match(unanswered.stderr, /\nCliError: org\.city:lamp-1 did not answer ignore within 1 s \(hint: The device is connected/);
          const interrupt = new AbortController();
          const interrupted = cli(dataDir, {}, interrupt.signal)('command', 'org.city:lamp-1', 'ignore', '--timeout', '30');
          setTimeout(() => interrupt.abort(), 300);
          const stopped = await interrupted;
          assert.equal(stopped.code, EXIT_CODES.interrupted, stopped.stderr);
          assert.match(stopped.stderr, /interrupted\n$/);
          const second = await run('sandbox', '--memory');
          assert.equal(second.code, EXIT_CODES.failed);
          assert.match(second.stderr, /a sandbox \(process \d+\) already runs on/);
        } finally {
          stop();
          await lamp.close();
        }
      } finally {
        await c2e.close();
      }
    } finally {
      stopSandbox.abort();
      const stopped = await sandboxRun;
      assert.equal(stopped.code, EXIT_CODES.ok, stopped.stderr);
      assert.ok(json<{ env: Record<string, string> }>(stopped).env.REGISTRY_BASE_URL);
    }
    assert.throws(() => readFileSync(join(dataDir, 'sandbox.json')), /ENOENT/, 'the sandbox removed its file');
  });

  it('anchor status, verify, audit and ledger on what the smart-city demo left behind', async () => {
    const dataDir = join(workDir, 'city');
    const report = await runSmartCity({ dataDir, env: {} });
    assert.equal(report.ok, true);
    const run = cli(dataDir);

    const status = await run('--json', 'anchor', 'status');
    assert.equal(status.code, EXIT_CODES.ok, status.stderr);
    const streams = json<{ backlog: number; streams: Array<{ stream: string; lastSeq: number }> }>(status);
    assert.equal(streams.backlog, 0);
    assert.deepEqual(streams.streams.map((stream) => stream.stream).sort(), ['org.smartcity/commands', 'org.smartcity/twin']);

    const proof = await run('verify', join(dataDir, 'proofs', 'setphase-command.json'));
    assert.equal(proof.code, EXIT_CODES.ok, proof.stderr);
    assert.match(proof.stdout, /^VERIFIED\n {2}inclusion: ok/);
    const forged = await run('--json', 'verify', join(dataDir, 'proofs', 'setphase-command-forged.json'));
    assert.equal(forged.code, EXIT_CODES.checkFailed);
    assert.equal(json<{ ok: boolean }>(forged).ok, false);

    const clean = await run('--json', 'audit', 'org.smartcity:air-quality-2');
    assert.equal(clean.code, EXIT_CODES.ok, clean.stderr);
    assert.equal(json<{ ok: boolean; revisionsChecked: number }>(clean).revisionsChecked, 7);
    const tampered = await run('audit', 'org.smartcity:air-quality-1');
    assert.equal(tampered.code, EXIT_CODES.checkFailed);
    assert.match(tampered.stdout, /DIVERGES.*\n {2}proof-failed at revision 4: .*does not hash to its CID/);
    const viaVerify = await run('verify', 'org.smartcity:parking-1');
    assert.equal(viaVerify.code, EXIT_CODES.checkFailed);
    assert.match(viaVerify.stdout, /value-differs/);

    const head = await run('--json', 'ledger', 'head', 'org.smartcity/twin');
    assert.equal(head.code, EXIT_CODES.ok, head.stderr);
    const { seq, batchId } = json<{ seq: number; batchId: string }>(head);
    assert.equal(seq, report.before.audits.length > 0 ? seq : 0);
    assert.ok(seq >= 1);
    const batch = await run('--json', 'ledger', 'batch', 'org.smartcity/twin', batchId);
    assert.equal(batch.code, EXIT_CODES.ok, batch.stderr);
    assert.equal(json<{ batchId: string }>(batch).batchId, batchId);
    const missing = await run('ledger', 'batch', 'org.smartcity/twin', 'no-such-batch');
    assert.equal(missing.code, EXIT_CODES.failed);
    const history = await run('--json', 'ledger', 'history', 'ids/unknown');
    assert.deepEqual(json(history), []);
  });

  it('runs as a process: the bin prints its version and exits with the documented codes', () => {
    const bin = (...argv: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...argv], {
        encoding: 'utf8',
        cwd: root,
        timeout: 60_000,
      });
    const version = bin('--version');
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
    const wrong = bin('verify');
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /missing required argument 'target'/);
  });
});
