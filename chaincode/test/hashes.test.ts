import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HashHistoryEntry, HashRecord } from '../src/types';
import { FakeWorld } from './fake-ledger';
import { ORG1, ORG2, contract, evaluate, json, rejects, sha256, submit } from './helpers';

const KEY = 'ids/node-7/results';
const CID = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';

describe('PoC 1 hash registry', () => {
  it('InitHash, UpdateHash, QueryHash and GetHashHistory', async () => {
    const world = new FakeWorld();
    const init = await submit(world, { mspId: ORG1 }, (ctx) => contract.InitHash(ctx, KEY));
    assert.deepEqual(json<HashRecord>(init.result), {
      docType: 'hash',
      key: KEY,
      owner: ORG1,
      sha256: null,
      cid: null,
      version: 0,
      txId: init.stub.txId,
      timestamp: '2024-05-01T10:00:00.123456789Z',
    });
    assert.deepEqual(init.stub.events, [], 'InitHash emits no event');

    const h1 = sha256('results v1');
    const h2 = sha256('results v2');
    const u1 = await submit(world, { mspId: ORG1, timestamp: { seconds: 1_714_557_700, nanos: 0 } }, (ctx) =>
      contract.UpdateHash(ctx, KEY, h1, CID),
    );
    assert.equal(json<HashRecord>(u1.result).version, 1);
    assert.deepEqual(
      u1.stub.events.map((e) => [e.name, JSON.parse(String(e.payload)).version]),
      [['HashUpdated', 1]],
    );
    const u2 = await submit(world, { mspId: ORG1, timestamp: { seconds: 1_714_557_800, nanos: 5 } }, (ctx) =>
      contract.UpdateHash(ctx, KEY, h2, ''),
    );

    const current = json<HashRecord>(await evaluate(world, { mspId: ORG2 }, (ctx) => contract.QueryHash(ctx, KEY)));
    assert.deepEqual(current, { ...json<HashRecord>(u2.result) });
    assert.equal(current.sha256, h2);
    assert.equal(current.cid, null);
    assert.equal(current.version, 2);
    assert.equal(current.timestamp, '2024-05-01T10:03:20.000000005Z');

    const history = json<HashHistoryEntry[]>(await evaluate(world, { mspId: ORG2 }, (ctx) => contract.GetHashHistory(ctx, KEY)));
    assert.deepEqual(
      history.map((e) => [e.txId, e.record?.version, e.record?.sha256, e.isDelete]),
      [
        [u2.stub.txId, 2, h2, false],
        [u1.stub.txId, 1, h1, false],
        [init.stub.txId, 0, null, false],
      ],
    );
    assert.equal(history[1]?.timestamp, '2024-05-01T10:01:40.000000000Z');
  });

  it('InitHash is idempotent for its owner until the first update, then ALREADY_EXISTS', async () => {
    const world = new FakeWorld();
    await submit(world, { mspId: ORG1 }, (ctx) => contract.InitHash(ctx, KEY));
    const again = await submit(world, { mspId: ORG1 }, (ctx) => contract.InitHash(ctx, KEY));
    assert.deepEqual(again.stub.writes, []);
    await rejects(
      world,
      { mspId: ORG2 },
      (ctx) => contract.InitHash(ctx, KEY),
      'ALREADY_EXISTS',
      /already exists \(owner Org1MSP, version 0\)/,
    );
    await submit(world, { mspId: ORG1 }, (ctx) => contract.UpdateHash(ctx, KEY, sha256('x'), ''));
    await rejects(world, { mspId: ORG1 }, (ctx) => contract.InitHash(ctx, KEY), 'ALREADY_EXISTS', /version 1/);
  });

  it('refuses updates by another organisation, of unknown keys and with bad input', async () => {
    const world = new FakeWorld();
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.UpdateHash(ctx, KEY, sha256('x'), ''),
      'NOT_FOUND',
      /does not exist; call InitHash first/,
    );
    await submit(world, { mspId: ORG1 }, (ctx) => contract.InitHash(ctx, KEY));
    await rejects(
      world,
      { mspId: ORG2 },
      (ctx) => contract.UpdateHash(ctx, KEY, sha256('x'), ''),
      'FORBIDDEN',
      /belongs to Org1MSP; Org2MSP may not update it/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.UpdateHash(ctx, KEY, 'abc', ''),
      'INVALID_ARGUMENT',
      /sha256 must be 64 hex characters \(a SHA-256 digest\), got 3 characters/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.UpdateHash(ctx, KEY, sha256('x').toUpperCase(), ''),
      'INVALID_ARGUMENT',
      /sha256 must be lower-case hex/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.UpdateHash(ctx, KEY, 'g'.repeat(64), ''),
      'INVALID_ARGUMENT',
      /sha256 must be hexadecimal/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.UpdateHash(ctx, KEY, sha256('x'), 'QmNotACid'),
      'INVALID_ARGUMENT',
      /cid "QmNotACid" is a CIDv0 \("Qm…"\) of 9 characters/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.InitHash(ctx, '-leading-dash'),
      'INVALID_ARGUMENT',
      /key "-leading-dash" is not a valid key/,
    );
    await rejects(world, { mspId: ORG1 }, (ctx) => contract.QueryHash(ctx, 'nope'), 'NOT_FOUND', /"nope" does not exist/);
    await rejects(world, { mspId: ORG1 }, (ctx) => contract.GetHashHistory(ctx, 'nope'), 'NOT_FOUND', /no history/);
  });
});
