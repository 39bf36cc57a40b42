/**
 * Kafka northbound against raw kafkajs on the same single-node broker in one run:
 * - consume throughput: the same telemetry records (Hono headers, ~200-byte JSON payloads) read by plain kafkajs
 *   consumers (eachMessage, auto-commit) and by `KafkaNorthbound.telemetry()` (decoded messages, commits after
 *   processing), alternating, each in a new consumer group; throughput counts from the first to the last record.
 *   `raw-kafkajs` does the least an application must do with a Hono record (header bytes to strings, read the
 *   value); `raw-kafkajs-bare` only counts records, as a floor. The target compares with `raw-kafkajs`;
 * - command round trip: `sendCommand` to a simulated device that answers at once (p50/p99).
 * The SDK is measured as users run it, compiled by tsc (into node_modules/.cache/twinledger-bench), and also as
 * run from source by tsx, whose esbuild transform (keepNames wrappers around every closure) costs a few µs per
 * message. Prints one JSON line per measurement. Needs Java 17 and Maven (the broker: scripts/fetch-kafka.sh).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaNorthbound as SourceKafkaNorthbound } from '../src/northbound/kafka.js';
import { createKafkaTestEnv, kafkaAvailability, startKafka } from '../test/support/kafka.js';
import { compileSdk } from './support/compiled-sdk.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 500);

type KafkaNorthboundClass = typeof SourceKafkaNorthbound;

/** The SDK compiled with the project's build settings; `undefined` when tsc fails (the tsx build is measured only). */
async function compiledSdk(): Promise<KafkaNorthboundClass | undefined> {
  const out = compileSdk('northbound-kafka');
  if (out === undefined) return undefined;
  const module = (await import(pathToFileURL(join(out, 'northbound', 'kafka.js')).href)) as { KafkaNorthbound: KafkaNorthboundClass };
  return module.KafkaNorthbound;
}

const available = await kafkaAvailability();
if (available.problem !== undefined) {
  console.log(JSON.stringify({ bench: 'northbound-kafka', skipped: available.problem }));
  process.exit(0);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const broker = await startKafka();
const env = await createKafkaTestEnv(broker);
const tenant = 'bench.acme';
const topic = `hono.telemetry.${tenant}`;

// The records a protocol adapter would write: key = device ID, Hono headers, a Ditto-Protocol-sized JSON body.
const batch = 1_000;
for (let sent = 0; sent < MESSAGES; sent += batch) {
  const messages = Array.from({ length: Math.min(batch, MESSAGES - sent) }, (_, i) => {
    const deviceId = `org.acme:sensor-${(sent + i) % 50}`;
    return {
      key: deviceId,
      value: JSON.stringify({
        topic: 'org.acme/sensor/things/twin/commands/modify',
        path: '/features/temperature/properties/value',
        value: 20 + ((sent + i) % 10),
        seq: sent + i,
      }),
      headers: {
        'content-type': 'application/json',
        'creation-time': String(Date.now()),
        device_id: deviceId,
        qos: '0',
        orig_adapter: 'hono-mqtt',
        orig_address: 'telemetry',
      },
    };
  });
  await env.producer.send({ topic, messages });
}

async function rawKafkajs(decode: boolean): Promise<number> {
  const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'bench-raw', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let bytes = 0;
  let first = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        if (count === 0) first = performance.now();
        if (decode) {
          const headers: Record<string, string> = {};
          for (const name in message.headers) headers[name] = String(message.headers[name]);
          if (headers.device_id === undefined) throw new Error('no device_id');
        }
        bytes += message.value?.length ?? 0;
        count += 1;
        if (count === MESSAGES) resolve(performance.now() - first);
      },
    });
  });
  const elapsed = await done;
  await consumer.disconnect();
  if (bytes === 0) throw new Error('no payload read');
  return MESSAGES / (elapsed / 1000);
}

async function twinledger(KafkaNorthbound: KafkaNorthboundClass): Promise<number> {
  const nb = new KafkaNorthbound({ brokers: [broker.bootstrap], groupId: `bench-sdk-${randomUUID().slice(0, 8)}`, fromBeginning: true });
  let count = 0;
  let bytes = 0;
  let first = 0;
  let elapsed = 0;
  for await (const message of nb.telemetry(tenant)) {
    if (count === 0) first = performance.now();
    bytes += message.payload.byteLength;
    count += 1;
    if (count === MESSAGES) {
      elapsed = performance.now() - first;
      break;
    }
  }
  await nb.close();
  if (bytes === 0) throw new Error('no payload read');
  return MESSAGES / (elapsed / 1000);
}

const CompiledKafkaNorthbound = await compiledSdk();
const runs: Record<string, () => Promise<number>> = {
  'consume-raw-kafkajs-bare': () => rawKafkajs(false),
  'consume-raw-kafkajs': () => rawKafkajs(true),
  ...(CompiledKafkaNorthbound ? { 'consume-twinledger': () => twinledger(CompiledKafkaNorthbound) } : {}),
  'consume-twinledger-tsx': () => twinledger(SourceKafkaNorthbound),
};
const rates: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((name) => [name, []]));
for (let round = 1; round <= ROUNDS; round += 1) {
  for (const [name, run] of Object.entries(runs)) {
    const rate = await run();
    rates[name]!.push(rate);
    console.log(JSON.stringify({ bench: 'northbound-kafka', name, round, messages: MESSAGES, msgPerSec: Math.round(rate) }));
  }
}
const median = (values: number[] = []) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const raw = median(rates['consume-raw-kafkajs']);
const rawBare = median(rates['consume-raw-kafkajs-bare']);
for (const name of ['consume-twinledger', 'consume-twinledger-tsx'].filter((n) => rates[n] !== undefined)) {
  const sdk = median(rates[name]);
  console.log(
    JSON.stringify({
      bench: 'northbound-kafka',
      name: `${name}-ratio`,
      rawMedianMsgPerSec: Math.round(raw),
      rawBareMedianMsgPerSec: Math.round(rawBare),
      sdkMedianMsgPerSec: Math.round(sdk),
      sdkVsRaw: Number((sdk / raw).toFixed(3)),
      sdkVsRawBare: Number((sdk / rawBare).toFixed(3)),
    }),
  );
}

// Command round trip through hono.command.<tenant> → device → hono.command_response.<tenant>.
const peer = await env.startCommandPeer(tenant, () => ({
  status: 200,
  payload: Buffer.from('{"ok":true}'),
  contentType: 'application/json',
}));
const nb = new (CompiledKafkaNorthbound ?? SourceKafkaNorthbound)({ brokers: [broker.bootstrap] });
for (let i = 0; i < 20; i += 1) await nb.sendCommand(tenant, 'org.acme:lamp-1', 'warmup', { on: true });
const latencies: number[] = [];
for (let i = 0; i < COMMANDS; i += 1) {
  const t0 = performance.now();
  await nb.sendCommand(tenant, 'org.acme:lamp-1', 'switch', { on: i % 2 === 0 });
  latencies.push(performance.now() - t0);
}
latencies.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    bench: 'northbound-kafka',
    name: 'command-round-trip',
    commands: COMMANDS,
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
  }),
);
await nb.close();
await peer.stop();
await env.teardown();
process.exit(0);
