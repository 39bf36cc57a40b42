// Cloud2Edge's one-call provisioning against the sandbox: provisionDevice() creates tenant, device, credentials, the
// tenant's Ditto connection (as devops), the policy with the HONO entry and the thing, exactly as on a real
// Cloud2Edge; the device then logs in over MQTT; a second run finds everything in place; deprovisionDevice() removes it.
// Every exchange with Ditto (as the ditto and the devops user) is validated against the official Ditto 3.5.12 spec.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cloud2Edge } from '../../src/c2e/index.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { type Contract, dittoContract, skipReason } from '../support/openapi.js';
import { compileProtocolSchema } from '../support/protocol-schemas.js';
import { type ProxiedSandbox, proxiedSandbox } from '../support/sandbox.js';

describe('sandbox: Cloud2Edge provisioning', { skip: skipReason() }, () => {
  let running: ProxiedSandbox | undefined;
  let sandbox: Sandbox;
  let c2e: Cloud2Edge;
  let contract: Contract;

  before(async () => {
    contract = await dittoContract();
    running = await proxiedSandbox('DITTO_API_BASE_URL');
    ({ sandbox, c2e } = running);
  });

  after(async () => {
    await running?.close();
  });

  it('provisions a device and its twin in one call, idempotently, and removes them again', async () => {
    const request = {
      tenant: 'org.acme',
      thingId: 'org.acme:lamp-7',
      password: 'lamp-7-password',
      thing: { attributes: { room: 'hall' } },
    };
    const first = await c2e.provisionDevice(request);
    assert.equal(first.deviceId, 'org.acme:lamp-7');
    assert.equal(first.username, 'lamp-7@org.acme');
    // The credentials are "updated": a new device comes with an empty set of credentials, as on Hono.
    assert.deepEqual(first.steps, {
      tenant: 'created',
      device: 'created',
      credentials: 'updated',
      connection: 'created',
      policy: 'created',
      thing: 'created',
    });
    assert.ok(first.connectionId, 'the tenant got its Ditto connection');

    const policy = await c2e.ditto.policies.get(first.policyId);
    assert.ok(policy.entries?.HONO?.subjects?.['pre-authenticated:hono-connection-org.acme'], JSON.stringify(policy.entries));
    assert.deepEqual((await c2e.ditto.things.get(first.thingId)).attributes, { room: 'hall' });
    assert.equal((await sandbox.registry.authenticate('org.acme', 'lamp-7', 'lamp-7-password'))?.deviceId, 'org.acme:lamp-7');

    // The wiring: the device's Ditto Protocol telemetry updates its twin; asked for, Ditto's response comes back.
    const device = c2e.device({
      transport: 'mqtt',
      tenant: 'org.acme',
      thingId: 'org.acme:lamp-7',
      authId: 'lamp-7',
      password: 'lamp-7-password',
    });
    await device.connect();
    const responses: string[] = [];
    const emitted: unknown[] = [];
    const stop = device.onCommand((command) => {
      responses.push(`${command.name}:${command.json<{ status: number }>().status}`);
      emitted.push(command.json());
    });
    try {
      await device.twin.updateProperty('lamp', 'on', true);
      await device.twin.updateAttribute('room', 'attic', { responseRequired: true, correlationId: 'c-1' });
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const thing = await c2e.ditto.things.get(first.thingId);
        if (
          (thing.features?.lamp?.properties as { on?: boolean } | undefined)?.on === true &&
          thing.attributes?.room === 'attic' &&
          responses.length === 1
        )
          break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const thing = await c2e.ditto.things.get(first.thingId);
      assert.deepEqual(thing.features?.lamp?.properties, { on: true });
      assert.equal(thing.attributes?.room, 'attic');
      assert.deepEqual(responses, ['modify-response:204']);
      // A device may not change another device's twin (device ID = thing ID): the command is dropped.
      await c2e.provisionDevice({ tenant: 'org.acme', thingId: 'org.acme:lamp-8', thing: { attributes: { room: 'hall' } } });
      await device.telemetry(
        {
          topic: 'org.acme/lamp-8/things/twin/commands/modify',
          headers: { 'response-required': false },
          path: '/attributes/room',
          value: 'cellar',
        },
        { qos: 1 },
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal((await c2e.ditto.things.get('org.acme:lamp-8')).attributes?.room, 'hall');
      // A Ditto message to the thing reaches the device as a Hono command; its answer is the HTTP response.
      const messages: unknown[] = [];
      const stopMessages = device.twin.onMessage(async (incoming) => {
        messages.push(incoming.envelope);
        await incoming.respond(200, { switched: (incoming.value as { on: boolean }).on });
      });
      try {
        const answer = await c2e.ditto.messages.send<{ switched: boolean }>({
          thingId: first.thingId,
          subject: 'switch',
          payload: { on: true },
          timeoutSeconds: 5,
        });
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.data, { switched: true });
        const fireAndForget = await c2e.ditto.messages.send({
          thingId: first.thingId,
          subject: 'blink',
          payload: { times: 3 },
          timeoutSeconds: 0,
        });
        assert.equal(fireAndForget.status, 202);
        for (let attempt = 0; attempt < 50 && messages.length < 2; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        stopMessages();
      }
      // What the sandbox emitted to the device is valid Ditto Protocol: the response, and the message envelopes.
      const response = compileProtocolSchema('protocol-response.json');
      const envelope = compileProtocolSchema('protocol-envelope.json');
      assert.equal(emitted.length, 1);
      for (const message of emitted) response(message);
      assert.equal(messages.length, 2, 'the fire-and-forget message arrived too');
      for (const message of messages) envelope(message);
    } finally {
      stop();
      await device.close();
    }

    const again = await c2e.provisionDevice(request);
    assert.equal(again.steps.thing, 'existing');
    assert.equal(again.steps.connection, 'existing');

    // Nobody listens now: Ditto cannot deliver the message.
    await assert.rejects(
      c2e.ditto.messages.send({ thingId: first.thingId, subject: 'switch', payload: { on: false }, timeoutSeconds: 2 }),
      (error: unknown) => error instanceof Error && (error as { status?: number }).status === 503,
    );

    const removed = await c2e.deprovisionDevice({ tenant: 'org.acme', thingId: 'org.acme:lamp-7' });
    assert.equal(removed.thing, 'deleted');
    assert.equal(removed.device, 'deleted');
    assert.equal(await sandbox.registry.authenticate('org.acme', 'lamp-7', 'lamp-7-password'), undefined);

    const exchanges = running!.proxy.exchanges;
    assert.ok(
      exchanges.some((exchange) => exchange.request.path.startsWith('/api/2/connections/')),
      'the connection went through Ditto',
    );
    for (const exchange of exchanges) {
      contract.assertRequest(exchange.request);
      if (exchange.request.query.fields === undefined) contract.assertResponse(exchange.request, exchange.status, exchange.body ?? null);
    }
  });

  it('keeps connections to the devops user', async () => {
    const base = sandbox.env().DITTO_API_BASE_URL!;
    const answer = await fetch(`${base}/api/2/connections/some-connection`, {
      headers: { authorization: `Basic ${Buffer.from('ditto:ditto').toString('base64')}` },
    });
    assert.equal(answer.status, 403);
  });
});
