/**
 * MQTT telemetry publish throughput: DeviceClient against raw mqtt.js, same mosquitto (started here on a
 * loopback port), same topic, payload and in-flight window. Each measurement runs in its own process (as a
 * device app would: one client, its own JIT state), raw and SDK alternating in rounds. Prints one JSON line per
 * run and a summary per QoS with the median rates, the median of the per-round ratios (target: SDK within
 * 10 %) and the client CPU per message. The SDK is measured as users run it: compiled by tsc (into
 * node_modules/.cache/twinledger-bench), not transformed on the fly by tsx.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type MqttClient, connectAsync } from 'mqtt';
import type { DeviceClient, createDeviceClient as CreateDeviceClient } from '../src/device/index.js';
import { mosquittoProblem, startMosquitto } from '../test/support/mosquitto.js';

const MESSAGES = Number(process.env.BENCH_MQTT_MESSAGES ?? 50_000);
const WINDOW = Number(process.env.BENCH_MQTT_WINDOW ?? 500);
const ROUNDS = Number(process.env.BENCH_MQTT_ROUNDS ?? 7);
const TARGET = 0.9;
const payload = Buffer.from(JSON.stringify({ temperature: 21.5, humidity: 40.2, battery: 97, seq: 123456 }));

type ClientName = 'raw-mqtt.js' | 'twinledger-device';

interface Measurement {
  rate: number;
  cpuMicrosPerMessage: number;
}

/**
 * Publishes `count` messages keeping at most `window` unresolved, then waits for one QoS 1 message through
 * the same connection (so QoS 0 counts what reached the broker, not what sits in a socket buffer).
 */
async function pump(count: number, window: number, publish: () => Promise<unknown>, barrier: () => Promise<unknown>): Promise<Measurement> {
  (globalThis as { gc?: () => void }).gc?.();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    let done = 0;
    let inFlight = 0;
    const fill = () => {
      while (inFlight < window && next < count) {
        inFlight += 1;
        next += 1;
        publish().then(() => {
          inFlight -= 1;
          done += 1;
          if (done === count) resolve();
          else fill();
        }, reject);
      }
    };
    fill();
  });
  await barrier();
  const rate = count / ((performance.now() - started) / 1000);
  const used = process.cpuUsage(cpu);
  return { rate, cpuMicrosPerMessage: (used.user + used.system) / count };
}

