/**
 * Helpers for tests that need a real service (mosquitto, RabbitMQ, Kafka, Kubo, ...). A test starts the
 * service itself on a free loopback port. When the service's program is missing, the test is skipped
 * with a message locally, but fails under TWINLEDGER_REQUIRE_SERVICES=1 (set by .ci/run).
 */
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { delimiter, join } from 'node:path';

export function servicesRequired(): boolean {
  return process.env.TWINLEDGER_REQUIRE_SERVICES === '1';
}

/**
 * `{ skip }` option for a describe block: a message when `problem` is set and services are not required;
 * undefined otherwise (then the suite runs and its setup must throw `problem` as an error).
 */
export function skipUnlessAvailable(problem: string | undefined): string | undefined {
  if (problem === undefined || servicesRequired()) return undefined;
  return `${problem} (skipped; TWINLEDGER_REQUIRE_SERVICES=1 makes this a failure)`;
}

/** First executable of that name on PATH or in the extra directories (e.g. /usr/sbin). */
export function findExecutable(name: string, extraDirs: string[] = ['/usr/sbin', '/usr/local/sbin', '/sbin']): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs];
  return dirs.map((dir) => join(dir, name)).find((file) => existsSync(file));
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 30_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
