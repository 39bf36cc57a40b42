/**
 * A real Kubo (IPFS) daemon for tests: its own repository in a temp dir (`ipfs init --profile=test`), no swarm
 * addresses, `ipfs daemon --offline`, the RPC API on a free loopback port (read back from `$IPFS_PATH/api`). Started
 * and stopped by PID; `dispose()` removes the temp dir. The binary comes from KUBO_BIN or `ipfs` on PATH
 * (scripts/unpack-kubo.sh prints a KUBO_BIN for the project's tarball).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freePort } from './services.js';

export interface Kubo {
  /** The RPC API, e.g. `http://127.0.0.1:40123` (for `KuboStore`). */
  readonly url: string;
  /** `IPFS_PATH` of this daemon. */
  readonly repo: string;
  readonly running: boolean;
  /** Runs the `ipfs` CLI on this repository (through the daemon while it runs); resolves with trimmed stdout. */
  ipfs(args: string[], options?: { timeoutMs?: number }): Promise<string>;
  /** Starts the daemon again (same repository, same port). */
  start(): Promise<void>;
  /** SIGTERM to the daemon's PID (SIGKILL after 10 s) and wait for its exit. */
  stop(): Promise<void>;
  /** The daemon's output so far (for failure messages). */
  log(): string;
  /** Stops the daemon and removes the temp dir. */
  dispose(): Promise<void>;
}

/** The ipfs program: KUBO_BIN, else `ipfs` on PATH. */
export function kuboBinary(): string | undefined {
  const configured = process.env.KUBO_BIN;
  if (configured !== undefined && configured !== '') return existsSync(configured) ? configured : undefined;
  return findExecutable('ipfs', []);
}

/** Why Kubo cannot run here, or undefined when it can. */
export function kuboProblem(): string | undefined {
  const configured = process.env.KUBO_BIN;
  if (configured !== undefined && configured !== '' && !existsSync(configured)) return `KUBO_BIN=${configured} does not exist`;
  return kuboBinary() === undefined
    ? 'Kubo is not available: set KUBO_BIN to an ipfs binary (scripts/unpack-kubo.sh <kubo release tarball> prints one; .ci/run does it) or put ipfs on PATH'
    : undefined;
}

function run(binary: string, repo: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      { env: { ...process.env, IPFS_PATH: repo }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`ipfs ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout.trim());
      },
    );
  });
}

export async function startKubo(): Promise<Kubo> {
  const binary = kuboBinary();
  if (binary === undefined) throw new Error(kuboProblem());
  const repo = mkdtempSync(join(tmpdir(), 'twinledger-kubo-'));
  const port = await freePort();
  try {
    await run(binary, repo, ['init', '--profile=test'], 60_000);
    await run(binary, repo, ['config', '--json', 'Addresses.Swarm', '[]'], 30_000);
    await run(binary, repo, ['config', 'Addresses.API', `/ip4/127.0.0.1/tcp/${port}`], 30_000);
  } catch (error) {
    rmSync(repo, { recursive: true, force: true });
    throw error;
  }
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  const kubo: Kubo = {
    url: `http://127.0.0.1:${port}`,
    repo,
    get running() {
      return child !== undefined;
    },
    ipfs: (args, options) => run(binary, repo, args, options?.timeoutMs ?? 120_000),
    async start() {
      if (child !== undefined) return;
      const proc = spawn(binary, ['daemon', '--offline'], { env: { ...process.env, IPFS_PATH: repo }, stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      // If the test process dies without dispose(), do not leave the daemon behind.
      const killOnExit = () => proc.kill('SIGKILL');
      process.once('exit', killOnExit);
      exited = new Promise((resolve) =>
        proc.once('exit', () => {
          process.off('exit', killOnExit);
          if (child === proc) child = undefined;
          resolve();
        }),
      );
      const from = output.length;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`Kubo did not get ready within 60 s:\n${output}`)), 60_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString('utf8');
          if (output.includes('Daemon is ready', from)) {
            clearTimeout(timer);
            resolve();
          }
        };
        proc.stdout?.on('data', onData);
        proc.stderr?.on('data', onData);
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`Kubo exited at start:\n${output}`));
        });
      });
      const api = readFileSync(join(repo, 'api'), 'utf8').trim();
      if (api !== `/ip4/127.0.0.1/tcp/${port}`) throw new Error(`Kubo's API is at ${api}, expected port ${port}`);
    },
    async stop() {
      const proc = child;
      if (proc === undefined) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    log: () => output,
    async dispose() {
      await kubo.stop();
      rmSync(repo, { recursive: true, force: true });
    },
  };
  try {
    await kubo.start();
  } catch (error) {
    await kubo.dispose();
    throw error;
  }
  return kubo;
}
