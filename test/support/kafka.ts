/**
 * A real single-node Kafka (KRaft, broker + controller in one JVM) for integration tests and benchmarks.
 *
 * The broker is the `org.apache.kafka:kafka_2.13` jar set from Maven Central, resolved by
 * `scripts/fetch-kafka.sh` into a cache directory (reused by later runs) and run with the machine's Java
 * on free 127.0.0.1 ports in a temp directory. `restart()` keeps the log directory and the ports.
 *
 * Optionally (`secure: true`) a second listener speaks SASL_SSL like Cloud2Edge's Kafka: users
 * `ditto-c2e`/`verysecret` (PLAIN) and `hono`/`hono-secret` (SCRAM-SHA-512), with a throw-away CA and a
 * server certificate for a cluster-internal DNS name (clients set `tls.serverName`).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Admin, type Consumer, type IHeaders, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { KafkaNorthbound, type KafkaNorthboundClientOptions } from '../../src/northbound/kafka.js';
import { subscribeCreatingTopic } from '../../src/northbound/kafka-topics.js';
import { createTestPki, type TestPki } from './certs.js';
import type { CommandPeer, DownstreamTestMessage, NorthboundTestEnv, ReceivedTestCommand } from './northbound-env.js';
import { findExecutable, freePort, waitForPort } from './services.js';

export const KAFKA_VERSION = process.env.KAFKA_VERSION ?? '3.9.1';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fetchScript = join(repoRoot, 'scripts', 'fetch-kafka.sh');

/** Cloud2Edge's Kafka users (chart values): PLAIN for Ditto, SCRAM-SHA-512 for Hono. */
export const C2E_PLAIN_USER = { username: 'ditto-c2e', password: 'verysecret' } as const;
export const C2E_SCRAM_USER = { username: 'hono', password: 'hono-secret' } as const;

