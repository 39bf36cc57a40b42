import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TelemetryPublishRequested, TelemetryRecord } from '../src/types';
import { FakeWorld } from './fake-ledger';
import { ORG1, ORG2, TENANT, THING, contract, evaluate, json, modifyCommand, registerDevice, rejects, sha256, submit } from './helpers';

async function world(): Promise<FakeWorld> {
  const w = new FakeWorld();
  await registerDevice(w);
  return w;
}

describe('PublishTelemetryData', () => {
  it('records the command hash under a composite key and emits one event with everything a relay needs', async () => {
    const w = await world();
    const command = modifyCommand();
    const txId = 'c0ffee'.repeat(10) + 'beef';
    const { result, stub } = await submit(w, { mspId: ORG1, txId }, (ctx) =>
      contract.PublishTelemetryData(ctx, TENANT, THING, command, '30'),
    );
    assert.equal(result, sha256(command), 'returns the SHA-256 of the command bytes');

    const puts = stub.writes.filter((w) => w.kind === 'put');
    assert.equal(puts.length, 1);
    assert.equal(puts[0]?.key, `\u0000twinledger.telemetry\u0000${TENANT}\u0000${THING}\u0000${stub.txId}\u0000`);
    const record = json<TelemetryRecord>(String(puts[0]?.value));
    assert.deepEqual(record, {
      docType: 'telemetry',
      tenant: TENANT,
      thingId: THING,
      sha256: result,
      txId: stub.txId,
      timestamp: '2024-05-01T10:00:00.123456789Z',
      ttd: 30,
    });

    assert.equal(stub.events.length, 1);
    assert.equal(stub.events[0]?.name, 'TelemetryPublishRequested');
    const event = json<TelemetryPublishRequested>(String(stub.events[0]?.payload));
    assert.deepEqual(event, {
      tenant: TENANT,
      thingId: THING,
      deviceId: THING,
      sha256: result,
      txId: stub.txId,
      timestamp: record.timestamp,
      ttd: 30,
      command,
    });
    // Keys are sorted: the payload is deterministic JSON.
    assert.equal(
      String(stub.events[0]?.payload),
      JSON.stringify(Object.fromEntries(Object.entries(event).sort(([a], [b]) => a.localeCompare(b)))),
    );

    const read = json<TelemetryRecord>(await evaluate(w, { mspId: ORG2 }, (ctx) => contract.GetTelemetry(ctx, TENANT, THING, stub.txId)));
    assert.deepEqual(read, record);

    // The root package's relay tests replay this fixture, so chaincode and relay agree on the event bytes.
    const fixture = join(__dirname, '..', '..', 'test', 'fixtures', 'telemetry-event.json');
    const expected = { name: stub.events[0]?.name, payload: String(stub.events[0]?.payload) };
    if (process.env.TWINLEDGER_WRITE_FIXTURES === '1') writeFileSync(fixture, `${JSON.stringify(expected, null, 2)}\n`);
    assert.deepEqual(
      JSON.parse(readFileSync(fixture, 'utf8')),
      expected,
      'chaincode/test/fixtures/telemetry-event.json is stale (regenerate with TWINLEDGER_WRITE_FIXTURES=1 npm test)',
    );
  });

  it('accepts merge, create and delete commands and an empty ttd', async () => {
    const w = await world();
    for (const [action, extra] of [
      ['merge', { value: { a: 1 } }],
      ['create', { value: {} }],
      ['delete', {}],
    ] as const) {
      const command = JSON.stringify({ topic: `org.acme/lamp-1/things/twin/commands/${action}`, path: '/', ...extra });
      const { stub } = await submit(w, { mspId: ORG1 }, (ctx) => contract.PublishTelemetryData(ctx, TENANT, THING, command, ''));
      assert.equal(json<TelemetryPublishRequested>(String(stub.events[0]?.payload)).ttd, null);
    }
  });

  it('refuses commands that are not twin commands for this thing, with the reason', async () => {
    const w = await world();
    const cases: Array<[string, RegExp]> = [
      ['{not json', /dittoCommandJson is not valid JSON/],
      ['[1,2]', /must be a Ditto Protocol envelope/],
      [JSON.stringify({ path: '/', value: 1 }), /dittoCommandJson.topic is missing/],
      [
        JSON.stringify({ topic: 'org.acme/lamp-1/things/live/commands/modify', path: '/', value: 1 }),
        /is not a twin command topic; expected "org.acme\/lamp-1\/things\/twin\/commands\/<action>"/,
      ],
      [
        JSON.stringify({ topic: 'org.acme/lamp-2/things/twin/commands/modify', path: '/', value: 1 }),
        /addresses "org.acme:lamp-2", not the thing "org.acme:lamp-1"/,
      ],
      [
        JSON.stringify({ topic: 'org.acme/lamp-1/things/twin/commands/retrieve', path: '/' }),
        /action "retrieve" is not one of create, modify, merge, delete/,
      ],
      [JSON.stringify({ topic: 'org.acme/lamp-1/things/twin/commands/modify', value: 1 }), /dittoCommandJson.path must be a JSON pointer/],
      [
        JSON.stringify({ topic: 'org.acme/lamp-1/things/twin/commands/modify', path: '/a' }),
        /dittoCommandJson.value is required for a "modify" command/,
      ],
      [
        JSON.stringify({ topic: 'org.acme/lamp-1/things/twin/commands/modify', path: '/a', value: 1, headers: 'x' }),
        /headers must be a JSON object/,
      ],
      [
        JSON.stringify({ topic: 'org.acme/lamp-1/things/twin/commands/modify', path: '/a', value: 'x'.repeat(70_000) }),
        /bytes; at most 65536/,
      ],
    ];
    for (const [command, pattern] of cases) {
      const stub = await rejects(
        w,
        { mspId: ORG1 },
        (ctx) => contract.PublishTelemetryData(ctx, TENANT, THING, command, ''),
        'INVALID_ARGUMENT',
        pattern,
      );
      assert.deepEqual(stub.writes, []);
      assert.deepEqual(stub.events, []);
    }
    for (const [ttd, pattern] of [
      ['0', /from 1 to 60 seconds/],
      ['61', /from 1 to 60/],
      ['-1', /integer number of seconds/],
      ['1.5', /integer/],
    ] as const) {
      await rejects(
        w,
        { mspId: ORG1 },
        (ctx) => contract.PublishTelemetryData(ctx, TENANT, THING, modifyCommand(), ttd),
        'INVALID_ARGUMENT',
        pattern,
      );
    }
    await rejects(
      w,
      { mspId: ORG1 },
      (ctx) => contract.PublishTelemetryData(ctx, TENANT, 'lamp-1', modifyCommand(), ''),
      'INVALID_ARGUMENT',
      /thingId "lamp-1" is not a valid Ditto thing ID/,
    );
  });

  it('only the owner organisation may publish, only for registered devices', async () => {
    const w = await world();
    await rejects(
      w,
      { mspId: ORG2 },
      (ctx) => contract.PublishTelemetryData(ctx, TENANT, THING, modifyCommand(), ''),
      'FORBIDDEN',
      /belongs to Org1MSP; Org2MSP may not publish telemetry/,
    );
    const other = 'org.acme:lamp-9';
    await rejects(
      w,
      { mspId: ORG1 },
      (ctx) => contract.PublishTelemetryData(ctx, TENANT, other, modifyCommand(other), ''),
      'NOT_FOUND',
      /not registered/,
    );
    await rejects(w, { mspId: ORG1 }, (ctx) => contract.GetTelemetry(ctx, TENANT, THING, 'f'.repeat(64)), 'NOT_FOUND', /no telemetry/);
  });
});
