import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from 'fabric-contract-api';
import { emitEvent } from '../src/context';
import { GENESIS_ROOT } from '../src/validate';
import { FakeWorld, contextFor } from './fake-ledger';
import { ORG1, TENANT, THING, contract, modifyCommand, sha256 } from './helpers';

type Step = (ctx: Context) => Promise<unknown>;

interface Scenario {
  name: string;
  setup: Array<{ step: Step; transient?: Record<string, string> }>;
  tx: Step;
  transient?: Record<string, string>;
}

const credentials = { authId: 'lamp-1', password: 'pw-123456', salt: '0f'.repeat(32) };

const scenarios: Scenario[] = [
  { name: 'RegisterDevice', setup: [], tx: (ctx) => contract.RegisterDevice(ctx, TENANT, THING) },
  {
    name: 'SetCredentials',
    setup: [{ step: (ctx) => contract.RegisterDevice(ctx, TENANT, THING) }],
    tx: (ctx) => contract.SetCredentials(ctx, TENANT, THING),
    transient: credentials,
  },
  {
    name: 'PublishTelemetryData',
    setup: [{ step: (ctx) => contract.RegisterDevice(ctx, TENANT, THING) }],
    tx: (ctx) => contract.PublishTelemetryData(ctx, TENANT, THING, modifyCommand(THING, { b: 1, a: [2, 1] }), '10'),
  },
  { name: 'InitHash', setup: [], tx: (ctx) => contract.InitHash(ctx, 'k1') },
  {
    name: 'UpdateHash',
    setup: [{ step: (ctx) => contract.InitHash(ctx, 'k1') }],
    tx: (ctx) => contract.UpdateHash(ctx, 'k1', sha256('v'), 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG'),
  },
  {
    name: 'AnchorBatch',
    setup: [{ step: (ctx) => contract.AnchorBatch(ctx, 's', 'b1', sha256('1'), '3', GENESIS_ROOT, '{"z":1,"a":{"y":2,"b":3}}') }],
    tx: (ctx) => contract.AnchorBatch(ctx, 's', 'b2', sha256('2'), '5', sha256('1'), '{"z":1,"a":{"y":2,"b":3}}'),
  },
  { name: 'AnchorRecord', setup: [], tx: (ctx) => contract.AnchorRecord(ctx, 'r1', sha256('r'), '', '{"b":1,"a":2}') },
];

/** Runs a scenario on a fresh world, as one endorsing peer would, and returns every byte it produced. */
async function execute(scenario: Scenario): Promise<{ result: unknown; writes: string; events: string; eventCount: number }> {
  const world = new FakeWorld();
  let n = 0;
  for (const { step, transient } of scenario.setup) {
    n += 1;
    const stub = world.stub({ mspId: ORG1, txId: `setup-${n}`, transient, timestamp: { seconds: 1_700_000_000 + n, nanos: n } });
    await step(contextFor(stub));
    world.commit(stub);
  }
  const stub = world.stub({
    mspId: ORG1,
    txId: 'f'.repeat(64),
    transient: scenario.transient,
    timestamp: { seconds: 1_700_001_000, nanos: 42 },
  });
  const result = await scenario.tx(contextFor(stub));
  const writes = stub.writes.map((w) => `${w.kind}|${w.collection ?? ''}|${w.key}|${w.value?.toString('base64') ?? ''}`).join('\n');
  const events = stub.events.map((e) => `${e.name}|${e.payload.toString('base64')}`).join('\n');
  return { result, writes, events, eventCount: stub.events.length };
}

describe('determinism', () => {
  for (const scenario of scenarios) {
    it(`${scenario.name}: two executions produce identical bytes, at most one event`, async () => {
      const first = await execute(scenario);
      const second = await execute(scenario);
      assert.ok(first.writes.length > 0, 'the transaction writes something');
      assert.equal(second.writes, first.writes);
      assert.equal(second.events, first.events);
      assert.equal(second.result, first.result);
      assert.ok(first.eventCount <= 1, `${first.eventCount} events set; Fabric keeps only the last`);
    });
  }

  it('state values, events and results are canonical JSON (sorted keys, no whitespace)', async () => {
    const run = await execute(scenarios[5] as Scenario);
    const values = run.writes.split('\n').map((line) => Buffer.from(line.split('|')[3] ?? '', 'base64').toString('utf8'));
    for (const value of [...values, String(run.result)]) {
      assert.ok(!/\s/.test(value.replace(/"[^"]*"/g, '')), 'no whitespace outside strings');
      const keys = Object.keys(JSON.parse(value) as object);
      assert.deepEqual(keys, [...keys].sort(), 'top-level keys sorted');
    }
    assert.match(values[0] ?? '', /"meta":\{"a":\{"b":3,"y":2\},"z":1\}/, 'nested keys sorted');
  });

  it('refuses a second chaincode event in one transaction instead of silently dropping the first', () => {
    const ctx = contextFor(new FakeWorld().stub({ mspId: ORG1 }));
    emitEvent(ctx, 'First', { a: 1 });
    assert.throws(() => emitEvent(ctx, 'Second', { b: 2 }), /already set in this transaction; Second would replace it/);
  });
});