function cacheDir(): string {
  const base = process.env.TWINLEDGER_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'twinledger');
  return join(base, `kafka-${KAFKA_VERSION}`);
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, KAFKA_VERSION } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        done({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export type KafkaAvailability =
  { libs: string; java: string; problem?: undefined } | { problem: string; libs?: undefined; java?: undefined };

// eslint-disable-next-line no-control-regex
const ANSI_COLOURS = /\u001b\[[0-9;]*m/g;

let availability: Promise<KafkaAvailability> | undefined;

/**
 * Finds Java and the broker jars, fetching them with `scripts/fetch-kafka.sh` when they are not cached yet
 * (bounded: 5 minutes). Resolves with `problem` set when the broker cannot be run here.
 */
export function kafkaAvailability(): Promise<KafkaAvailability> {
  availability ??= (async (): Promise<KafkaAvailability> => {
    const java = findExecutable('java');
    if (java === undefined) return { problem: 'Kafka tests need Java 17+ (java is not on PATH)' };
    const libs = join(cacheDir(), 'libs');
    if (existsSync(join(cacheDir(), '.complete'))) return { libs, java };
    const fetched = await run('bash', [fetchScript], 300_000);
    if (fetched.code !== 0 || !existsSync(join(cacheDir(), '.complete'))) {
      const lines = fetched.stderr
        .replace(ANSI_COLOURS, '')
        .split('\n')
        .map((line) => line.trim());
      const detail = (
        [lines.find((line) => line.startsWith('fetch-kafka:')), lines.find((line) => line.startsWith('[ERROR]'))]
          .filter((line) => line !== undefined)
          .join(' ') || `exit code ${fetched.code}`
      ).slice(0, 600);
      return { problem: `Kafka ${KAFKA_VERSION} is not available: scripts/fetch-kafka.sh failed (${detail})` };
    }
    return { libs, java };
  })();
  return availability;
}

export interface KafkaBrokerOptions {
  /** Add a SASL_SSL listener with Cloud2Edge's users (PLAIN and SCRAM-SHA-512) and a throw-away PKI. */
  secure?: boolean;
  /** Bound for start-up and shutdown waits. Default 60 000 ms. */
  timeoutMs?: number;
}

export interface KafkaBroker {
  /** `127.0.0.1:<port>` of the PLAINTEXT listener. */
  readonly bootstrap: string;
  /** `127.0.0.1:<port>` of the SASL_SSL listener (`secure: true` only). */
  readonly secureBootstrap: string | undefined;
  /** The PKI whose CA signed the SASL_SSL listener's certificate (`secure: true` only). */
  readonly pki: TestPki | undefined;
  readonly dir: string;
  /** Stops the JVM (SIGTERM, SIGKILL after the timeout); the log directory stays. */
  stop(): Promise<void>;
  /** Starts it again on the same ports with the same data. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

// A broker must not outlive the test process, also when the runner kills it (timeouts, Ctrl-C).
const liveProcesses = new Set<ChildProcess>();
const killBrokers = () => {
  for (const child of liveProcesses) child.kill('SIGKILL');
};
process.once('exit', killBrokers);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killBrokers();
    process.kill(process.pid, signal);
  });
}

class LocalKafkaBroker implements KafkaBroker {
  readonly bootstrap: string;
  readonly secureBootstrap: string | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly java: string,
    private readonly libs: string,
    readonly dir: string,
    private readonly port: number,
    securePort: number | undefined,
    readonly pki: TestPki | undefined,
    private readonly timeoutMs: number,
  ) {
    this.bootstrap = `127.0.0.1:${port}`;
    this.secureBootstrap = securePort === undefined ? undefined : `127.0.0.1:${securePort}`;
  }

  async start(): Promise<void> {
    if (this.child !== undefined) return;
    const log = openSync(join(this.dir, 'broker.log'), 'a');
    const child = spawn(
      this.java,
      [
        '-Xms128m',
        '-Xmx512m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        '-cp',
        join(this.libs, '*'),
        'kafka.Kafka',
        join(this.dir, 'server.properties'),
      ],
      { cwd: this.dir, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    this.child = child;
    liveProcesses.add(child);
    let exitCode: number | null = null;
    this.exited = new Promise((done) => {
      child.once('exit', (code) => {
        exitCode = code;
        liveProcesses.delete(child);
        if (this.child === child) this.child = undefined;
        done();
      });
    });
    const deadline = Date.now() + this.timeoutMs;
    try {
      await Promise.race([
        waitForPort(this.port, this.timeoutMs),
        this.exited.then(() => {
          throw new Error(`the Kafka broker exited with code ${exitCode} during start-up; see ${join(this.dir, 'broker.log')}`);
        }),
      ]);
      await waitForMetadata(this.bootstrap, deadline);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((done) => {
        timer = setTimeout(() => done(false), this.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!killed) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    if (this.pki !== undefined) rmSync(this.pki.dir, { recursive: true, force: true });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** The broker accepts TCP before its metadata is ready; wait until a client can list topics. */
async function waitForMetadata(bootstrap: string, deadline: number): Promise<void> {
  const kafka = new Kafka({
    brokers: [bootstrap],
    clientId: 'twinledger-test-probe',
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 2000,
  });
  let lastError: unknown;
  while (Date.now() < deadline) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      await admin.listTopics();
      return;
    } catch (error) {
      lastError = error;
      await delay(200);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
  throw new Error(`the Kafka broker on ${bootstrap} did not answer metadata requests in time: ${String(lastError)}`);
}

/** Starts a fresh single-node KRaft broker. Throws when Kafka is not available (see `kafkaAvailability`). */
export async function startKafka(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const available = await kafkaAvailability();
  if (available.problem !== undefined) throw new Error(available.problem);
  const { java, libs } = available;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), 'twinledger-kafka-'));
  const port = await freePort();
  const controllerPort = await freePort();
  const securePort = options.secure ? await freePort() : undefined;
  const pki = options.secure ? createTestPki('c2e-kafka.c2e.svc.cluster.local') : undefined;

  const listeners = [`PLAINTEXT://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${controllerPort}`];
  const advertised = [`PLAINTEXT://127.0.0.1:${port}`];
  const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
  const lines = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Short sessions for the tests' own consumers: after a broker restart a group waits for members it lost.
    'group.min.session.timeout.ms=1000',
    'auto.create.topics.enable=true',
    'num.network.threads=2',
    'num.io.threads=2',
    'log.flush.interval.messages=1000000',
  ];
  if (securePort !== undefined && pki !== undefined) {
    listeners.push(`SASL_SSL://127.0.0.1:${securePort}`);
    advertised.push(`SASL_SSL://127.0.0.1:${securePort}`);
    protocols.push('SASL_SSL:SASL_SSL');
    const keystore = join(dir, 'server-keystore.pem');
    writeFileSync(keystore, `${pki.serverKey.trim()}\n${pki.serverCert.trim()}\n`);
    lines.push(
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512',
      'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512',
      `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${C2E_PLAIN_USER.username}="${C2E_PLAIN_USER.password}";`,
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${keystore}`,
      'ssl.client.auth=none',
    );
  }
  lines.push(
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    `listener.security.protocol.map=${protocols.join(',')}`,
  );
  const properties = join(dir, 'server.properties');
  writeFileSync(properties, `${lines.join('\n')}\n`);

  // Like Kafka's own Uuid.randomUuid(): an ID that starts with "-" would be read as an option by kafka-storage.
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  const formatArgs = ['-cp', join(libs, '*'), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties];
  if (options.secure) formatArgs.push('--add-scram', `SCRAM-SHA-512=[name=${C2E_SCRAM_USER.username},password=${C2E_SCRAM_USER.password}]`);
  const formatted = await run(java, formatArgs, timeoutMs);
  if (formatted.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`formatting the Kafka log directory failed: ${formatted.stderr.trim() || formatted.stdout.trim()}`);
  }
  const broker = new LocalKafkaBroker(java, libs, dir, port, securePort, pki, timeoutMs);
  try {
    await broker.start();
  } catch (error) {
    await broker.destroy();
    throw error;
  }
  return broker;
}

// ---------------------------------------------------------------------------------------------------------
// The Kafka test environment of the shared northbound suite.
// ---------------------------------------------------------------------------------------------------------

export interface KafkaTestEnvOptions {
  /** Destroy the broker in `teardown()`. Default true; false when the test file shares the broker. */
  ownsBroker?: boolean;
  /** Options every `createNorthbound()` client gets on top of the env's defaults. */
  clientOptions?: Partial<KafkaNorthboundClientOptions>;
}

export interface KafkaTestEnv extends NorthboundTestEnv {
  readonly broker: KafkaBroker;
  /** The group base every `createNorthbound()` client shares, so a second client resumes where the first stopped. */
  readonly groupId: string;
  /** A plain kafkajs client on the broker, for records the SDK would never write (bad headers). */
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly admin: Admin;
  /** Tell the simulated Command Router that a device (or a test reading the topic) handles this tenant's commands. */
  devicePresent(tenantId: string): void;
  /** The options `createNorthbound()` uses, with `overrides` applied. */
  clientOptions(overrides?: Partial<KafkaNorthboundClientOptions>): KafkaNorthboundClientOptions;
  createKafkaNorthbound(overrides?: Partial<KafkaNorthboundClientOptions>): KafkaNorthbound;
}

const HONO_DELIVERY_FAILURE = 'application/vnd.eclipse-hono-delivery-failure-notification+json';

function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

/** Hono's header encoding, written out independently of the SDK's codec: strings as is, the rest as JSON. */
function honoHeaders(values: Record<string, string | number | boolean | undefined>): Record<string, Buffer> {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) headers[name] = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  }
  return headers;
}

/**
 * A kafkajs consumer for the test's own roles (device, router, readers) in a group of its own. `stop()` also
 * keeps kafkajs from restarting it when it crashes while being stopped (it would reconnect forever).
 */
export function testConsumer(kafka: Kafka, role: string, maxWaitTimeInMs = 500): { consumer: Consumer; stop(): Promise<void> } {
  let stopped = false;
  const consumer = kafka.consumer({
    groupId: `twinledger-test-${role}-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs,
    // A rejoin after a broker restart waits until the lost member's session ends: keep that short.
    sessionTimeout: 5_000,
    rebalanceTimeout: 5_000,
    heartbeatInterval: 500,
    retry: { restartOnFailure: async () => !stopped },
  });
  return {
    consumer,
    async stop() {
      stopped = true;
      await consumer.disconnect().catch(() => undefined);
    },
  };
}

