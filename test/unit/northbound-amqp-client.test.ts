/**
 * AmqpNorthbound against an in-process AMQP 1.0 peer (a rhea listener on 127.0.0.1) that plays Hono's router
 * the way a plain broker cannot: it settles commands `released` / `rejected`, withholds command credit,
 * reads the credit a consumer grants, refuses links and drops connections.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Server, Socket } from 'node:net';
import rhea, { type Connection, type Delivery, type EventContext, type Message, type Receiver, type Sender } from 'rhea';
import { AbortError, ValidationError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { ExponentialBackoff, noRetry } from '../../src/core/retry.js';
import { AmqpNorthbound } from '../../src/northbound/amqp.js';
import { shutdownConnection } from '../../src/northbound/amqp-connection.js';
import type { AmqpNorthboundOptions } from '../../src/northbound/amqp-options.js';
import {
  AmqpAuthenticationError,
  CommandFailedError,
  CommandRejectedError,
  CommandTimeoutError,
  DeviceNotConnectedError,
  MalformedMessageError,
  NoCommandConsumerError,
  NorthboundLinkError,
  NorthboundNotConnectedError,
} from '../../src/northbound/errors.js';
import type { DownstreamMessage } from '../../src/northbound/types.js';
import { settlesWithin } from '../support/settle.js';

type Outcome = 'accepted' | 'released' | 'rejected' | 'modified';

interface ReceivedCommand {
  address: string;
  message: Message;
  delivery: Delivery;
  receiver: Receiver;
}

async function waitUntil(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

class FakeRouter {
  readonly container = rhea.create_container({ id: 'fake-router' });
  server!: Server;
  port = 0;
  readonly sockets = new Set<Socket>();
  readonly connections: Connection[] = [];
  readonly senders: Sender[] = [];
  readonly commandReceivers: Receiver[] = [];
  readonly commands: ReceivedCommand[] = [];
  readonly attachOrder: string[] = [];
  /** Grant credit to command senders (Hono: only while a device of the tenant is subscribed). */
  grantCommandCredit = true;
  /** How the router settles a command, or undefined to leave it to the test. */
  settleCommand: ((command: ReceivedCommand) => Outcome | undefined) | undefined = () => 'accepted';
  /** Refuse receivers (client side) on these addresses with the given condition, once each. */
  refuseOnce = new Map<string, string>();
  /** Refuse receivers on these addresses every time. */
  refuseAlways = new Map<string, string>();
  onCommand: ((command: ReceivedCommand) => void) | undefined;
  /** Accept connections and drop each right after it opened (a flapping router). */
  dropOnOpen = false;

  async start(auth?: { username: string; password: string }): Promise<void> {
    if (auth) this.container.sasl_server_mechanisms.enable_plain((u: string, p: string) => u === auth.username && p === auth.password);
    this.container.on('error', () => {});
    this.container.on('disconnected', () => {});
    this.container.on('connection_open', (context: EventContext) => {
      this.connections.push(context.connection);
      if (this.dropOnOpen) setImmediate(() => this.dropConnections());
    });
    this.container.on('sender_open', (context: EventContext) => {
      const sender = context.sender!;
      const address = sender.source?.address ?? '';
      this.attachOrder.push(`receiver:${address}`);
      const refusal = this.refuseOnce.get(address) ?? this.refuseAlways.get(address);
      if (refusal) {
        this.refuseOnce.delete(address);
        sender.close({ condition: refusal, description: `refused by the fake router (${refusal})` });
        return;
      }
      this.senders.push(sender);
    });
    this.container.on('receiver_open', (context: EventContext) => {
      const receiver = context.receiver!;
      const address = receiver.target?.address ?? '';
      this.attachOrder.push(`sender:${address}`);
      this.commandReceivers.push(receiver);
      if (this.grantCommandCredit) receiver.add_credit(100);
    });
    this.container.on('message', (context: EventContext) => {
      const receiver = context.receiver!;
      const command = { address: receiver.target?.address ?? '', message: context.message!, delivery: context.delivery!, receiver };
      this.commands.push(command);
      this.attachOrder.push(`transfer:${command.address}`);
      this.onCommand?.(command);
      const outcome = this.settleCommand?.(command);
      if (outcome === 'accepted') command.delivery.accept();
      else if (outcome === 'released') command.delivery.release();
      else if (outcome === 'rejected') command.delivery.reject({ condition: 'amqp:invalid-field', description: 'no subject' });
      else if (outcome === 'modified') command.delivery.modified({ undeliverable_here: true });
    });
    this.server = this.container.listen({
      port: 0,
      host: '127.0.0.1',
      receiver_options: { credit_window: 0, autoaccept: false },
      sender_options: { treat_modified_as_released: false },
    } as never);
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.once('listening', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }

  sender(address: string): Sender | undefined {
    return this.senders.filter((s) => s.source?.address === address && s.is_open()).at(-1);
  }

  credit(address: string): number {
    return (this.sender(address) as unknown as { credit?: number } | undefined)?.credit ?? 0;
  }

  /** Sends on the newest open link for `address`; resolves with the client's outcome. */
  async send(address: string, message: Message): Promise<Outcome> {
    await waitUntil(`a sendable link on ${address}`, () => this.sender(address)?.sendable() === true);
    const sender = this.sender(address)!;
    const delivery = sender.send(message);
    return new Promise<Outcome>((resolve) => {
      for (const outcome of ['accepted', 'released', 'rejected', 'modified'] as const) {
        const listener = (context: EventContext) => {
          if (context.delivery === delivery) resolve(outcome);
        };
        sender.on(outcome, listener);
      }
    });
  }

  /** Answers a command on its reply-to address. */
  async respond(command: ReceivedCommand, status: number, body = '', contentType?: string): Promise<void> {
    await this.send(String(command.message.reply_to), {
      correlation_id: command.message.correlation_id,
      application_properties: { status, device_id: 'd', tenant_id: 't' },
      body: rhea.message.data_section(Buffer.from(body)),
      ...(contentType ? { content_type: contentType } : {}),
    });
  }

  /** Cuts every client off, as a crashing router would. */
  dropConnections(): void {
    for (const connection of this.connections.splice(0)) shutdownConnection(connection);
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function downstream(deviceId: string | undefined, text: string, extra: Partial<Message> = {}): Message {
  return {
    content_type: 'text/plain',
    creation_time: new Date(),
    application_properties: deviceId === undefined ? {} : { device_id: deviceId },
    body: rhea.message.data_section(Buffer.from(text)),
    ...extra,
  };
}

function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

describe('AmqpNorthbound against a fake Hono router', () => {
  let router: FakeRouter;
  const clients: AmqpNorthbound[] = [];
  const make = (extra: Partial<AmqpNorthboundOptions> = {}) => {
    const nb = new AmqpNorthbound({
      host: '127.0.0.1',
      port: router.port,
      reconnect: { policy: new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 20, maxDelayMs: 100 }) },
      connectTimeoutMs: 3_000,
      ...extra,
    });
    clients.push(nb);
    return nb;
  };

  beforeEach(async () => {
    router = new FakeRouter();
    await router.start();
  });

  afterEach(async () => {
    for (const nb of clients.splice(0)) await nb.close();
    await router.stop();
  });

  describe('downstream', () => {
    it("consumes from Hono's address and grants at most `prefetch` credit, topping up as messages are acknowledged", async () => {
      const nb = make();
      const iterator = nb.telemetry('t1', { prefetch: 3 })[Symbol.asyncIterator]();
      const first = iterator.next();
      await waitUntil('credit 3 on telemetry/t1', () => router.credit('telemetry/t1') === 3);
      const outcomes = ['m1', 'm2', 'm3'].map((text) => router.send('telemetry/t1', downstream('d1', text)));
      assert.equal(((await first).value as DownstreamMessage).text(), 'm1');
      await waitUntil('credit used up', () => router.credit('telemetry/t1') === 0);
      let m1Settled: Outcome | undefined;
      void outcomes[0]!.then((o) => {
        m1Settled = o;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(m1Settled, undefined, 'm1 stays unsettled while its loop body runs');
      assert.equal(((await iterator.next()).value as DownstreamMessage).text(), 'm2');
      assert.equal(await outcomes[0], 'accepted');
      // m2 in the body, m3 buffered: one credit back.
      await waitUntil('credit 1', () => router.credit('telemetry/t1') === 1);
      await iterator.return!();
      assert.equal(await outcomes[1], 'released');
      assert.equal(await outcomes[2], 'released');
    });

    it('settles a message whose body threw as released (default) or modified (option)', async () => {
      for (const [failureOutcome, expected] of [
        ['released', 'released'],
        ['modified', 'modified'],
      ] as const) {
        const nb = make({ failureOutcome });
        const tenant = `t-${failureOutcome}`;
        const run = (async () => {
          for await (const _ of nb.events(tenant)) throw new Error('body failed');
        })().catch((e: unknown) => e);
        const outcome = await router.send(`event/${tenant}`, downstream('d1', 'x'));
        assert.match(String(await run), /body failed/);
        assert.equal(outcome, expected);
      }
    });

    it('rejects malformed messages, reports them, and keeps consuming', async () => {
      const nb = make();
      const errors: Error[] = [];
      nb.on('error', (error) => errors.push(error));
      const received: string[] = [];
      const controller = new AbortController();
      const run = (async () => {
        for await (const message of nb.telemetry('t1', { signal: controller.signal })) received.push(message.text());
      })();
      assert.equal(await router.send('telemetry/t1', downstream(undefined, 'no device')), 'rejected');
      assert.equal(await router.send('telemetry/t1', { application_properties: { device_id: 'd' }, body: { not: 'data' } }), 'rejected');
      assert.equal(
        await router.send('telemetry/t1', downstream('d1', 'good', { application_properties: { device_id: 'd1', qos: 7 } })),
        'rejected',
      );
      void router.send('telemetry/t1', downstream('d1', 'fine'));
      await waitUntil('the good message', () => received.length === 1);
      controller.abort();
      await run;
      assert.deepEqual(received, ['fine']);
      assert.equal(errors.length, 3);
      assert.ok(errors.every((e) => e instanceof MalformedMessageError));
    });

    it('does not crash when nobody listens for error events', async () => {
      const logger = captureLogger();
      const nb = make({ logger });
      const controller = new AbortController();
      const run = (async () => {
        for await (const _ of nb.telemetry('t1', { signal: controller.signal })) break;
      })();
      assert.equal(await router.send('telemetry/t1', downstream(undefined, 'x')), 'rejected');
      controller.abort();
      await run;
      assert.match(logger.lines.join('\n'), /no error listener/);
    });

    it('takes messages sent beyond the granted credit (RabbitMQ overshoot) without printing anything: counted in the debug log', async () => {
      const logger = captureLogger();
      const nb = make({ logger });
      const printed: string[] = [];
      const methods = ['error', 'warn', 'log', 'info', 'debug', 'trace'] as const;
      const originals = methods.map((name) => console[name]);
      const stderrWrite = process.stderr.write;
      for (const name of methods)
        console[name] = (...args: unknown[]) => void printed.push(`console.${name}: ${args.map(String).join(' ')}`);
      process.stderr.write = ((chunk: string | Uint8Array) => {
        printed.push(`stderr: ${String(chunk)}`);
        return true;
      }) as typeof process.stderr.write;
      const received: string[] = [];
      try {
        const controller = new AbortController();
        const run = (async () => {
          for await (const message of nb.telemetry('t1', { prefetch: 2, signal: controller.signal })) received.push(message.text());
        })();
        await waitUntil('credit 2 on telemetry/t1', () => router.credit('telemetry/t1') === 2);
        // The broker counts eight more credits than the client granted (RabbitMQ 3.x, when flow frames cross
        // transfers) and sends ten messages at once.
        const sender = router.sender('telemetry/t1')!;
        (sender as unknown as { credit: number }).credit += 8;
        for (let i = 0; i < 10; i += 1) sender.send(downstream('d1', `m${i}`));
        await waitUntil('all ten messages in the loop', () => received.length === 10);
        controller.abort();
        await run;
      } finally {
        methods.forEach((name, index) => {
          console[name] = originals[index]!;
        });
        process.stderr.write = stderrWrite;
      }
      assert.deepEqual(
        received,
        Array.from({ length: 10 }, (_, i) => `m${i}`),
      );
      assert.deepEqual(printed, [], 'library code printed');
      assert.ok(
        logger.lines.some(
          (line) =>
            line.startsWith('debug the broker sent messages beyond the granted credit') && line.includes('"transfersBeyondCredit":1'),
        ),
        logger.lines.join('\n'),
      );
      const ended = logger.lines.find((line) => line.startsWith('debug stream ended'));
      const counted = Number(/"transfersBeyondCredit":(\d+)/.exec(ended ?? '')?.[1]);
      assert.ok(counted >= 1 && counted <= 8, ended);
    });

    it('emits deviceReady for ttd messages as they reach the loop', async () => {
      const nb = make();
      const ready: number[] = [];
      nb.on('deviceReady', (n) => ready.push(n.ttd));
      const iterator = nb.events('t1')[Symbol.asyncIterator]();
      const next = iterator.next();
      void router.send(
        'event/t1',
        downstream('d1', '', {
          content_type: 'application/vnd.eclipse-hono-empty-notification',
          application_properties: { device_id: 'd1', ttd: 15 },
        }),
      );
      const message = (await next).value as DownstreamMessage;
      assert.equal(message.notification?.type, 'ready');
      assert.deepEqual(ready, [15]);
      await iterator.return!();
    });

    it('reconnects after the connection drops and attaches the receiver again', async () => {
      const nb = make();
      const events: string[] = [];
      for (const name of ['connected', 'disconnected', 'reconnecting'] as const) nb.on(name, () => events.push(name));
      const received: string[] = [];
      const controller = new AbortController();
      const run = (async () => {
        for await (const message of nb.events('t1', { signal: controller.signal })) received.push(message.text());
      })();
      await router.send('event/t1', downstream('d1', 'before'));
      await waitUntil('before', () => received.includes('before'));
      const attachesBefore = router.attachOrder.filter((a) => a === 'receiver:event/t1').length;
      router.dropConnections();
      await waitUntil('a new receiver attach', () => router.attachOrder.filter((a) => a === 'receiver:event/t1').length > attachesBefore);
      await router.send('event/t1', downstream('d1', 'after'));
      await waitUntil('after', () => received.includes('after'));
      controller.abort();
      await run;
      assert.deepEqual(events.slice(0, 3), ['connected', 'disconnected', 'reconnecting']);
      assert.equal(events.at(-1), 'connected');
      assert.equal(nb.state, 'open');
    });

    it('attaches again after a transient link error, fails the stream on a permanent one', async () => {
      const nb = make();
      router.refuseOnce.set('event/t1', 'amqp:internal-error');
      const received: string[] = [];
      const controller = new AbortController();
      const run = (async () => {
        for await (const message of nb.events('t1', { signal: controller.signal })) received.push(message.text());
      })();
      await router.send('event/t1', downstream('d1', 'after relink'));
      await waitUntil('the message after relink', () => received.length === 1);
      controller.abort();
      await run;

      router.refuseOnce.set('telemetry/t2', 'amqp:not-found');
      const error = await (async () => {
        for await (const _ of nb.telemetry('t2')) break;
      })().catch((e: unknown) => e);
      assert.ok(error instanceof NorthboundLinkError, String(error));
      assert.equal(error.condition, 'amqp:not-found');
      assert.equal(error.address, 'telemetry/t2');
    });

    it('forgets a pending re-attach when the connection drops, so the reconnect attaches each stream once', async () => {
      // Slow re-attach after a link error, fast reconnect: the stale re-attach would fire on the new connection.
      const retry = { nextDelayMs: (_attempt: number, error: unknown) => (error instanceof NorthboundLinkError ? 600 : 20) };
      const nb = make({ reconnect: { policy: retry } });
      router.refuseOnce.set('telemetry/t1', 'amqp:internal-error');
      const controller = new AbortController();
      const run = (async () => {
        for await (const _ of nb.telemetry('t1', { signal: controller.signal })) break;
      })().catch(() => undefined);
      await waitUntil('the refused attach', () => router.attachOrder.includes('receiver:telemetry/t1'));
      router.dropConnections();
      await waitUntil('the attach after the reconnect', () => router.attachOrder.filter((a) => a === 'receiver:telemetry/t1').length === 2);
      await new Promise((resolve) => setTimeout(resolve, 900)); // past the re-attach delay
      assert.equal(router.attachOrder.filter((a) => a === 'receiver:telemetry/t1').length, 2);
      controller.abort();
      await run;
    });

    it('keeps counting re-attaches of a link the router refuses right after every attach', async () => {
      const linkAttempts: number[] = [];
      const retry = {
        nextDelayMs: (attempt: number, error: unknown) => {
          if (!(error instanceof NorthboundLinkError)) return 20;
          linkAttempts.push(attempt);
          return attempt < 5 ? 10 : undefined;
        },
      };
      const nb = make({ reconnect: { policy: retry } });
      router.refuseAlways.set('telemetry/t9', 'amqp:internal-error');
      const error = await (async () => {
        for await (const _ of nb.telemetry('t9')) break;
      })().catch((e: unknown) => e);
      assert.ok(error instanceof NorthboundLinkError, String(error));
      assert.deepEqual(linkAttempts, [1, 2, 3, 4, 5], 'an attach that the router refuses at once does not reset the count');
      router.refuseAlways.clear();
    });

    it('ends running streams when the client closes', async () => {
      const nb = make();
      const run = (async () => {
        const seen: string[] = [];
        for await (const message of nb.telemetry('t1')) seen.push(message.text());
        return seen;
      })();
      await waitUntil('the receiver', () => router.sender('telemetry/t1') !== undefined);
      await nb.close();
      assert.deepEqual(await run, []);
    });
  });

  describe('commands', () => {
    it("sends a request with Hono's properties, attaching the reply receiver first, and correlates the response", async () => {
      const nb = make();
      router.onCommand = (command) => void router.respond(command, 200, '{"done":true}', 'application/json');
      const response = await nb.sendCommand(
        't1',
        'org.acme:lamp-1',
        'switch',
        { on: true },
        { timeoutMs: 5_000, properties: { prio: 'high' } },
      );
      assert.equal(response.status, 200);
      assert.deepEqual(response.json(), { done: true });
      const { message, address } = router.commands[0]!;
      assert.equal(address, 'command/t1');
      assert.equal(message.to, 'command/t1/org.acme:lamp-1');
      assert.equal(message.subject, 'switch');
      assert.equal(message.content_type, 'application/json');
      assert.equal(typeof message.message_id, 'string');
      assert.equal(message.correlation_id, message.message_id);
      assert.equal(response.correlationId, message.message_id);
      assert.match(String(message.reply_to), /^command_response\/t1\/[0-9a-f-]{36}$/);
      assert.deepEqual(message.application_properties, { prio: 'high' });
      assert.deepEqual(JSON.parse(Buffer.from((message.body as { content: Buffer }).content).toString()), { on: true });
      const replyAttach = router.attachOrder.indexOf(`receiver:${String(message.reply_to)}`);
      const transfer = router.attachOrder.indexOf('transfer:command/t1');
      assert.ok(replyAttach >= 0 && replyAttach < transfer, router.attachOrder.join(' | '));

      // One reply receiver per tenant, shared by every request.
      await nb.sendCommand('t1', 'org.acme:lamp-1', 'switch', 'again', { timeoutMs: 5_000 });
      assert.equal(router.attachOrder.filter((a) => a.startsWith('receiver:command_response/t1/')).length, 1);
    });

    it('maps the outcomes: released → DeviceNotConnectedError, rejected → CommandRejectedError', async () => {
      const nb = make();
      router.settleCommand = (command) =>
        command.message.subject === 'bad' ? 'rejected' : command.message.subject === 'gone' ? 'modified' : 'released';
      await assert.rejects(() => nb.sendCommand('t1', 'd1', 'switch', undefined, { timeoutMs: 5_000 }), DeviceNotConnectedError);
      await assert.rejects(() => nb.sendOneWayCommand('t1', 'd1', 'switch', undefined, { timeoutMs: 5_000 }), DeviceNotConnectedError);
      await assert.rejects(() => nb.sendOneWayCommand('t1', 'd1', 'gone', undefined, { timeoutMs: 5_000 }), DeviceNotConnectedError);
      const rejected = await nb.sendCommand('t1', 'd1', 'bad', undefined, { timeoutMs: 5_000 }).catch((e: unknown) => e);
      assert.ok(rejected instanceof CommandRejectedError, String(rejected));
      assert.match(rejected.message, /amqp:invalid-field: no subject/);
      assert.equal(rejected.tenantId, 't1');
      assert.equal(rejected.deviceId, 'd1');
      assert.equal(rejected.command, 'bad');
    });

    it('resolves a one-way command once it is accepted, without a reply-to', async () => {
      const nb = make();
      await nb.sendOneWayCommand('t1', 'd1', 'blink', 'now');
      const { message } = router.commands[0]!;
      assert.equal(message.reply_to, undefined);
      assert.equal(message.correlation_id, undefined);
      assert.equal(message.content_type, 'text/plain');
      assert.ok(!router.attachOrder.some((a) => a.startsWith('receiver:command_response')));
    });

    it('fails with NoCommandConsumerError when the router grants no credit', async () => {
      router.grantCommandCredit = false;
      const nb = make({ commandCreditWaitMs: 200 });
      const error = await nb.sendCommand('t1', 'd1', 'switch', undefined, { timeoutMs: 5_000 }).catch((e: unknown) => e);
      assert.ok(error instanceof NoCommandConsumerError, String(error));
      assert.equal(router.commands.length, 0);
      // A timeout shorter than the credit wait is a plain timeout.
      await assert.rejects(() => nb.sendOneWayCommand('t1', 'd1', 'switch', undefined, { timeoutMs: 100 }), CommandTimeoutError);
    });

    it('reports status >= 400 as CommandFailedError and times out unanswered commands', async () => {
      const nb = make();
      router.onCommand = (command) => {
        if (command.message.subject === 'fail') void router.respond(command, 503, 'busy', 'text/plain');
      };
      const failed = await nb.sendCommand('t1', 'd1', 'fail').catch((e: unknown) => e);
      assert.ok(failed instanceof CommandFailedError, String(failed));
      assert.equal(failed.status, 503);
      assert.equal(failed.response.text(), 'busy');
      const timedOut = await nb.sendCommand('t1', 'd1', 'silence', undefined, { timeoutMs: 200 }).catch((e: unknown) => e);
      assert.ok(timedOut instanceof CommandTimeoutError, String(timedOut));
      assert.equal(timedOut.timeoutMs, 200);
    });

    it('ignores late responses and reports malformed ones', async () => {
      const nb = make();
      const errors: Error[] = [];
      nb.on('error', (e) => errors.push(e));
      let first: ReceivedCommand | undefined;
      router.onCommand = (command) => {
        first ??= command;
      };
      await assert.rejects(() => nb.sendCommand('t1', 'd1', 'slow', undefined, { timeoutMs: 1_000 }), CommandTimeoutError);
      await waitUntil('the command at the router', () => first !== undefined);
      await router.respond(first!, 200, 'too late');
      await router.send(String(first!.message.reply_to), {
        correlation_id: 'x',
        body: rhea.message.data_section(Buffer.from('no status')),
      });
      await waitUntil('the malformed response report', () => errors.length === 1);
      assert.ok(errors[0] instanceof MalformedMessageError);
    });

    it('honours AbortSignal and validates before any I/O', async () => {
      const nb = make();
      router.settleCommand = () => undefined;
      const controller = new AbortController();
      const pending = nb.sendCommand('t1', 'd1', 'switch', undefined, { signal: controller.signal, timeoutMs: 5_000 });
      await waitUntil('the command at the router', () => router.commands.length === 1);
      controller.abort();
      await assert.rejects(pending, AbortError);
      const fresh = make();
      await assert.rejects(() => fresh.sendCommand('t/1', 'd1', 'x'), ValidationError);
      await assert.rejects(() => fresh.sendCommand('t1', 'd 1', 'x'), ValidationError);
      await assert.rejects(() => fresh.sendCommand('t1', 'd1', 'x', undefined, { timeoutMs: -5 }), ValidationError);
      assert.equal(fresh.state, 'idle');
    });

    it('attaches command sender and reply receiver again after a reconnect', async () => {
      const nb = make();
      router.onCommand = (command) => void router.respond(command, 200, 'pong');
      assert.equal((await nb.sendCommand('t1', 'd1', 'ping')).text(), 'pong');
      router.dropConnections();
      await waitUntil('the re-attached command sender', () => router.attachOrder.filter((a) => a === 'sender:command/t1').length === 2);
      assert.equal((await nb.sendCommand('t1', 'd1', 'ping')).text(), 'pong');
      assert.equal(router.attachOrder.filter((a) => a.startsWith('receiver:command_response/t1/')).length, 2);
    });

    it('attaches the command sender again when the router detaches it without an error', async () => {
      const nb = make();
      router.onCommand = (command) => void router.respond(command, 200, 'pong');
      assert.equal((await nb.sendCommand('t1', 'd1', 'ping')).text(), 'pong');
      router.commandReceivers.at(-1)?.close(); // a detach without an error condition
      await waitUntil('the re-attached command sender', () => router.attachOrder.filter((a) => a === 'sender:command/t1').length === 2);
      assert.equal((await nb.sendCommand('t1', 'd1', 'ping', undefined, { timeoutMs: 3_000 })).text(), 'pong');
    });

    it("commandsWhileDisconnected 'fail' refuses a command at once while the connection is being re-established; 'wait' (default) waits", async () => {
      const fast = make({ commandsWhileDisconnected: 'fail' });
      const patient = make();
      router.onCommand = (command) => void router.respond(command, 200, 'pong');
      assert.equal((await fast.sendCommand('t1', 'd1', 'ping')).text(), 'pong');
      await patient.connect();
      await router.stop(); // drops both connections and takes no new ones
      await waitUntil('both clients reconnecting', () => fast.state === 'reconnecting' && patient.state === 'reconnecting');
      const commands = router.commands.length;
      const refused = await settlesWithin(
        fast.sendCommand('t1', 'd1', 'switch', undefined, { timeoutMs: 60_000 }).catch((e: unknown) => e),
        10_000,
        'the refused command',
      );
      const oneWay = await settlesWithin(
        fast.sendOneWayCommand('t1', 'd1', 'blink', undefined, { timeoutMs: 60_000 }).catch((e: unknown) => e),
        10_000,
        'the refused one-way command',
      );
      for (const error of [refused, oneWay]) {
        assert.ok(error instanceof NorthboundNotConnectedError, String(error));
        assert.equal(error.reason, 'disconnected');
        assert.equal(error.code, 'northbound.not-connected');
        assert.ok(!(error instanceof DeviceNotConnectedError));
      }
      assert.match((refused as Error).message, /^command "switch" to t1\/d1: the AMQP northbound client is disconnected/);
      const waited = await patient.sendCommand('t1', 'd1', 'switch', undefined, { timeoutMs: 300 }).catch((e: unknown) => e);
      assert.ok(waited instanceof CommandTimeoutError, String(waited));
      assert.equal(router.commands.length, commands);
    });

    it('rejects pending commands when the client closes', async () => {
      const nb = make();
      router.settleCommand = () => 'accepted';
      const pending = nb.sendCommand('t1', 'd1', 'switch', undefined, { timeoutMs: 5_000 }).catch((e: unknown) => e);
      await waitUntil('the command at the router', () => router.commands.length === 1);
      await nb.close();
      const error = await pending;
      assert.ok(error instanceof AbortError, String(error));
      assert.match(String((error as Error).cause), /closed/);
    });
  });

  describe('connection', () => {
    it('authenticates with SASL PLAIN and keeps the password out of logs and errors', async () => {
      await router.stop();
      router = new FakeRouter();
      await router.start({ username: 'consumer@HONO', password: 'verysecret-pw' });
      const logger = captureLogger();
      const ok = make({ credentials: { username: 'consumer@HONO', password: 'verysecret-pw' }, logger });
      await ok.connect();
      assert.equal(ok.state, 'open');
      const bad = make({
        credentials: { username: 'consumer@HONO', password: 'wrong-secret-pw' },
        logger,
        reconnect: { policy: new ExponentialBackoff({ initialDelayMs: 10 }) },
      });
      const error = await bad.connect({ timeoutMs: 5_000 }).catch((e: unknown) => e);
      assert.ok(error instanceof AmqpAuthenticationError, String(error));
      assert.ok(!String(error).includes('wrong-secret-pw'));
      const log = logger.lines.join('\n');
      assert.ok(!log.includes('verysecret-pw') && !log.includes('wrong-secret-pw'), log);
      assert.equal(router.connections.length, 1, 'an authentication failure is not retried');
    });

    it('retries connect() with the policy until the router is there', async () => {
      const port = router.port;
      await router.stop();
      const nb = new AmqpNorthbound({
        host: '127.0.0.1',
        port,
        reconnect: { policy: new ExponentialBackoff({ maxAttempts: 100, initialDelayMs: 50, maxDelayMs: 100, jitter: 'none' }) },
      });
      clients.push(nb);
      const connecting = nb.connect({ timeoutMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      router = new FakeRouter();
      const server = rhea.create_container({ id: 'late-router' });
      server.on('error', () => {});
      const late = server.listen({ port, host: '127.0.0.1' });
      await connecting;
      assert.equal(nb.state, 'open');
      await nb.close();
      await new Promise<void>((resolve) => late.close(() => resolve()));
      await router.start();
    });

    it('gives up after the retry policy and fails running streams', async () => {
      const nb = make({ reconnect: { policy: new ExponentialBackoff({ maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 }) } });
      const errors: Error[] = [];
      nb.on('error', (e) => errors.push(e));
      const run = (async () => {
        for await (const _ of nb.telemetry('t1')) break;
      })().catch((e: unknown) => e);
      await waitUntil('the receiver', () => router.sender('telemetry/t1') !== undefined);
      await router.stop();
      assert.match(String(await run), /gave up reconnecting/);
      assert.equal(nb.state, 'failed');
      assert.equal(errors.length, 1);
      await router.start();
    });

    it('fails every stream that waited for a first connect that failed, instead of leaving them waiting', async () => {
      const port = router.port;
      await router.stop();
      const nb = new AmqpNorthbound({ host: '127.0.0.1', port, reconnect: { policy: noRetry } });
      clients.push(nb);
      const first = nb.telemetry('t1')[Symbol.asyncIterator]().next();
      const second = nb.events('t1')[Symbol.asyncIterator]().next();
      const outcomes = await settlesWithin(Promise.allSettled([first, second]), 5_000, 'streams waiting on the failed connect');
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        assert.match(String((outcome as PromiseRejectedResult).reason), /ECONNREFUSED/);
      }
      await router.start();
    });

    it('keeps backing off against a router that drops every connection right after opening it', async () => {
      const nb = make({
        reconnect: {
          policy: new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 5, maxDelayMs: 40, jitter: 'none' }),
        },
      });
      const attempts: number[] = [];
      nb.on('reconnecting', ({ attempt }) => attempts.push(attempt));
      await nb.connect();
      router.dropOnOpen = true;
      router.dropConnections();
      await waitUntil('four reconnects', () => attempts.length >= 4);
      assert.deepEqual(attempts.slice(0, 4), [1, 2, 3, 4], 'an opened-then-dropped connection does not reset the attempt count');
      router.dropOnOpen = false;
    });

    it('connect() rejects with AbortError when aborted, and noRetry fails at once', async () => {
      const port = router.port;
      await router.stop();
      const nb = new AmqpNorthbound({
        host: '127.0.0.1',
        port,
        reconnect: { policy: new ExponentialBackoff({ maxAttempts: 1_000, initialDelayMs: 50 }) },
      });
      clients.push(nb);
      const controller = new AbortController();
      const pending = nb.connect({ signal: controller.signal, timeoutMs: 10_000 });
      setTimeout(() => controller.abort(), 100);
      await assert.rejects(pending, AbortError);
      const once = new AmqpNorthbound({ host: '127.0.0.1', port, reconnect: { policy: noRetry } });
      clients.push(once);
      await assert.rejects(() => once.connect(), /ECONNREFUSED/);
      await router.start();
    });
  });
});
