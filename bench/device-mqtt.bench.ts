/**
 * MQTT telemetry publish throughput: DeviceClient against raw mqtt.js, same mosquitto (started here on a
 * loopback port), same topic, payload and in-flight window. Each measurement runs in its own plain-node process
 * (bench/device-mqtt.worker.mjs: one client, its own JIT state, no tsx loader), as a device app runs; raw and
 * SDK alternate in rounds. Prints one JSON line per run and a summary per QoS with the median rates, the median
 * of the per-round ratios (target: SDK within 10 %) and the client CPU per message. The SDK is measured as users
 * run it: compiled by tsc (into node_modules/.cache/twinledger-bench).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mosquittoProblem, startMosquitto } from '../test/support/mosquitto.js';
import { compileSdk } from './support/compiled-sdk.js';

const MESSAGES = Number(process.env.BENCH_MQTT_MESSAGES ?? 50_000);
const WINDOW = Number(process.env.BENCH_MQTT_WINDOW ?? 500);
const ROUNDS = Number(process.env.BENCH_MQTT_ROUNDS ?? 7);
const TARGET = 0.9;
const PAYLOAD_BYTES = Buffer.byteLength(JSON.stringify({ temperature: 21.5, humidity: 40.2, battery: 97, seq: 123456 }));
const WORKER = fileURLToPath(new URL('./device-mqtt.worker.mjs', import.meta.url));

type ClientName = 'raw-mqtt.js' | 'twinledger-device';

interface Measurement {
  rate: number;
  cpuMicrosPerMessage: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function measure(client: ClientName, qos: 0 | 1, url: string, sdkBuild: string): Measurement {
  const args = ['--expose-gc', WORKER, client, String(qos), url, String(MESSAGES), String(WINDOW), sdkBuild];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`${client} run failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Measurement;
}

async function main(): Promise<void> {
  const problem = mosquittoProblem();
  if (problem !== undefined) {
    console.log(JSON.stringify({ bench: 'device-mqtt', skipped: problem }));
    return;
  }
  const sdkBuild = compileSdk('device-mqtt');
  if (sdkBuild === undefined) process.exit(1);
  const broker = await startMosquitto({ persistence: false });
  try {
    for (const qos of [0, 1] as const) {
      const runs: Record<ClientName, Measurement[]> = { 'raw-mqtt.js': [], 'twinledger-device': [] };
      const ratios: number[] = [];
      for (let round = 1; round <= ROUNDS; round += 1) {
        // Alternate the order so neither client always runs on a warmer broker.
        const order: ClientName[] = round % 2 === 0 ? ['raw-mqtt.js', 'twinledger-device'] : ['twinledger-device', 'raw-mqtt.js'];
        for (const client of order) {
          const measurement = measure(client, qos, broker.url, sdkBuild);
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
          payloadBytes: PAYLOAD_BYTES,
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

await main();
process.exit(0);
