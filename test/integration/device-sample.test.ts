// The device sample as a real process against mosquitto; a test client plays Hono's MQTT adapter and Ditto.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type MqttClient, connectAsync } from 'mqtt';
import { type Mosquitto, mosquittoProblem, startMosquitto } from '../support/mosquitto.js';
import { skipUnlessAvailable } from '../support/services.js';

const problem = mosquittoProblem();

describe('device sample against mosquitto', { skip: skipUnlessAvailable(problem) }, () => {
  let broker: Mosquitto | undefined;
  let adapter: MqttClient | undefined;
  let lamp: ChildProcess | undefined;

  before(async () => {
    if (problem !== undefined) throw new Error(problem);
    broker = await startMosquitto();
  });

  after(async () => {
    if (lamp !== undefined && lamp.exitCode === null) lamp.kill('SIGKILL');
    await adapter?.endAsync(true);
    await broker?.dispose();
  });

  it('reports its state, answers a Ditto "switch" message and stops on SIGINT', async () => {
    const mosquitto = broker as Mosquitto;
    const hono = await connectAsync(mosquitto.url, { clientId: 'fake-hono-for-sample' });
    adapter = hono;
    await hono.subscribeAsync(['telemetry/#', 'command/+/+/res/#'], { qos: 1 });
    const states: boolean[] = [];
    const responses: { topic: string; body: Record<string, unknown> }[] = [];
    hono.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (topic.startsWith('telemetry')) states.push(body.value as boolean);
      else responses.push({ topic, body });
    });

    let stdout = '';
    const child = spawn(process.execPath, ['--import', 'tsx', 'samples/device/lamp.ts'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        MQTT_ADAPTER_IP: '127.0.0.1',
        MQTT_ADAPTER_PORT_MQTT: String(mosquitto.port),
        DEMO_DEVICE_PASSWORD: 'lamp-secret',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    lamp = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const deadline = Date.now() + 30_000;
    while (states.length === 0) {
      assert.ok(Date.now() < deadline, `no twin update from the lamp; stderr: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(states, [false]);

    // The lamp subscribes for commands right after its first update; send until one is answered.
    for (let attempt = 0; responses.length === 0; attempt += 1) {
      assert.ok(Date.now() < deadline, `no answer to the switch message; stdout: ${stdout} stderr: ${stderr}`);
      const message = {
        topic: 'org.twinledger.demo/lamp-1/things/live/messages/switch',
        headers: { 'correlation-id': `ditto-${attempt}`, 'content-type': 'application/json' },
        path: '/inbox/messages/switch',
        value: { on: true },
      };
      await hono.publishAsync(`command///req/req-${attempt}/switch`, JSON.stringify(message), { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const [response] = responses;
    assert.match(response?.topic ?? '', /^command\/\/\/res\/req-\d+\/200\/\?content-type=application%2Fvnd\.eclipse\.ditto%2Bjson$/);
    assert.equal(response?.body.status, 200);
    assert.deepEqual(response?.body.value, { on: true });
    assert.match(String((response?.body.headers as Record<string, unknown>)['correlation-id']), /^ditto-\d+$/);
    while (!states.includes(true)) {
      assert.ok(Date.now() < deadline, 'the lamp did not report "on"');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /lamp-1@org\.twinledger\.demo is online over mqtt/);
    assert.match(stdout, /lamp is on/);
  });
});
