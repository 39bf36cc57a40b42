/**
 * Starts a throw-away RabbitMQ 3.x node with the AMQP 1.0 plugin as the current user: temp dir for data,
 * logs, config and Erlang cookie; every port (AMQP, Erlang distribution, epmd) free on 127.0.0.1; a vhost and
 * user of the test's own. `stop()` ends the node's process group and its own epmd.
 *
 * Debian installs the server under /usr/lib/rabbitmq/bin; /usr/sbin/rabbitmq-server is a wrapper that
 * switches to the `rabbitmq` user when run as root, which would not own our temp dir, so it is not used.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import rhea, { type Connection, type Delivery, type EventContext, type Message, type Receiver, type Sender } from 'rhea';
import { ExponentialBackoff } from '../../src/core/retry.js';
import { AmqpNorthbound } from '../../src/northbound/amqp.js';
import { shutdownConnection } from '../../src/northbound/amqp-connection.js';
import { type AmqpNorthboundOptions, RABBITMQ_ADDRESSING, resolveAddress, resolveAmqpOptions } from '../../src/northbound/amqp-options.js';
import type { CommandPeer, NorthboundTestEnv, ReceivedTestCommand, TestCommandAnswer } from './northbound-env.js';
import { findExecutable, freePort, waitForPort } from './services.js';

export interface RabbitMq {
  host: string;
  port: number;
  username: string;
  password: string;
  vhost: string;
  /** The AMQP open `hostname` that selects the vhost. */
  amqpHostname: string;
  dir: string;
  /** Stops the node (keeping its data) and starts it again on the same ports. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const SERVER_CANDIDATES = ['/usr/lib/rabbitmq/bin/rabbitmq-server', '/usr/local/lib/rabbitmq/bin/rabbitmq-server'];

function serverScript(): string | undefined {
  const home = process.env.RABBITMQ_HOME;
  const candidates = [...(home ? [join(home, 'sbin', 'rabbitmq-server')] : []), ...SERVER_CANDIDATES];
  const found = candidates.find((file) => existsSync(file));
  if (found) return found;
  // A generic-unix install has rabbitmq-env next to rabbitmq-server (the Debian /usr/sbin wrapper has not).
  const onPath = findExecutable('rabbitmq-server', []);
  return onPath && existsSync(join(dirname(onPath), 'rabbitmq-env')) ? onPath : undefined;
}

/** Why RabbitMQ cannot be started here, or undefined when it can. */
export function rabbitMqProblem(): string | undefined {
  if (!serverScript()) return 'rabbitmq-server (RabbitMQ 3.x with rabbitmq_amqp1_0) is not installed: apt-get install rabbitmq-server';
  if (!findExecutable('epmd', ['/usr/lib/erlang/bin'])) return 'epmd (Erlang) is not installed: apt-get install erlang-base';
  return undefined;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Resolves once an AMQP 1.0 connection to the node opens (the listener may accept before the plugin is up). */
async function waitForAmqp(port: number, username: string, password: string, hostname: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const container = rhea.create_container({ id: 'twinledger-test-probe' });
      container.on('error', () => {});
      const connection = container.connect({ host: '127.0.0.1', port, username, password, hostname, reconnect: false });
      const timer = setTimeout(() => finish(false), 3_000);
      function finish(result: boolean) {
        clearTimeout(timer);
        shutdownConnection(connection);
        resolve(result);
      }
      connection.on('connection_open', () => finish(true));
      connection.on('connection_error', (context) => {
        lastError = String(context.error ?? connection.error);
      });
      connection.on('disconnected', (context) => {
        if (context.error) lastError = String(context.error);
        finish(false);
      });
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`RabbitMQ on 127.0.0.1:${port} did not accept AMQP 1.0 connections within ${timeoutMs} ms (${lastError})`);
}