async function waitForJoin(consumer: Consumer, timeoutMs: number, start: () => Promise<void>): Promise<void> {
  const joined = new Promise<void>((done) => {
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
      remove();
      done();
    });
  });
  await start();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    joined,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`a test consumer did not join its group within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Plays Hono's Command Router for tenants that have no device: a request/response command to such a tenant
 * gets the delivery-failure notification Hono sends for an unconnected device (status 503). It watches for
 * `hono.command.*` topics (they appear when an application sends the first command) and reads each new one.
 */
class CommandRouterSimulator {
  private readonly tenantsWithDevices = new Set<string>();
  private readonly consumers = new Map<string, ReturnType<typeof testConsumer>>();
  private readonly timer: NodeJS.Timeout;
  private polling = false;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly producer: Producer,
  ) {
    this.timer = setInterval(() => void this.poll(), 300);
    this.timer.unref();
  }

  /** Commands for this tenant are the command peer's business from now on. */
  deviceAppeared(tenantId: string): void {
    this.tenantsWithDevices.add(tenantId);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      for (const topic of await this.admin.listTopics()) {
        const tenant = /^hono\.command\.(.+)$/.exec(topic)?.[1];
        if (tenant === undefined || this.consumers.has(topic) || this.stopped) continue;
        const router = testConsumer(this.kafka, 'router');
        this.consumers.set(topic, router);
        // Not awaited: a group join right after a broker restart can take long, and polling must go on.
        this.route(router, topic, tenant).catch(async () => {
          await router.stop();
          if (this.consumers.get(topic) === router) this.consumers.delete(topic); // the next poll tries again
        });
      }
    } catch {
      // The broker may be restarting; the next poll tries again.
    } finally {
      this.polling = false;
    }
  }

  private async route(router: ReturnType<typeof testConsumer>, topic: string, tenant: string): Promise<void> {
    const { consumer } = router;
    await consumer.connect();
    if (!this.stopped) await subscribeCreatingTopic(consumer, topic, true);
    if (!this.stopped) {
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (this.tenantsWithDevices.has(tenant) || headerString(message.headers, 'response-required') !== 'true') return;
          const deviceId = headerString(message.headers, 'device_id') ?? '';
          await this.producer.send({
            topic: `hono.command_response.${tenant}`,
            messages: [
              {
                key: deviceId,
                value: JSON.stringify({ error: `device ${deviceId} is not connected` }),
                headers: honoHeaders({
                  'correlation-id': headerString(message.headers, 'correlation-id'),
                  device_id: deviceId,
                  status: 503,
                  'content-type': HONO_DELIVERY_FAILURE,
                }),
              },
            ],
          });
        },
      });
    }
    // Stopped while starting: disconnect again, a connect still in flight during stop() reopened sockets.
    if (this.stopped) await router.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    // A listTopics call during a broker restart may hang until its request timeout: wait a little only.
    for (let waited = 0; this.polling && waited < 2_000; waited += 50) await delay(50);
    await Promise.all([...this.consumers.values()].map((router) => router.stop()));
  }
}

/** The `NorthboundTestEnv` for Kafka on a running broker (see `startKafka`). */
export async function createKafkaTestEnv(broker: KafkaBroker, options: KafkaTestEnvOptions = {}): Promise<KafkaTestEnv> {
  const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'twinledger-test-hono', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  const admin = kafka.admin();
  await producer.connect();
  await admin.connect();
  const router = new CommandRouterSimulator(kafka, admin, producer);
  const groupId = `twinledger-test-${randomBytes(4).toString('hex')}`;
  const peers = new Set<ReturnType<typeof testConsumer>>();

  const clientOptions = (overrides: Partial<KafkaNorthboundClientOptions> = {}): KafkaNorthboundClientOptions => ({
    brokers: [broker.bootstrap],
    groupId,
    // The suite publishes before it consumes: a new group must start at the beginning.
    fromBeginning: true,
    commitIntervalMs: 200,
    // Faster recovery after the broker restarts (the group waits for lost members' sessions to end).
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    ...options.clientOptions,
    ...overrides,
  });

  return {
    name: 'kafka',
    broker,
    groupId,
    kafka,
    producer,
    admin,
    // Kafka assigns whole partitions to the members of a group; there is no per-message competition.
    capabilities: { competingConsumers: false, deviceNotConnected: true, brokerRestart: true },
    clientOptions,
    devicePresent: (tenantId) => router.deviceAppeared(tenantId),
    createKafkaNorthbound: (overrides) => new KafkaNorthbound(clientOptions(overrides)),
    createNorthbound: () => new KafkaNorthbound(clientOptions()),

    async publishDownstream(kind, tenantId, message: DownstreamTestMessage) {
      await producer.send({
        topic: `hono.${kind}.${tenantId}`,
        acks: -1,
        messages: [
          {
            key: message.omitDeviceId ? null : message.deviceId,
            value: message.payload,
            headers: honoHeaders({
              'content-type': message.contentType,
              'creation-time': Date.now(),
              device_id: message.omitDeviceId ? undefined : message.deviceId,
              qos: message.qos,
              ...message.properties,
            }),
          },
        ],
      });
    },

    async startCommandPeer(tenantId, answer): Promise<CommandPeer> {
      router.deviceAppeared(tenantId);
      const received: ReceivedTestCommand[] = [];
      const peer = testConsumer(kafka, 'device');
      const { consumer } = peer;
      peers.add(peer);
      await consumer.connect();
      await subscribeCreatingTopic(consumer, `hono.command.${tenantId}`, true);
      await waitForJoin(consumer, 30_000, () =>
        consumer.run({
          eachMessage: async ({ message }) => {
            const headers = message.headers;
            const command: ReceivedTestCommand = {
              deviceId: headerString(headers, 'device_id') ?? message.key?.toString() ?? '',
              name: headerString(headers, 'subject') ?? '',
              payload: message.value ?? Buffer.alloc(0),
              contentType: headerString(headers, 'content-type'),
              correlationId: headerString(headers, 'correlation-id'),
              oneWay: headerString(headers, 'response-required') !== 'true',
            };
            received.push(command);
            const reply = answer(command);
            if (reply === 'no-answer' || command.oneWay) return;
            await producer.send({
              topic: `hono.command_response.${tenantId}`,
              messages: [
                {
                  key: command.deviceId,
                  value: reply.payload ?? Buffer.alloc(0),
                  headers: honoHeaders({
                    'correlation-id': command.correlationId,
                    device_id: command.deviceId,
                    status: reply.status,
                    'content-type': reply.contentType,
                  }),
                },
              ],
            });
          },
        }),
      );
      return {
        received,
        async stop() {
          peers.delete(peer);
          await peer.stop();
        },
      };
    },

    restartBroker: () => broker.restart(),

    async teardown() {
      await router.stop();
      await Promise.all([...peers].map((peer) => peer.stop()));
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      if (options.ownsBroker ?? true) await broker.destroy();
    },
  };
}
