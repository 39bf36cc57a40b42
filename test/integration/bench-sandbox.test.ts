// Keeps the sandbox benchmark runnable: a short run must print one line per transport with positive figures and a
// summary with the goal. No speed is asserted here: the figures belong to `npm run bench`.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runBenchScript } from '../support/bench.js';

const BENCH = fileURLToPath(new URL('../../bench/sandbox.bench.ts', import.meta.url));

interface BenchLine {
  name: string;
  transport?: string;
  updates?: number;
  updatesPerSec?: number;
  sendToAppliedMs?: { p50: number; p99: number };
  goals?: Record<string, boolean>;
}

describe('bench/sandbox.bench.ts', () => {
  it('measures twin updates through the sandbox over MQTT and HTTP, and summarises against the goal', { timeout: 120_000 }, async () => {
    const { status, stdout, stderr } = await runBenchScript(BENCH, { BENCH_SANDBOX_MQTT_UPDATES: '200', BENCH_SANDBOX_HTTP_UPDATES: '50' });
    assert.equal(status, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as BenchLine);
    assert.deepEqual(
      lines.map((line) => line.transport ?? line.name),
      ['mqtt', 'http', 'summary'],
    );
    for (const line of lines.slice(0, 2)) {
      assert.ok((line.updatesPerSec ?? 0) > 0, JSON.stringify(line));
      assert.ok((line.sendToAppliedMs?.p99 ?? -1) >= (line.sendToAppliedMs?.p50 ?? 0), JSON.stringify(line));
    }
    assert.deepEqual(Object.keys(lines[2]?.goals ?? {}), ['mqttUpdatesPerSec']);
  });
});
