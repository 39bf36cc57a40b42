/**
 * The smart city running: the fleet is provisioned with one call per device, the twin auditor anchors every change
 * of every twin (creation included), the devices report their readings — over MQTT, over HTTP, and for one parking
 * sensor through the ledger (`PublishTelemetryData`, delivered to Hono by the relay) — and the traffic light is
 * switched by a Ditto message that reaches it as a Hono command and answers. The command and its answer are
 * anchored as records of their own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Receipt, TwinAuditor } from '../../src/anchor/index.js';
import type { Logger } from '../../src/core/index.js';
import type { DeviceClient } from '../../src/device/index.js';
import { TelemetryRelay } from '../../src/ledger/index.js';
import { modifyProperty } from '../../src/protocol/index.js';
import type { DemoEnvironment } from '../support/environment.js';
import { FLEET, type FleetDevice, ROUNDS, TENANT, initialFeatures, readingsOf } from './fleet.js';

/** One `PublishTelemetryData` transaction: what was published, and its hash on the ledger. */
export interface LedgerPublication {
  thingId: string;
  transactionId: string;
  command: string;
  sha256: string;
}

export interface ScenarioResult {
  devices: number;
  readings: { mqtt: number; http: number; ledger: number };
  publications: LedgerPublication[];
  command: { subject: string; sent: unknown; status: number; answer: unknown };
  /** The command and its answer as anchored records. */
  commandReceipts: Receipt[];
  auditor: TwinAuditor;
  /** The auditor's records, per thing: revision, changed path, stream and seq. */
  twinRecords: Map<string, Array<{ revision: number; path: string; stream: string; seq: number }>>;
  /** Ledger blocks when the scenario began. */
  startHeight: bigint;
  /** `RegisterDevice` and `SetCredentials` transactions. */
  deviceSetupTransactions: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function runScenario(environment: DemoEnvironment, dataDir: string, logger?: Logger): Promise<ScenarioResult> {
  const { c2e, anchorer, ledger } = environment;
  const startHeight = await ledger.getChainHeight();
  const auditor = await TwinAuditor.start({
    ditto: c2e.ditto,
    anchorer,
    tenant: TENANT,
    namespaces: [TENANT],
    checkpoint: join(dataDir, 'twin-auditor.jsonl'),
    ...(logger ? { logger } : {}),
  });
  const twinRecords = new Map<string, Array<{ revision: number; path: string; stream: string; seq: number }>>();
  auditor.on('appended', (event) => {
    twinRecords.set(event.thingId, [...(twinRecords.get(event.thingId) ?? []), event]);
  });

  const passwords = new Map(FLEET.map((device) => [device.thingId, randomBytes(12).toString('base64url')]));
  for (const device of FLEET) {
    await c2e.provisionDevice({
      tenant: TENANT,
      thingId: device.thingId,
      authId: device.authId,
      password: passwords.get(device.thingId)!,
      thing: { attributes: { kind: device.kind, ...device.attributes }, features: initialFeatures(device.kind) },
    });
  }
  let deviceSetupTransactions = 0;
  for (const device of FLEET.filter((candidate) => candidate.path === 'ledger')) {
    if ((await ledger.getDevice(TENANT, device.thingId)) === undefined) {
      await ledger.registerDevice({ tenant: TENANT, deviceId: device.thingId });
      deviceSetupTransactions += 1;
    }
    await ledger.setCredentials({
      tenant: TENANT,
      deviceId: device.thingId,
      authId: device.authId,
      password: passwords.get(device.thingId)!,
    });
    deviceSetupTransactions += 1;
  }

  const clients = new Map<string, DeviceClient>();
  const relay = new TelemetryRelay({
    ledger,
    httpAdapter: c2e.config.httpAdapter!,
    stateDir: join(dataDir, 'relay'),
    credentials: 'ledger',
    ...(logger ? { logger } : {}),
  });
  const delivered = new Set<string>();
  relay.on('delivered', (delivery) => delivered.add(delivery.transactionId));
  try {
    for (const device of FLEET.filter((candidate) => candidate.path === 'mqtt' || candidate.path === 'http')) {
      const client = c2e.device({
        transport: device.path as 'mqtt' | 'http',
        tenant: TENANT,
        thingId: device.thingId,
        authId: device.authId,
        password: passwords.get(device.thingId)!,
      });
      await client.connect();
      clients.set(device.thingId, client);
    }
    await relay.start();

    const trafficLight = FLEET.find((device) => device.kind === 'traffic-light')!;
    const lightClient = clients.get(trafficLight.thingId)!;
    const stopLight = lightClient.twin.onMessage(async (message) => {
      const phase = (message.value as { phase?: unknown } | undefined)?.phase;
      if (message.subject !== 'setPhase' || typeof phase !== 'string') {
        await message.respond(400, { error: 'expected setPhase with { phase }' });
        return;
      }
      await lightClient.twin.updateProperty('signal', 'phase', phase);
      await message.respond(200, { phase, switchedAt: new Date().toISOString() });
    });

    const readings = { mqtt: 0, http: 0, ledger: 0 };
    const publications: LedgerPublication[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const device of FLEET) {
        for (const reading of readingsOf(device, round)) {
          if (device.path === 'ledger') publications.push(await publishThroughLedger(environment, device, reading));
          else await clients.get(device.thingId)!.twin.updateProperty(reading.feature, reading.property, reading.value);
          readings[device.path] += 1;
        }
      }
    }
    await until('the relay to deliver every publication', async () => publications.every((p) => delivered.has(p.transactionId)));

    const sent = { phase: 'green' };
    const commandReceipt = await anchorer.append({
      tenant: TENANT,
      thingId: trafficLight.thingId,
      kind: 'command',
      stream: 'commands',
      payload: { subject: 'setPhase', payload: sent },
    });
    const answer = await c2e.ditto.messages.send({ thingId: trafficLight.thingId, subject: 'setPhase', payload: sent, timeoutSeconds: 10 });
    const responseReceipt = await anchorer.append({
      tenant: TENANT,
      thingId: trafficLight.thingId,
      kind: 'command-response',
      stream: 'commands',
      payload: { subject: 'setPhase', status: answer.status, payload: answer.data ?? null },
    });
    stopLight();

    await until('the twins to show the last readings and the auditor to anchor every revision', async () => {
      for (const device of FLEET) {
        const { etag } = await c2e.ditto.things.getVersioned(device.thingId);
        const revision = Number(/rev:(\d+)/.exec(etag ?? '')?.[1] ?? 0);
        if ((auditor.checkpoints()[device.thingId] ?? 0) < revision) return false;
      }
      const light = await c2e.ditto.things.get(trafficLight.thingId);
      return (light.features?.signal?.properties as { phase?: string } | undefined)?.phase === sent.phase;
    });
    return {
      devices: FLEET.length,
      readings,
      publications,
      command: { subject: 'setPhase', sent, status: answer.status, answer: answer.data },
      commandReceipts: [commandReceipt, responseReceipt],
      auditor,
      twinRecords,
      startHeight,
      deviceSetupTransactions,
    };
  } catch (error) {
    await auditor.stop();
    throw error;
  } finally {
    await relay.close();
    for (const client of clients.values()) await client.close();
  }
}

/** The paper's path: the reading goes onto the ledger first, and the relay hands it to Hono. */
async function publishThroughLedger(
  environment: DemoEnvironment,
  device: FleetDevice,
  reading: { feature: string; property: string; value: number | boolean | string },
): Promise<LedgerPublication> {
  // The builders ask Ditto for no response by default: a device has no use for it.
  const command = JSON.stringify(modifyProperty(device.thingId, reading.feature, reading.property, reading.value));
  const { transactionId, sha256 } = await environment.ledger.publishTelemetry({ tenant: TENANT, thingId: device.thingId, command });
  if (sha256 !== createHash('sha256').update(command).digest('hex')) throw new Error('the ledger recorded another hash than the command’s');
  return { thingId: device.thingId, transactionId, command, sha256 };
}
