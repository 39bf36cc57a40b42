/**
 * The sandbox as the samples and tests use it: a provisioned device sends Ditto Protocol twin updates (the SDK's
 * device client, MQTT and HTTP), the sandbox's wiring applies them to the twin. Measured: twin updates applied per
 * second from the first send until the twin's revision shows the last one, and p50/p99 of send → applied (the twin
 * is polled every 10 ms, so latencies are accurate to about that). Goal (issue): ≥ 2,000 twin updates/s on this
 * 2-core machine, so that the sandbox never limits the samples or tests.
 *
 *   BENCH_SANDBOX_MQTT_UPDATES (5000)  BENCH_SANDBOX_HTTP_UPDATES (1000)
 */
import { Cloud2Edge } from '../src/c2e/index.js';
import { Sandbox } from '../src/sandbox/index.js';

const MQTT_UPDATES = Number(process.env.BENCH_SANDBOX_MQTT_UPDATES ?? 5_000);
const HTTP_UPDATES = Number(process.env.BENCH_SANDBOX_HTTP_UPDATES ?? 1_000);

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function measure(transport: 'mqtt' | 'http', updates: number) {
  const sandbox = await Sandbox.start();
  const c2e = Cloud2Edge.fromEnv({}, sandbox.env());
  const thingId = `org.acme:bench-${transport}`;
  try {
    await c2e.provisionDevice({ tenant: 'org.acme', thingId, password: 'bench-password' });
    const device = c2e.device({ transport, tenant: 'org.acme', thingId, authId: `bench-${transport}`, password: 'bench-password' });
    await device.connect();
    const base = (await c2e.ditto.things.get(thingId, { fields: ['_revision'] }))._revision as unknown as number;
    const sentAt = new Float64Array(updates);
    const applied: number[] = [];
    let seen = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const revision = ((await c2e.ditto.things.get(thingId, { fields: ['_revision'] }))._revision as unknown as number) - base;
        const now = performance.now();
        for (; seen < Math.min(revision, updates); seen += 1) applied.push(now - sentAt[seen]!);
        if (seen >= updates) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const started = performance.now();
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < updates; i += 1) {
      sentAt[i] = performance.now();
      sends.push(device.twin.updateProperty('meter', 'value', i));
      if (sends.length >= 256) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    await poller;
    polling = false;
    const seconds = (performance.now() - started) / 1000;
    await device.close();
    applied.sort((a, b) => a - b);
    return {
      transport,
      updates,
      updatesPerSec: Math.round(updates / seconds),
      sendToAppliedMs: { p50: round(percentile(applied, 50)), p99: round(percentile(applied, 99)) },
    };
  } finally {
    await c2e.close();
    await sandbox.close();
  }
}

const mqttRun = await measure('mqtt', MQTT_UPDATES);
console.log(JSON.stringify({ bench: 'sandbox', name: 'twin-updates', ...mqttRun }));
const httpRun = await measure('http', HTTP_UPDATES);
console.log(JSON.stringify({ bench: 'sandbox', name: 'twin-updates', ...httpRun }));
console.log(
  JSON.stringify({
    bench: 'sandbox',
    name: 'summary',
    mqttUpdatesPerSec: mqttRun.updatesPerSec,
    httpUpdatesPerSec: httpRun.updatesPerSec,
    goals: { mqttUpdatesPerSec: mqttRun.updatesPerSec >= 2_000 },
  }),
);
