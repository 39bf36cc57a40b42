// Client-certificate logins at the sandbox's MQTT adapter, as Hono's: on the TLS port, a device whose certificate a
// tenant's trusted CA issued logs in as the device whose x509-cert credential holds the certificate's subject DN
// (RFC 2253), without user name or password; a certificate no tenant trusts, or one without a credential, is
// refused; passwords still work on the TLS port. Through the SDK's MQTT device client and AmqpNorthbound.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type mqtt from 'mqtt';
import { Cloud2Edge } from '../../src/c2e/index.js';
import type { DownstreamMessage, Northbound } from '../../src/northbound/index.js';
import { DEFAULT_NORTHBOUND_USER, Sandbox } from '../../src/sandbox/index.js';
import { type TestPki, createTestPki } from '../support/certs.js';
import { connectMqtt, refusedWith } from '../support/sandbox.js';

const TENANT = 'org.acme';
const LAMP = `${TENANT}:lamp-1`;
const der = (pem: string) => new X509Certificate(pem).raw.toString('base64');

describe('sandbox: client certificates at the MQTT adapter', () => {
  let pki: TestPki;
  let stranger: TestPki;
  let sandbox: Sandbox;
  let c2e: Cloud2Edge;
  let app: Northbound;
  const received: DownstreamMessage[] = [];
  const consuming = new AbortController();
  let consumer: Promise<void>;
  let mqttsUrl: string;

  before(async () => {
    pki = createTestPki('hono-adapter-mqtt');
    stranger = createTestPki('hono-adapter-mqtt');
    sandbox = await Sandbox.start({ tls: { cert: pki.serverCert, key: pki.serverKey } });
    const env = sandbox.env();
    assert.ok(env.MQTT_ADAPTER_PORT_MQTTS, 'env() names the TLS port');
    mqttsUrl = `mqtts://${env.MQTT_ADAPTER_IP}:${env.MQTT_ADAPTER_PORT_MQTTS}`;
    c2e = Cloud2Edge.fromEnv({}, env);
    await c2e.registry.tenants.create({ 'trusted-ca': [{ cert: der(pki.caCert) }] }, { tenantId: TENANT });
    await c2e.registry.devices.create(TENANT, {}, { deviceId: LAMP });
    await c2e.registry.credentials.setX509(TENANT, LAMP, { certificatePem: pki.clientCert });
    await c2e.registry.credentials.setPassword(TENANT, LAMP, 'lamp-1', 'lamp-1-secret');
    app = c2e.northbound({ transport: 'amqp', credentials: { ...DEFAULT_NORTHBOUND_USER } });
    consumer = (async () => {
      for await (const message of app.telemetry(TENANT, { signal: consuming.signal })) received.push(message);
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  after(async () => {
    consuming.abort();
    await consumer;
    await app?.close();
    await c2e?.close();
    await sandbox?.close();
    pki?.remove();
    stranger?.remove();
  });

  const connect = (options: mqtt.IClientOptions) => connectMqtt(mqttsUrl, { ca: pki.caCert, servername: 'hono-adapter-mqtt', ...options });

  it('a device logs in with its certificate alone and its telemetry reaches the application as that device', async () => {
    const device = c2e.device({
      transport: 'mqtt',
      tenant: TENANT,
      thingId: LAMP,
      endpoint: mqttsUrl,
      tls: { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile, serverName: 'hono-adapter-mqtt' },
    });
    try {
      await device.connect();
      await device.telemetry({ lumen: 800 }, { qos: 1 });
    } finally {
      await device.close();
    }
    for (let attempt = 0; attempt < 50 && received.length === 0; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(
      received.map((message) => [message.deviceId, message.json()]),
      [[LAMP, { lumen: 800 }]],
    );
  });

  it('refuses a certificate no tenant trusts (CONNACK 5), and lets passwords in on the TLS port', async () => {
    await assert.rejects(connect({ cert: stranger.clientCert, key: stranger.clientKey }), refusedWith(5));
    await assert.rejects(connect({}), refusedWith(5), 'no certificate, no password');
    const byPassword = await connect({ username: `lamp-1@${TENANT}`, password: 'lamp-1-secret' });
    await byPassword.endAsync();
  });

  it('refuses a trusted certificate once its credential is gone', async () => {
    await c2e.registry.credentials.setPassword(TENANT, LAMP, 'lamp-1', 'lamp-1-secret');
    const { value } = await c2e.registry.credentials.get(TENANT, LAMP);
    await c2e.registry.credentials.set(
      TENANT,
      LAMP,
      value.filter((credential) => credential.type !== 'x509-cert'),
    );
    await assert.rejects(connect({ cert: pki.clientCert, key: pki.clientKey }), refusedWith(5));
  });
});
