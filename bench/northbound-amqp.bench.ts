/**
 * AMQP northbound against raw rhea on the same RabbitMQ node (rabbitmq_amqp1_0) in one run:
 * - consume throughput: the same pre-filled telemetry queue (Hono application properties, ~200-byte JSON body)
 *   read by a plain rhea receiver and by `AmqpNorthbound.telemetry()`, alternating, a fresh queue per round.
 *   Both hold the same number of unsettled messages (prefetch 32) and accept each message after "processing"
 *   it; raw rhea does the least an application must (read device_id and the body), the SDK decodes fully;
 * - command round trip: `sendCommand` to a simulated device that answers at once (p50/p99).
 * Prints one JSON line per measurement. Needs rabbitmq-server (Debian package); prints a skip line without it.
 */
import rhea, { type Connection, type ConnectionOptions, type EventContext, type Message } from 'rhea';
import { AmqpNorthbound } from '../src/northbound/amqp.js';
import { resolveAddress, resolveAmqpOptions } from '../src/northbound/amqp-options.js';
import { AmqpTestPeer, rabbitMqClientOptions, rabbitMqNorthboundEnv, rabbitMqProblem, startRabbitMq } from '../test/support/rabbitmq.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 500);
const PREFETCH = 32;

const problem = rabbitMqProblem();
if (problem !== undefined) {
  console.log(JSON.stringify({ bench: 'northbound-amqp', skipped: problem }));
  process.exit(0);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const broker = await startRabbitMq();
const options = resolveAmqpOptions(rabbitMqClientOptions(broker));
const env = await rabbitMqNorthboundEnv(broker);
const peer = new AmqpTestPeer(broker, 'bench-publisher');

/** Fills a queue the way a protocol adapter would, pipelined within the broker's credit. */
async function fill(address: string, count: number): Promise<void> {
  const connection: Connection = await peer.open();
  const sender = connection.open_sender({ target: { address, durable: options.terminusDurability } });
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    let settled = 0;
    const pump = () => {
      while (sent < count && sender.sendable()) {
        const deviceId = `org.acme:sensor-${sent % 50}`;
        const body = JSON.stringify({
          topic: 'org.acme/sensor/things/twin/commands/modify',
          path: '/features/temperature/properties/value',
          value: 20 + (sent % 10),
          seq: sent,
        });
        const message: Message = {
          content_type: 'application/json',
          creation_time: new Date(),
          application_properties: { device_id: deviceId, qos: 0, orig_adapter: 'hono-mqtt', orig_address: 'telemetry' },
          body: rhea.message.data_section(Buffer.from(body)),
        };
        sender.send(message);
        sent += 1;
      }
    };
    sender.on('sendable', pump);
    sender.on('accepted', () => {
      settled += 1;
      if (settled === count) {
        sender.close();
        resolve();
      }
    });
    sender.on('rejected', () => reject(new Error('broker rejected a message')));
    sender.on('sender_error', () => reject(new Error(String(sender.error))));
  });
}

async function rawRhea(address: string): Promise<number> {
  const container = rhea.create_container({ id: 'bench-raw' });
  container.on('error', () => {});
  // Same socket settings as the SDK (rhea handles tcp_no_delay but does not declare it).
  const connectOptions = {
    host: broker.host,
    port: broker.port,
    username: broker.username,
    password: broker.password,
    hostname: broker.amqpHostname,
    reconnect: false,
    tcp_no_delay: true,
  };
  const connection = container.connect(connectOptions as ConnectionOptions);
  let received = 0;
  let started = 0;
  const seconds = await new Promise<number>((resolve) => {
    const receiver = connection.open_receiver({
      source: { address, durable: options.terminusDurability },
      credit_window: PREFETCH,
      autoaccept: false,
    });
    receiver.on('message', (context: EventContext) => {
      if (received === 0) started = performance.now();
      const message = context.message!;
      const deviceId = (message.application_properties as Record<string, unknown> | undefined)?.device_id;
      const body = (message.body as { content: Buffer }).content;
      if (typeof deviceId !== 'string' || body.length === 0) throw new Error('unexpected message');
      context.delivery!.accept();
      received += 1;
      if (received === MESSAGES) resolve((performance.now() - started) / 1000);
    });
  });
  await new Promise<void>((resolve) => {
    connection.once('connection_close', () => resolve());
    connection.close();
  });
  return MESSAGES / seconds;
}

async function twinledger(tenant: string): Promise<number> {
  const nb = new AmqpNorthbound(rabbitMqClientOptions(broker, { prefetch: PREFETCH }));
  await nb.connect();
  let received = 0;
  let started = 0;
  for await (const message of nb.telemetry(tenant)) {
    if (received === 0) started = performance.now();
    if (message.deviceId === '' || message.payload.length === 0) throw new Error('unexpected message');
    received += 1;
    if (received === MESSAGES) break;
  }
  const seconds = (performance.now() - started) / 1000;
  await nb.close();
  return MESSAGES / seconds;
}

const rates: Record<'raw-rhea' | 'twinledger-amqp', number[]> = { 'raw-rhea': [], 'twinledger-amqp': [] };
for (let round = 1; round <= ROUNDS; round += 1) {
  for (const name of ['raw-rhea', 'twinledger-amqp'] as const) {
    const tenant = `bench.${name}.${round}`;
    const address = resolveAddress(options, 'telemetry', { tenant });
    await fill(address, MESSAGES);
    if (process.env.BENCH_DEBUG) console.error(`phase ${name} ${round}`);
    const rate = name === 'raw-rhea' ? await rawRhea(address) : await twinledger(tenant);
    rates[name].push(rate);
    console.log(
      JSON.stringify({ bench: 'northbound-amqp', name, round, messages: MESSAGES, prefetch: PREFETCH, msgPerSec: Math.round(rate) }),
    );
  }
}
const raw = median(rates['raw-rhea']);
const sdk = median(rates['twinledger-amqp']);
console.log(
  JSON.stringify({
    bench: 'northbound-amqp',
    name: 'consume-ratio',
    rawMedianMsgPerSec: Math.round(raw),
    sdkMedianMsgPerSec: Math.round(sdk),
    sdkVsRaw: Number((sdk / raw).toFixed(3)),
    target: 0.9,
  }),
);

// Command round trip through the broker to a simulated device and back.
const tenant = 'bench.commands';
const device = await env.startCommandPeer(tenant, () => ({
  status: 200,
  payload: Buffer.from('{"ok":true}'),
  contentType: 'application/json',
}));
const nb = new AmqpNorthbound(rabbitMqClientOptions(broker));
for (let i = 0; i < 50; i += 1) await nb.sendCommand(tenant, 'org.acme:lamp-1', 'switch', { on: i % 2 === 0 });
const latencies: number[] = [];
const started = performance.now();
for (let i = 0; i < COMMANDS; i += 1) {
  const t0 = performance.now();
  await nb.sendCommand(tenant, 'org.acme:lamp-1', 'switch', { on: i % 2 === 0 });
  latencies.push(performance.now() - t0);
}
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    bench: 'northbound-amqp',
    name: 'command-roundtrip',
    commands: COMMANDS,
    perSec: Math.round(COMMANDS / elapsed),
    p50Ms: Number(percentile(latencies, 50).toFixed(3)),
    p99Ms: Number(percentile(latencies, 99).toFixed(3)),
  }),
);
await nb.close();
await device.stop();
await env.teardown();
await peer.close();
await broker.stop();
process.exit(0);
