/**
 * A real mosquitto broker for tests: own config in a temp dir, loopback only, anonymous access,
 * persistence in the temp dir (a restart keeps queued QoS 1 messages of persistent sessions).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freePort, waitForPort } from './services.js';

export interface MosquittoTlsListener {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Ask clients for a certificate signed by `caFile` (X.509 client authentication). */
  requireCertificate?: boolean;
}

export interface MosquittoOptions {
  /** Default: a free loopback port. */
  port?: number;
  /** Default true. With false (and no password file) every CONNECT is refused with "not authorized". */
  anonymous?: boolean;
  /** A second, TLS listener on another free loopback port (`tlsPort`). */
  tls?: MosquittoTlsListener;
  /** Keep QoS 1 messages and persistent sessions across restarts (saved every second). Default true. */
  persistence?: boolean;
  /** Extra lines for mosquitto.conf. */
  extraConfig?: string[];
}

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  /** The TLS listener's port, when `tls` was given. */
  readonly tlsPort: number | undefined;
  readonly dir: string;
  readonly running: boolean;
  /** (Re)starts on the same port with the same persistence directory. */
  start(): Promise<void>;
  /** SIGTERM (mosquitto saves its persistence database on the way out) and wait for the exit. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** The broker's log so far (for failure messages). */
  log(): string;
  /** Stops the broker and removes the temp dir. */
  dispose(): Promise<void>;
}

/** Why mosquitto cannot run here, or undefined when it can. */
export function mosquittoProblem(): string | undefined {
  return findExecutable('mosquitto') === undefined ? 'mosquitto is not installed (apt-get install mosquitto)' : undefined;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const executable = findExecutable('mosquitto');
  if (executable === undefined) throw new Error(mosquittoProblem());
  const port = options.port ?? (await freePort());
  const tlsPort = options.tls === undefined ? undefined : await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'twinledger-mosquitto-'));
  const logFile = join(dir, 'mosquitto.log');
  const config = [
    `allow_anonymous ${options.anonymous === false ? 'false' : 'true'}`,
    `listener ${port} 127.0.0.1`,
    ...(options.persistence === false
      ? ['persistence false']
      : ['persistence true', `persistence_location ${dir}/`, 'persistence_file mosquitto.db', 'autosave_interval 1']),
    'max_queued_messages 100000',
    'max_inflight_messages 0',
    `log_dest file ${logFile}`,
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    // mosquitto drops root privileges to this user; it must be able to write the temp dir.
    `user ${userInfo().username}`,
    ...(options.tls === undefined
      ? []
      : [
          `listener ${tlsPort} 127.0.0.1`,
          `cafile ${options.tls.caFile}`,
          `certfile ${options.tls.certFile}`,
          `keyfile ${options.tls.keyFile}`,
          `require_certificate ${options.tls.requireCertificate === true ? 'true' : 'false'}`,
        ]),
    ...(options.extraConfig ?? []),
  ];
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(configFile, `${config.join('\n')}\n`);
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const broker: Mosquitto = {
    port,
    tlsPort,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child !== undefined) return;
      const proc = spawn(executable, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      proc.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      child = proc;
      // If the test process dies without dispose(), do not leave the broker behind.
      const killOnExit = () => proc.kill('SIGKILL');
      process.once('exit', killOnExit);
      exited = new Promise((resolve) =>
        proc.once('exit', () => {
          process.off('exit', killOnExit);
          resolve();
        }),
      );
      const early = exited.then(() => {
        throw new Error(`mosquitto exited at start: ${stderr}${broker.log()}`);
      });
      await Promise.race([waitForPort(port, 15_000), early]);
      if (tlsPort !== undefined) await Promise.race([waitForPort(tlsPort, 15_000), early]);
    },
    async stop() {
      const proc = child;
      if (proc === undefined) return;
      child = undefined;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    async restart() {
      await broker.stop();
      await broker.start();
    },
    log() {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    async dispose() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}
