// One measured client for bench/device-mqtt.bench.ts, run by plain node (no tsx loader), as a device app
// runs: `node device-mqtt.worker.mjs <raw-mqtt.js|twinledger-device> <qos> <broker url> <messages> <window> <sdk build>`.
// Warms up, measures once, prints {"rate", "cpuMicrosPerMessage"} as one JSON line.
import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { connectAsync } from 'mqtt';

const [client, qosText, url, messagesText, windowText, sdkBuild] = process.argv.slice(2);
const qos = Number(qosText);
const messages = Number(messagesText);
const window = Number(windowText);
const payload = Buffer.from(JSON.stringify({ temperature: 21.5, humidity: 40.2, battery: 97, seq: 123456 }));

/**
 * Publishes `count` messages keeping at most `window` unresolved, then waits for one QoS 1 message through
 * the same connection (so QoS 0 counts what reached the broker, not what sits in a socket buffer).
 */
async function pump(count, publish, barrier) {
  globalThis.gc?.();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve, reject) => {
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

let publish;
let barrier;
let close;
if (client === 'raw-mqtt.js') {
  const mqtt = await connectAsync(url, { clientId: `bench-raw-${process.pid}`, protocolVersion: 4, reconnectPeriod: 0 });
  publish = () => mqtt.publishAsync('telemetry', payload, { qos });
  barrier = () => mqtt.publishAsync('telemetry', payload, { qos: 1 });
  close = () => mqtt.endAsync();
} else {
  const { createDeviceClient } = await import(pathToFileURL(join(sdkBuild, 'device', 'index.js')).href);
  const device = createDeviceClient({ transport: 'mqtt', endpoint: url, tenant: 'org.acme', authId: 'bench-1', password: 'bench-secret' });
  await device.connect();
  publish = () => device.telemetry(payload, { qos });
  barrier = () => device.telemetry(payload, { qos: 1 });
  close = () => device.close({ timeoutMs: 2000 });
}
await pump(Math.min(messages, 10_000), publish, barrier);
console.log(JSON.stringify(await pump(messages, publish, barrier)));
await close();
process.exit(0);