export async function startRabbitMq(options: { startTimeoutMs?: number } = {}): Promise<RabbitMq> {
  const problem = rabbitMqProblem();
  if (problem) throw new Error(problem);
  const script = serverScript()!;
  const epmdBinary = findExecutable('epmd', ['/usr/lib/erlang/bin'])!;
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;

  const dir = mkdtempSync(join(tmpdir(), 'twinledger-rabbitmq-'));
  const home = join(dir, 'home');
  for (const sub of ['home', 'mnesia', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  const cookie = join(home, '.erlang.cookie');
  writeFileSync(cookie, randomBytes(18).toString('hex'));
  chmodSync(cookie, 0o400);

  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const username = 'twinledger';
  const password = randomBytes(12).toString('hex');
  const vhost = 'twinledger-test';
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_amqp1_0].\n');
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      `default_user = ${username}`,
      `default_pass = ${password}`,
      `default_vhost = ${vhost}`,
      'default_user_tags.administrator = true',
      'loopback_users = none',
      'disk_free_limit.absolute = 1MB',
      'log.console = false',
      'log.file.level = warning',
      `amqp1_0.default_vhost = ${vhost}`,
      '',
    ].join('\n'),
  );
  const nodeName = `twinledger${process.pid}${randomBytes(3).toString('hex')}@localhost`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };

  // Our own epmd on a free loopback port, as a child we can stop (Erlang would otherwise daemonise one on 4369).
  const epmd = spawn(epmdBinary, ['-port', String(epmdPort), '-address', '127.0.0.1'], { env, stdio: 'ignore' });
  let server: ChildProcess | undefined;
  const amqpHostname = `vhost:${vhost}`;

  const startServer = async () => {
    const logFd = openSync(join(dir, 'server.out'), 'a');
    server = spawn(script, [], { env, cwd: dir, detached: true, stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    const pid = server.pid;
    // If the test process dies without stop(), take the broker down with it.
    const killOnExit = () => {
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      epmd.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    server.once('exit', () => process.removeListener('exit', killOnExit));
    const exited = new Promise<never>((_, reject) => {
      server!.once('exit', (code, signal) => {
        let tail = '';
        try {
          tail = readFileSync(join(dir, 'server.out'), 'utf8').slice(-2000);
        } catch {
          // no log
        }
        reject(new Error(`rabbitmq-server exited (${code ?? signal}) before it was ready:\n${tail}`));
      });
    });
    exited.catch(() => {});
    await Promise.race([
      (async () => {
        await waitForPort(port, startTimeoutMs);
        await waitForAmqp(port, username, password, amqpHostname, startTimeoutMs);
      })(),
      exited,
    ]);
  };

  const stopServer = async () => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // rabbitmq-server shuts down gracefully on SIGTERM (queues and persistent messages are kept).
    killGroup(child, 'SIGTERM');
    if (!(await waitForExit(child, 60_000))) {
      killGroup(child, 'SIGKILL');
      await waitForExit(child, 10_000);
    }
  };

  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await stopServer();
    epmd.kill('SIGTERM');
    if (!(await waitForExit(epmd, 5_000))) epmd.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitForPort(epmdPort, 10_000);
    await startServer();
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    vhost,
    amqpHostname,
    dir,
    async restart() {
      await stopServer();
      await startServer();
    },
    stop: stopAll,
  };
}

/**
 * A plain rhea connection for test peers (publisher, simulated device). Opens lazily and again after the
 * broker went away, so it survives `restart()`.
 */
export class AmqpTestPeer {
  private connection: Connection | undefined;
  private opening: Promise<Connection> | undefined;
  private readonly senders = new Map<string, Sender>();
  private closed = false;

  constructor(
    private readonly broker: Pick<RabbitMq, 'host' | 'port' | 'username' | 'password' | 'amqpHostname'>,
    private readonly id = `twinledger-test-peer-${randomBytes(4).toString('hex')}`,
  ) {}

  async open(): Promise<Connection> {
    if (this.closed) throw new Error('test peer closed');
    if (this.connection?.is_open()) return this.connection;
    this.opening ??= new Promise<Connection>((resolve, reject) => {
      const container = rhea.create_container({ id: this.id });
      container.on('error', () => {});
      const connection = container.connect({
        host: this.broker.host,
        port: this.broker.port,
        username: this.broker.username,
        password: this.broker.password,
        hostname: this.broker.amqpHostname,
        reconnect: false,
      });
      const forget = () => {
        if (this.connection === connection) this.connection = undefined;
        this.senders.clear();
      };
      connection.on('connection_open', () => {
        this.connection = connection;
        resolve(connection);
      });
      connection.on('disconnected', (context) => {
        forget();
        reject(context.error ?? new Error('disconnected'));
      });
      connection.on('connection_close', forget);
      connection.on('connection_error', () => {});
      connection.on('error', () => {});
    }).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Sends one message and waits for the broker's outcome (accepted, else rejects). */
  async send(address: string, message: Message, options: { durable?: 0 | 1 | 2; timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 15_000;
    const connection = await this.open();
    let sender = this.senders.get(address);
    if (!sender || !sender.is_open()) {
      sender = connection.open_sender({ target: { address, durable: options.durable ?? 0 } });
      this.senders.set(address, sender);
    }
    const link = sender;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no outcome for a message to ${address} within ${timeoutMs} ms`)), timeoutMs);
      let delivery: Delivery | undefined;
      const outcomes = ['accepted', 'rejected', 'released', 'modified'] as const;
      const listeners = outcomes.map((outcome) => (context: EventContext) => {
        if (context.delivery !== delivery) return;
        finish(outcome === 'accepted' ? undefined : new Error(`message to ${address}: ${outcome}`));
      });
      const onError = () => finish(new Error(`sender to ${address} failed: ${String(link.error)}`));
      function finish(error: Error | undefined) {
        clearTimeout(timer);
        outcomes.forEach((outcome, i) => link.removeListener(outcome, listeners[i]!));
        link.removeListener('sender_error', onError);
        link.removeListener('sendable', trySend);
        if (error) reject(error);
        else resolve();
      }
      function trySend() {
        if (delivery || !link.sendable()) return;
        delivery = link.send(message);
      }
      outcomes.forEach((outcome, i) => link.on(outcome, listeners[i]!));
      link.on('sender_error', onError);
      link.on('sendable', trySend);
      trySend();
    });
  }

  /** Opens a receiver and resolves once the broker attached it (which declares a RabbitMQ queue). */
  async receive(
    address: string,
    onMessage: (context: EventContext) => void,
    options: { creditWindow?: number; autoaccept?: boolean; durable?: 0 | 1 | 2 } = {},
  ): Promise<Receiver> {
    const connection = await this.open();
    const receiver = connection.open_receiver({
      source: { address, durable: options.durable ?? 0 },
      credit_window: options.creditWindow ?? 100,
      autoaccept: options.autoaccept ?? true,
    });
    receiver.on('message', onMessage);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver on ${address} not attached within 15 s`)), 15_000);
      receiver.once('receiver_open', () => {
        clearTimeout(timer);
        resolve();
      });
      receiver.once('receiver_error', () => {
        clearTimeout(timer);
        reject(new Error(`receiver on ${address} failed: ${String(receiver.error)}`));
      });
    });
    return receiver;
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    this.senders.clear();
    if (!connection) return;
    const open = connection;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 2_000);
      function done() {
        clearTimeout(timer);
        shutdownConnection(open);
        resolve();
      }
      connection.removeAllListeners();
      connection.on('error', () => {});
      connection.on('disconnected', done);
      connection.on('connection_close', done);
      connection.close();
    });
  }
}

