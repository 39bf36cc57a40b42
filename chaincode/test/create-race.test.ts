/**
 * Two transactions that create the same key in one block. Each creating transaction also sets the key's
 * key-level endorsement policy, so on a Fabric 2.5 peer the later one is invalidated as ENDORSEMENT_POLICY_FAILURE
 * ("validation parameters for key … have been changed in transaction N of block M"), not MVCC_READ_CONFLICT.
 * Running the loser again is safe: every creating transaction is idempotent by content.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from 'fabric-contract-api';
import { FakeWorld, VALIDATION, contextFor } from './fake-ledger';
import { ORG1, ORG2, TENANT, THING, contract, json, sha256 } from './helpers';
import { GENESIS_ROOT } from '../src/validate';

const ROOT = sha256('batch 1');

/** Endorses `fn` for each caller against the same committed state, then commits all of them as one block. */
async function raceInOneBlock(world: FakeWorld, callers: string[], fn: (ctx: Context) => Promise<string>) {
  const stubs = callers.map((mspId) => world.stub({ mspId }));
  const results = await Promise.all(stubs.map((stub) => fn(contextFor(stub))));
  return { results, codes: world.commitBlock(stubs), stubs };
}

const creations: Array<[string, (ctx: Context) => Promise<string>]> = [
  ['RegisterDevice', (ctx) => contract.RegisterDevice(ctx, TENANT, THING)],
  ['InitHash', (ctx) => contract.InitHash(ctx, 'Org1MSP/ids/node-1')],
  ['AnchorBatch (first batch)', (ctx) => contract.AnchorBatch(ctx, 'Org1MSP/telemetry', 'b1', ROOT, '4', GENESIS_ROOT, '')],
  ['AnchorRecord', (ctx) => contract.AnchorRecord(ctx, 'Org1MSP/alert-1', sha256('alert'), '', '')],
];

describe('creating the same key twice in one block', () => {
  for (const [name, create] of creations) {
    it(`${name}: the later creator is ENDORSEMENT_POLICY_FAILURE; run again, it returns the stored record and writes nothing`, async () => {
      const world = new FakeWorld();
      const { codes, results } = await raceInOneBlock(world, [ORG1, ORG1], create);
      assert.deepEqual(codes, [VALIDATION.VALID, VALIDATION.ENDORSEMENT_POLICY_FAILURE]);
      const rerun = world.stub({ mspId: ORG1 });
      const again = await create(contextFor(rerun));
      assert.deepEqual(json(again), json(results[0] as string), "the winner's record");
      assert.deepEqual(rerun.writes, [], 'a read-only transaction');
      assert.deepEqual(world.commitBlock([rerun]), [VALIDATION.VALID]);
    });
  }

  it('in consecutive blocks the later creator is an ordinary MVCC_READ_CONFLICT', async () => {
    const world = new FakeWorld();
    const [first, second] = [world.stub({ mspId: ORG1 }), world.stub({ mspId: ORG1 })];
    await contract.InitHash(contextFor(first), 'k');
    await contract.InitHash(contextFor(second), 'k');
    assert.deepEqual(world.commitBlock([first]), [VALIDATION.VALID]);
    assert.deepEqual(world.commitBlock([second]), [VALIDATION.MVCC_READ_CONFLICT]);
  });

  it('updates of an existing key in one block conflict on reads, not on the policy (it did not change)', async () => {
    const world = new FakeWorld();
    const init = world.stub({ mspId: ORG1 });
    await contract.InitHash(contextFor(init), 'k');
    world.commitBlock([init]);
    const { codes } = await raceInOneBlock(world, [ORG1, ORG1], (ctx) => contract.UpdateHash(ctx, 'k', sha256('v1'), ''));
    assert.deepEqual(codes, [VALIDATION.VALID, VALIDATION.MVCC_READ_CONFLICT]);
  });

  it('another organisation that lost the race gets ALREADY_EXISTS when run again', async () => {
    const world = new FakeWorld();
    const { codes } = await raceInOneBlock(world, [ORG1, ORG2], (ctx) => contract.RegisterDevice(ctx, TENANT, THING));
    assert.deepEqual(codes, [VALIDATION.VALID, VALIDATION.ENDORSEMENT_POLICY_FAILURE]);
    await assert.rejects(
      contract.RegisterDevice(contextFor(world.stub({ mspId: ORG2 })), TENANT, THING),
      /ALREADY_EXISTS: .*registered by Org1MSP/,
    );
  });
});
