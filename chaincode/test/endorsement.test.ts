/**
 * Key-level endorsement of owned keys: the contract's ownership checks only hold on honest endorsers, so every
 * owned key also carries a state-based policy naming the owner's peers. A peer of another organisation running
 * modified chaincode (simulated by writing straight to the stub) then cannot produce a valid update on its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { contextFor, type FakeStub, FakeWorld } from './fake-ledger';
import { ORG1, ORG2, TENANT, THING, contract, registerDevice, sha256, submit } from './helpers';
import { deviceKey, hashKey, headKey, recordKey } from '../src/keys';
import { GENESIS_ROOT } from '../src/validate';

const STREAM = 'org.acme/telemetry';

function policyOrgs(stub: FakeStub, key: string): string[][] {
  return stub.writes
    .filter((w) => w.kind === 'validation' && w.key === key)
    .map((w) => new KeyEndorsementPolicy(w.value as Buffer).listOrgs());
}

/** A transaction "endorsed" by a peer of `peerMspId` running modified chaincode: it writes `key` directly. */
function forgedWrite(world: FakeWorld, peerMspId: string, key: (stub: FakeStub) => string, value: unknown): FakeStub {
  const stub = world.stub({ mspId: peerMspId });
  void stub.putState(key(stub), Buffer.from(JSON.stringify(value)));
  return stub;
}

const keyOf = (make: (ctx: ReturnType<typeof contextFor>) => string) => (stub: FakeStub) => make(contextFor(stub));

describe('key-level endorsement of owned keys', () => {
  it('the fake peer enforces a key-level policy (device key, set since RegisterDevice)', async () => {
    const world = new FakeWorld();
    await registerDevice(world);
    const key = keyOf((ctx) => deviceKey(ctx, TENANT, THING));
    assert.throws(
      () => world.commit(forgedWrite(world, ORG2, key, { owner: ORG2 })),
      /ENDORSEMENT_POLICY_FAILURE: .* needs Org1MSP; endorsed by Org2MSP/,
    );
    // The owner's peer (alone or with others) satisfies it.
    world.commit(forgedWrite(world, ORG1, key, { owner: ORG1 }), [ORG2, ORG1]);
  });

  it('InitHash puts the owner policy on the hash key: UpdateHash needs the owner peer', async () => {
    const world = new FakeWorld();
    const init = await submit(world, { mspId: ORG1 }, (ctx) => contract.InitHash(ctx, 'ids/node-7'));
    const key = keyOf((ctx) => hashKey(ctx, 'ids/node-7'));
    assert.deepEqual(policyOrgs(init.stub, key(init.stub)), [[ORG1]]);
    // A retried InitHash writes nothing, not even the policy.
    const retry = await submit(world, { mspId: ORG1 }, (ctx) => contract.InitHash(ctx, 'ids/node-7'));
    assert.deepEqual(retry.stub.writes, []);

    // Org2's peer with modified chaincode takes the key over: invalid.
    const forged = forgedWrite(world, ORG2, key, {
      docType: 'hash',
      key: 'ids/node-7',
      owner: ORG2,
      sha256: sha256('evil'),
      cid: null,
      version: 1,
    });
    assert.throws(() => world.commit(forged), /ENDORSEMENT_POLICY_FAILURE/);
    // An honest UpdateHash endorsed only on Org2's peer is invalid too; on Org1's peer it commits.
    const onOtherPeer = world.stub({ mspId: ORG1, peerMspId: ORG2 });
    await contract.UpdateHash(contextFor(onOtherPeer), 'ids/node-7', sha256('v1'), '');
    assert.throws(() => world.commit(onOtherPeer), /ENDORSEMENT_POLICY_FAILURE/);
    await submit(world, { mspId: ORG1 }, (ctx) => contract.UpdateHash(ctx, 'ids/node-7', sha256('v1'), ''));
  });

  it('the first AnchorBatch puts the owner policy on the stream head; later batches need the owner peer', async () => {
    const world = new FakeWorld();
    const first = await submit(world, { mspId: ORG1 }, (ctx) =>
      contract.AnchorBatch(ctx, STREAM, 'b1', sha256('1'), '4', GENESIS_ROOT, ''),
    );
    const key = keyOf((ctx) => headKey(ctx, STREAM));
    assert.deepEqual(policyOrgs(first.stub, key(first.stub)), [[ORG1]]);
    assert.deepEqual(
      first.stub.writes.map((w) => w.kind),
      ['put', 'put', 'validation'],
    );
    // The policy stays on the key: the second batch does not set it again.
    const second = await submit(world, { mspId: ORG1 }, (ctx) =>
      contract.AnchorBatch(ctx, STREAM, 'b2', sha256('2'), '4', sha256('1'), ''),
    );
    assert.deepEqual(
      second.stub.writes.map((w) => w.kind),
      ['put', 'put'],
    );

    const forged = forgedWrite(world, ORG2, key, {
      docType: 'head',
      stream: STREAM,
      seq: 3,
      batchId: 'x',
      root: sha256('evil'),
      owner: ORG2,
    });
    assert.throws(() => world.commit(forged), /ENDORSEMENT_POLICY_FAILURE/);
    const onOtherPeer = world.stub({ mspId: ORG1, peerMspId: ORG2 });
    await contract.AnchorBatch(contextFor(onOtherPeer), STREAM, 'b3', sha256('3'), '4', sha256('2'), '');
    assert.throws(() => world.commit(onOtherPeer), /ENDORSEMENT_POLICY_FAILURE/);
  });

  it('AnchorRecord puts the owner policy on the record key', async () => {
    const world = new FakeWorld();
    const first = await submit(world, { mspId: ORG1 }, (ctx) => contract.AnchorRecord(ctx, 'ids/alert-42', sha256('a'), '', ''));
    const key = keyOf((ctx) => recordKey(ctx, 'ids/alert-42'));
    assert.deepEqual(policyOrgs(first.stub, key(first.stub)), [[ORG1]]);
    const retry = await submit(world, { mspId: ORG1 }, (ctx) => contract.AnchorRecord(ctx, 'ids/alert-42', sha256('a'), '', ''));
    assert.deepEqual(retry.stub.writes, []);
    const forged = forgedWrite(world, ORG2, key, { docType: 'record', key: 'ids/alert-42', sha256: sha256('evil'), owner: ORG2 });
    assert.throws(() => world.commit(forged), /ENDORSEMENT_POLICY_FAILURE/);
  });
});