/** Client options for the test broker: its user and vhost, the RabbitMQ address mapping, quick reconnects. */
export function rabbitMqClientOptions(broker: RabbitMq, extra: Partial<AmqpNorthboundOptions> = {}): AmqpNorthboundOptions {
  return {
    host: broker.host,
    port: broker.port,
    credentials: { username: broker.username, password: broker.password },
    virtualHost: broker.amqpHostname,
    ...RABBITMQ_ADDRESSING,
    reconnect: { policy: new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 200, maxDelayMs: 2_000 }) },
    connectTimeoutMs: 5_000,
    ...extra,
  };
}

/** The NorthboundTestEnv for RabbitMQ (shared suite, AMQP tests, benchmark). */
export async function rabbitMqNorthboundEnv(broker: RabbitMq): Promise<NorthboundTestEnv> {
  const addressing = resolveAmqpOptions(rabbitMqClientOptions(broker));
  const publisher = new AmqpTestPeer(broker);
  const peers: AmqpTestPeer[] = [];
  return {
    name: 'amqp',
    capabilities: { competingConsumers: true, deviceNotConnected: false, brokerRestart: true },
    createNorthbound: () => new AmqpNorthbound(rabbitMqClientOptions(broker)),
    async publishDownstream(kind, tenantId, message) {
      const address = resolveAddress(addressing, kind === 'telemetry' ? 'telemetry' : 'event', { tenant: tenantId });
      const properties: Record<string, string | number | boolean> = { ...(message.properties ?? {}) };
      if (!message.omitDeviceId) properties.device_id = message.deviceId;
      if (message.qos !== undefined) properties.qos = message.qos;
      const amqp: Message = {
        durable: kind === 'event',
        creation_time: new Date(),
        application_properties: properties,
        body: rhea.message.data_section(message.payload),
        ...(message.contentType === undefined ? {} : { content_type: message.contentType }),
        ...(message.messageId === undefined ? {} : { message_id: message.messageId }),
      };
      await publisher.send(address, amqp, { durable: addressing.terminusDurability });
    },
    async startCommandPeer(tenantId, answer: (command: ReceivedTestCommand) => TestCommandAnswer): Promise<CommandPeer> {
      const peer = new AmqpTestPeer(broker);
      peers.push(peer);
      const received: ReceivedTestCommand[] = [];
      const prefix = `command/${tenantId}/`;
      const onCommand = (context: EventContext) => {
        const message = context.message!;
        const to = typeof message.to === 'string' ? message.to : '';
        const body = message.body as { content?: Buffer } | undefined;
        const correlation = message.correlation_id ?? message.message_id;
        const command: ReceivedTestCommand = {
          deviceId: to.startsWith(prefix) ? to.slice(prefix.length) : '',
          name: String(message.subject ?? ''),
          payload: Buffer.from(body?.content ?? Buffer.alloc(0)),
          contentType: typeof message.content_type === 'string' ? message.content_type : undefined,
          correlationId: correlation === undefined ? undefined : String(correlation),
          oneWay: typeof message.reply_to !== 'string',
        };
        received.push(command);
        const reply = answer(command);
        if (command.oneWay || reply === 'no-answer' || typeof message.reply_to !== 'string') return;
        void peer
          .send(message.reply_to, {
            correlation_id: correlation,
            application_properties: { status: reply.status, device_id: command.deviceId, tenant_id: tenantId },
            body: rhea.message.data_section(reply.payload ?? Buffer.alloc(0)),
            ...(reply.contentType === undefined ? {} : { content_type: reply.contentType }),
          })
          .catch(() => {});
      };
      await peer.receive(resolveAddress(addressing, 'command', { tenant: tenantId }), onCommand, {
        durable: addressing.terminusDurability,
      });
      return { received, stop: () => peer.close() };
    },
    restartBroker: () => broker.restart(),
    async teardown() {
      await publisher.close();
      for (const peer of peers) await peer.close();
    },
  };
}
