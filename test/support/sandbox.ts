// What the sandbox's contract tests share: a sandbox with a recording proxy in front of one of its services, a
// Cloud2Edge facade that goes through the proxy (so every exchange can be checked against the official spec); and the
// shared typed rejection check.
import mqtt from 'mqtt';
import { Cloud2Edge } from '../../src/c2e/index.js';
import { Sandbox } from '../../src/sandbox/index.js';
import { type RecordingProxy, startRecordingProxy } from './recording-proxy.js';

export interface ProxiedSandbox {
  sandbox: Sandbox;
  proxy: RecordingProxy;
  /** Reaches `variable`'s service through the proxy, everything else directly. */
  c2e: Cloud2Edge;
  close(): Promise<void>;
}

/** Starts a sandbox and a recording proxy in front of the service at `variable` (e.g. `DITTO_API_BASE_URL`). */
export async function proxiedSandbox(variable: 'REGISTRY_BASE_URL' | 'DITTO_API_BASE_URL'): Promise<ProxiedSandbox> {
  const sandbox = await Sandbox.start();
  const proxy = await startRecordingProxy(sandbox.env()[variable]!);
  const c2e = Cloud2Edge.fromEnv({}, { ...sandbox.env(), [variable]: proxy.url });
  return {
    sandbox,
    proxy,
    c2e,
    async close() {
      await c2e.close();
      await proxy.close();
      await sandbox.close();
    },
  };
}

export { rejectsWith } from './rejects.js';

/**
 * A raw MQTT 3.1.1 connection to the sandbox's adapter (no reconnects), for what the SDK's device client does not
 * do on purpose; rejects with mqtt.js's error, whose `code` is the CONNACK return code of a refusal.
 */
export function connectMqtt(url: string, options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  return new Promise<mqtt.MqttClient>((resolve, reject) => {
    const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3_000, ...options });
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

/** An `assert.rejects` check: refused at CONNECT with this return code. */
export const refusedWith = (code: number) => (error: unknown) => (error as { code?: number }).code === code;
