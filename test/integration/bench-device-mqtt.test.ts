// Keeps the device publish benchmark runnable: a short run (few messages, one round) against a real mosquitto
// must produce the per-run lines and a summary per QoS with positive rates. No speed is asserted here: timing
// belongs to `npm run bench`, whose summaries carry the SDK/raw ratio and the target.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { mosquittoProblem } from '../support/mosquitto.js';
import { runBenchScript } from '../support/bench.js';
import { skipUnlessAvailable } from '../support/services.js';

const BENCH = fileURLToPath(new URL('../../bench/device-mqtt.bench.ts', import.meta.url));

interface BenchLine {
  bench: string;
  name?: string;
  qos?: number;
  client?: string;
  msgPerSec?: number;
  rawMsgPerSec?: number;
  sdkMsgPerSec?: number;
  sdkVsRaw?: number;
  withinTarget?: boolean;
}

describe('bench/device-mqtt.bench.ts', { skip: skipUnlessAvailable(mosquittoProblem()) }, () => {
  it('runs both clients at QoS 0 and 1 and summarises each QoS', { timeout: 240_000 }, async () => {
    const { status, stdout, stderr } = await runBenchScript(BENCH, {
      BENCH_MQTT_MESSAGES: '3000',
      BENCH_MQTT_ROUNDS: '1',
      BENCH_MQTT_WINDOW: '100',
    });
    assert.equal(status, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as BenchLine);
    assert.ok(
      lines.every((line) => line.bench === 'device-mqtt'),
      stdout,
    );
    for (const qos of [0, 1]) {
      const runs = lines.filter((line) => line.qos === qos && line.client !== undefined);
      assert.deepEqual(runs.map((line) => line.client).sort(), ['raw-mqtt.js', 'twinledger-device']);
      assert.ok(
        runs.every((line) => (line.msgPerSec ?? 0) > 0),
        stdout,
      );
      const summary = lines.find((line) => line.name === 'summary' && line.qos === qos);
      assert.ok(summary, `no summary for QoS ${qos}:\n${stdout}`);
      assert.ok((summary.rawMsgPerSec ?? 0) > 0 && (summary.sdkMsgPerSec ?? 0) > 0);
      assert.ok((summary.sdkVsRaw ?? 0) > 0);
      assert.equal(typeof summary.withinTarget, 'boolean');
    }
  });
});