/** Child process: one client, warm-up, one measured run; prints the measurement as JSON. */
async function worker(client: ClientName, qos: 0 | 1, url: string): Promise<void> {
  let raw: MqttClient | undefined;
  let device: DeviceClient | undefined;
  let publish: () => Promise<unknown>;
  let barrier: () => Promise<unknown>;
  if (client === 'raw-mqtt.js') {
    const mqtt = await connectAsync(url, { clientId: `bench-raw-${process.pid}`, protocolVersion: 4, reconnectPeriod: 0 });
    raw = mqtt;
    publish = () => mqtt.publishAsync('telemetry', payload, { qos });
    barrier = () => mqtt.publishAsync('telemetry', payload, { qos: 1 });
  } else {
    const compiled = process.env.TWINLEDGER_BENCH_BUILD;
    const module = (await import(
      compiled ? pathToFileURL(join(compiled, 'device', 'index.js')).href : '../src/device/index.js'
    )) as { createDeviceClient: typeof CreateDeviceClient };
    const sdk = module.createDeviceClient({ transport: 'mqtt', endpoint: url, tenant: 'org.acme', authId: 'bench-1', password: 'bench-secret' });
    device = sdk;
    await sdk.connect();
    publish = () => sdk.telemetry(payload, { qos });
    barrier = () => sdk.telemetry(payload, { qos: 1 });
  }
  await pump(Math.min(MESSAGES, 10_000), WINDOW, publish, barrier);
  const measurement = await pump(MESSAGES, WINDOW, publish, barrier);
  console.log(JSON.stringify(measurement));
  await device?.close({ timeoutMs: 2000 });
  await raw?.endAsync();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Compiles the SDK once with the project's build settings; undefined (measure the tsx build) when tsc fails. */
function compileSdk(): string | undefined {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const out = join(repo, 'node_modules', '.cache', 'twinledger-bench');
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = ['--outDir', out, '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'];
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', ...flags], { cwd: repo, encoding: 'utf8' });
  if (result.status === 0) return out;
  console.log(JSON.stringify({ bench: 'device-mqtt', note: 'tsc build failed; measuring the tsx build', detail: result.stdout.slice(0, 300) }));
  return undefined;
}

let sdkBuild: string | undefined;

function measure(client: ClientName, qos: 0 | 1, url: string): Measurement {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', fileURLToPath(import.meta.url), 'worker', client, String(qos), url], {
    encoding: 'utf8',
    timeout: 300_000,
    env: sdkBuild === undefined ? process.env : { ...process.env, TWINLEDGER_BENCH_BUILD: sdkBuild },
  });
  if (result.status !== 0) throw new Error(`${client} run failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Measurement;
}

async function main(): Promise<void> {
  const problem = mosquittoProblem();
  if (problem !== undefined) {
    console.log(JSON.stringify({ bench: 'device-mqtt', skipped: problem }));
    return;
  }
  sdkBuild = compileSdk();
  const broker = await startMosquitto({ persistence: false });
  try {
    for (const qos of [0, 1] as const) {
      const runs: Record<ClientName, Measurement[]> = { 'raw-mqtt.js': [], 'twinledger-device': [] };
      const ratios: number[] = [];
      for (let round = 1; round <= ROUNDS; round += 1) {
        // Alternate the order so neither client always runs on a warmer broker.
        const order: ClientName[] = round % 2 === 0 ? ['raw-mqtt.js', 'twinledger-device'] : ['twinledger-device', 'raw-mqtt.js'];
        for (const client of order) {
          const measurement = measure(client, qos, broker.url);
          runs[client].push(measurement);
          console.log(
            JSON.stringify({
              bench: 'device-mqtt',
              qos,
              round,
              client,
              messages: MESSAGES,
              msgPerSec: Math.round(measurement.rate),
              cpuMicrosPerMessage: Number(measurement.cpuMicrosPerMessage.toFixed(2)),
            }),
          );
        }
        // The two runs of a round are back to back: their ratio is less exposed to drift than the rates.
        ratios.push((runs['twinledger-device'].at(-1)?.rate ?? 0) / (runs['raw-mqtt.js'].at(-1)?.rate ?? 1));
      }
      const rate = (client: ClientName) => median(runs[client].map((m) => m.rate));
      const cpu = (client: ClientName) => median(runs[client].map((m) => m.cpuMicrosPerMessage));
      const ratio = median(ratios);
      console.log(
        JSON.stringify({
          bench: 'device-mqtt',
          name: 'summary',
          qos,
          messages: MESSAGES,
          window: WINDOW,
          payloadBytes: payload.length,
          rawMsgPerSec: Math.round(rate('raw-mqtt.js')),
          sdkMsgPerSec: Math.round(rate('twinledger-device')),
          sdkVsRaw: Number(ratio.toFixed(3)),
          roundRatios: ratios.map((r) => Number(r.toFixed(3))),
          rawCpuMicrosPerMessage: Number(cpu('raw-mqtt.js').toFixed(2)),
          sdkCpuMicrosPerMessage: Number(cpu('twinledger-device').toFixed(2)),
          target: TARGET,
          withinTarget: ratio >= TARGET,
        }),
      );
    }
  } finally {
    await broker.dispose();
  }
}

const [mode, client, qos, url] = process.argv.slice(2);
if (mode === 'worker') await worker(client as ClientName, Number(qos) as 0 | 1, url as string);
else await main();
process.exit(0);
