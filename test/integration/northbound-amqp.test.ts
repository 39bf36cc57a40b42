/**
 * AMQP 1.0 northbound against a real broker: RabbitMQ 3.x with rabbitmq_amqp1_0, started by the test on free
 * loopback ports, reached through the RabbitMQ address mapping (`/queue/telemetry.<tenant>` ...). Runs the shared
 * northbound suite plus AMQP-specific scenarios (lifecycle events, authentication, connect timeouts).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { NetworkError, TimeoutError } from '../../src/core/errors.js';
import { noRetry } from '../../src/core/retry.js';
import { AmqpNorthbound } from '../../src/northbound/amqp.js';
import { AmqpAuthenticationError } from '../../src/northbound/errors.js';
import type { DownstreamMessage } from '../../src/northbound/types.js';
import { type RabbitMq, rabbitMqClientOptions, rabbitMqNorthboundEnv, rabbitMqProblem, startRabbitMq } from '../support/rabbitmq.js';
import { freePort, skipUnlessAvailable } from '../support/services.js';
import { northboundSuite } from './northbound-suite.js';

const problem = rabbitMqProblem();

describe('northbound over AMQP 1.0 (RabbitMQ)', { skip: skipUnlessAvailable(problem), timeout: 600_000 }, () => {
  let broker: RabbitMq | undefined;

  before(async () => {
    if (problem) throw new Error(problem);
    broker = await startRabbitMq();
  });

  after(async () => {
    await broker?.stop();
  });

  describe('shared northbound suite', () => {
    northboundSuite(async () => rabbitMqNorthboundEnv(broker!));
  });

  describe('AMQP specifics', () => {
    it(
      'emits disconnected / reconnecting / connected around a broker restart and re-attaches command links',
      { timeout: 240_000 },
      async () => {
        const env = await rabbitMqNorthboundEnv(broker!);
        const nb = new AmqpNorthbound(rabbitMqClientOptions(broker!));
        const events: string[] = [];
        nb.on('connected', () => events.push('connected'));
        nb.on('disconnected', () => events.push('disconnected'));
        nb.on('reconnecting', () => events.push('reconnecting'));
        try {
          await nb.connect();
          const tenant = `tl-restart-${process.pid}`;
          const peer = await env.startCommandPeer(tenant, () => ({ status: 200, payload: Buffer.from('pong') }));
          assert.equal((await nb.sendCommand(tenant, 'dev-1', 'ping', undefined, { timeoutMs: 10_000 })).text(), 'pong');
          await broker!.restart();
          await peer.stop();
          const again = await env.startCommandPeer(tenant, () => ({ status: 200, payload: Buffer.from('pong again') }));
          // Commands wait for the reconnect and use the re-attached sender and reply receiver.
          const response = await nb.sendCommand(tenant, 'dev-1', 'ping', undefined, { timeoutMs: 60_000 });
          assert.equal(response.text(), 'pong again');
          await again.stop();
          assert.equal(events[0], 'connected');
          assert.ok(events.includes('disconnected'), events.join(','));
          assert.ok(events.includes('reconnecting'), events.join(','));
          assert.equal(events.at(-1), 'connected');
        } finally {
          await nb.close();
          await env.teardown();
        }
      },
    );

    it('fails authentication with AmqpAuthenticationError and does not retry', async () => {
      const nb = new AmqpNorthbound(
        rabbitMqClientOptions(broker!, { credentials: { username: broker!.username, password: 'wrong-password-123' } }),
      );
      const logged: string[] = [];
      const logger = {
        debug: () => {},
        info: () => {},
        warn: (m: string, f?: object) => logged.push(m + JSON.stringify(f ?? {})),
        error: () => {},
      };
      const withLog = new AmqpNorthbound(
        rabbitMqClientOptions(broker!, { credentials: { username: broker!.username, password: 'wrong-password-123' }, logger }),
      );
      try {
        await assert.rejects(() => nb.connect({ timeoutMs: 20_000 }), AmqpAuthenticationError);
        await assert.rejects(
          () => withLog.connect({ timeoutMs: 20_000 }),
          (error: Error) => !error.message.includes('wrong-password-123'),
        );
        assert.ok(!logged.join('\n').includes('wrong-password-123'), 'the password never reaches the log');
      } finally {
        await nb.close();
        await withLog.close();
      }
    });

    it('times out connecting to a peer that never answers, and reports refused connections', async () => {
      const sockets = new Set<Socket>();
      const silent: Server = createServer((socket) => {
        sockets.add(socket);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as { port: number }).port;
      const hanging = new AmqpNorthbound({ host: '127.0.0.1', port, reconnect: { policy: noRetry }, connectTimeoutMs: 500 });
      const refusedPort = await freePort();
      const refused = new AmqpNorthbound({ host: '127.0.0.1', port: refusedPort, reconnect: { policy: noRetry } });
      try {
        await assert.rejects(() => hanging.connect(), TimeoutError);
        await assert.rejects(() => refused.connect({ timeoutMs: 5_000 }), NetworkError);
      } finally {
        await hanging.close();
        await refused.close();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });

    it(
      "consumes through RabbitMQ's credit overshoot without printing anything (rhea's warning goes to the logger as a count)",
      { timeout: 240_000 },
      async (t) => {
        const env = await rabbitMqNorthboundEnv(broker!);
        let beyondCredit = -1;
        const logger = {
          debug: (message: string, fields?: Record<string, unknown>) => {
            if (message === 'stream ended') beyondCredit = Number(fields?.transfersBeyondCredit);
          },
          info() {},
          warn() {},
          error() {},
        };
        const nb = new AmqpNorthbound(rabbitMqClientOptions(broker!, { logger }));
        const tenant = `tl-overshoot-${process.pid}`;
        const count = 3_000;
        const printed: string[] = [];
        const methods = ['error', 'warn', 'log', 'info', 'debug', 'trace'] as const;
        const originals = methods.map((name) => console[name]);
        const stderrWrite = process.stderr.write;
        try {
          const payload = Buffer.from('x'.repeat(100));
          for (let i = 0; i < count; i += 1) await env.publishDownstream('telemetry', tenant, { deviceId: 'd', payload });
          for (const name of methods)
            console[name] = (...args: unknown[]) => void printed.push(`console.${name}: ${args.map(String).join(' ')}`);
          process.stderr.write = ((chunk: string | Uint8Array) => {
            printed.push(`stderr: ${String(chunk)}`);
            return true;
          }) as typeof process.stderr.write;
          let received = 0;
          for await (const _ of nb.telemetry(tenant, { prefetch: 32 })) {
            received += 1;
            if (received === count) break;
          }
        } finally {
          methods.forEach((name, index) => {
            console[name] = originals[index]!;
          });
          process.stderr.write = stderrWrite;
          await nb.close();
          await env.teardown();
        }
        t.diagnostic(`${count} messages with prefetch 32: RabbitMQ sent ${beyondCredit} of them beyond the granted credit`);
        assert.deepEqual(printed.slice(0, 5), [], `${printed.length} lines printed`);
        // Whether RabbitMQ overshoots depends on timing (it did in every run on the CI machine); the unit test with a
        // scripted broker proves the mechanism either way. Here: the real broker's overshoot, when it happens, prints nothing.
        assert.ok(beyondCredit >= 0, 'the stream reported how many transfers arrived beyond the credit');
      },
    );

    it('ends a stream when its AbortSignal fires and hands the unprocessed messages back', async () => {
      const env = await rabbitMqNorthboundEnv(broker!);
      const nb = new AmqpNorthbound(rabbitMqClientOptions(broker!));
      const tenant = `tl-abort-${process.pid}`;
      try {
        for (const text of ['x1', 'x2', 'x3']) await env.publishDownstream('event', tenant, { deviceId: 'd', payload: Buffer.from(text) });
        const controller = new AbortController();
        const seen: DownstreamMessage[] = [];
        for await (const message of nb.events(tenant, { signal: controller.signal, prefetch: 3 })) {
          seen.push(message);
          controller.abort();
        }
        assert.deepEqual(
          seen.map((m) => m.text()),
          ['x1'],
        );
        const again: string[] = [];
        for await (const message of nb.events(tenant)) {
          again.push(message.text());
          if (again.length === 3) break;
        }
        assert.deepEqual(again.sort(), ['x1', 'x2', 'x3']);
      } finally {
        await nb.close();
        await env.teardown();
      }
    });
  });
});
