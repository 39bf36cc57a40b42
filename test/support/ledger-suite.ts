/**
 * The `Ledger` contract, as tests: what every implementation must do with the TwinLedger chaincode, run against
 * `FabricLedger` on a real two-organisation Fabric network (test/integration/fabric-network.test.ts) and against
 * `DevLedger` (test/unit/dev-ledger-contract.test.ts), so the two stay identical in results, refusals (the chaincode's
 * reasons) and how concurrent writers end. Call `ledgerContractSuite` inside a `describe` whose `before` builds the
 * target.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { it } from 'node:test';
import type { LogFields, Logger } from '../../src/core/index.js';
import { ChaincodeError, CommitError, GENESIS_ROOT, type Ledger, type LedgerEvent } from '../../src/ledger/index.js';

export type Org = 'Org1MSP' | 'Org2MSP';

export interface LedgerSuiteTarget {
  org1: Ledger;
  org2: Ledger;
  /** A new client of `org` (its own connection or view), closed by the target at the end. */
  client(org: Org, logger?: Logger): Ledger;
  /** A folder removed at the end. */
  tempDir(): string;
}

export const TENANT = 'org.acme';
export const hex = (text: string): string => createHash('sha256').update(text).digest('hex');
export const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export class RecordingLogger implements Logger {
  readonly warnings: Array<{ message: string; fields: LogFields | undefined }> = [];
  debug(): void {}
  info(): void {}
  warn(message: string, fields?: LogFields): void {
    this.warnings.push({ message, fields });
  }
  error(): void {}
}

export function twinCommand(thingId: string, value: number): string {
  const [namespace, name] = thingId.split(':');
  return JSON.stringify({
    topic: `${namespace}/${name}/things/twin/commands/modify`,
    headers: { 'response-required': false },
    path: '/features/temperature/properties/value',
    value,
  });
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

export function assertChaincodeRefusal(error: unknown, reason: string): void {
  assert.ok(error instanceof ChaincodeError, `expected a ChaincodeError ${reason}, got ${String(error)}`);
  assert.equal(error.reason, reason, error.message);
}

/** A created record without the block its creation reported: what the state holds. */
function withoutBlock<T extends { block?: string }>(created: T): Omit<T, 'block'> {
  const { block: _block, ...stored } = created;
  return stored;
}

export function ledgerContractSuite(target: () => LedgerSuiteTarget): void {
  it('registers a device, keeps its credentials private, publishes telemetry and reads it back', async () => {
    const { org1, org2 } = target();
    const deviceId = `${TENANT}:${unique('lamp')}`;
    const password = `pw-${randomBytes(12).toString('base64url')}`;
    const device = await org1.registerDevice({ tenant: TENANT, deviceId });
    assert.equal(device.owner, 'Org1MSP');
    assert.deepEqual(await org1.registerDevice({ tenant: TENANT, deviceId }), device, 'registering again returns the record');
    assert.deepEqual(await org2.getDevice(TENANT, deviceId), device, 'the registry is readable by the channel');
    assert.equal(await org2.getDevice(TENANT, `${TENANT}:${unique('nobody')}`), undefined);

    const commitment = await org1.setCredentials({ tenant: TENANT, deviceId, authId: 'lamp-1', password });
    assert.equal(commitment.collection, 'Org1MSPPrivateCollection');
    const credentials = await org1.getCredentials(TENANT, deviceId);
    assert.equal(credentials?.password, password);
    const salt = Buffer.from(credentials?.salt ?? '', 'hex');
    const expected = createHash('sha256')
      .update(Buffer.concat([salt, Buffer.from('lamp-1'), Buffer.from([0]), Buffer.from(password)]))
      .digest('hex');
    assert.equal(commitment.commitment, expected, 'the public record holds the salted commitment');
    assert.equal((await org1.getDevice(TENANT, deviceId))?.credentials?.commitment, expected);

    const command = twinCommand(deviceId, 21.5);
    const published = await org1.publishTelemetry({ tenant: TENANT, thingId: deviceId, command, ttd: 10 });
    assert.equal(published.sha256, hex(command));
    const record = await org2.getTelemetry(TENANT, deviceId, published.transactionId);
    assert.deepEqual(
      { sha256: record?.sha256, txId: record?.txId, ttd: record?.ttd, thingId: record?.thingId },
      { sha256: hex(command), txId: published.transactionId, ttd: 10, thingId: deviceId },
    );
    assert.equal(await org1.getTelemetry(TENANT, deviceId, 'f'.repeat(64)), undefined);
  });

  it('keeps the PoC 1 hash registry with its history', async () => {
    const { org1, org2 } = target();
    const key = `Org1MSP/ids/${unique('node')}`;
    const created = await org1.initHash(key);
    assert.deepEqual(
      { version: created.version, sha256: created.sha256, owner: created.owner },
      { version: 0, sha256: null, owner: 'Org1MSP' },
    );
    assert.deepEqual(await org1.initHash(key), created, 'InitHash again before an update returns the entry');
    const first = await org1.updateHash({ key, sha256: hex('labels v1'), cid: 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG' });
    const second = await org1.updateHash({ key, sha256: hex('labels v2') });
    assert.deepEqual([first.version, second.version], [1, 2]);
    assert.deepEqual(await org2.queryHash(key), second);
    const history = await org1.getHashHistory(key);
    assert.deepEqual(
      history.map((entry) => entry.record?.version),
      [2, 1, 0],
      'newest first',
    );
    assert.deepEqual(
      history.map((entry) => entry.txId),
      [second.txId, first.txId, created.txId],
    );
    assert.deepEqual(await org1.getHashHistory('Org1MSP/ids/unknown'), []);
  });

  it('anchors a chain of batches, refuses a wrong prevRoot, and anchors single records write-once', async () => {
    const { org1, org2 } = target();
    const stream = `Org1MSP/${unique('telemetry')}`;
    const roots = [hex('batch 1'), hex('batch 2'), hex('batch 3')];
    assert.equal((await org1.getHead(stream)).root, GENESIS_ROOT);
    let prevRoot = GENESIS_ROOT;
    const batches = [];
    for (const [index, root] of roots.entries()) {
      batches.push(
        await org1.anchorBatch({ stream, batchId: `b${index + 1}`, root, treeSize: 8 * (index + 1), prevRoot, meta: { first: index * 8 } }),
      );
      prevRoot = root;
    }
    assert.deepEqual(
      batches.map((b) => b.seq),
      [1, 2, 3],
    );
    // The block of each creating transaction is reported with the result (the state does not keep it).
    const blocks = batches.map((b) => b.block);
    assert.ok(blocks.every((block) => /^\d+$/.test(block ?? '')) && Number(blocks[2]) > Number(blocks[0]), JSON.stringify(blocks));
    assert.deepEqual(await org2.getBatch(stream, 'b2'), withoutBlock(batches[1]!));
    const head = await org2.getHead(stream);
    assert.deepEqual({ seq: head.seq, root: head.root, batchId: head.batchId }, { seq: 3, root: roots[2], batchId: 'b3' });

    const skipped = await rejection(
      org1.anchorBatch({ stream, batchId: 'b5', root: hex('batch 5'), treeSize: 40, prevRoot: roots[1] as string }),
    );
    assertChaincodeRefusal(skipped, 'CHAIN_MISMATCH');
    assert.match((skipped as ChaincodeError).chaincodeMessage, /head is batch "b3"/);
    assert.deepEqual(
      await org1.anchorBatch({
        stream,
        batchId: 'b2',
        root: roots[1] as string,
        treeSize: 16,
        prevRoot: roots[0] as string,
        meta: { first: 8 },
      }),
      withoutBlock(batches[1]!),
      'a retried batch returns the stored record (and no block: the retry did not create it)',
    );
    assertChaincodeRefusal(
      await rejection(org1.anchorBatch({ stream, batchId: 'b2', root: hex('other'), treeSize: 16, prevRoot: roots[0] as string })),
      'CONFLICT',
    );

    const key = `Org1MSP/alerts/${unique('alert')}`;
    const cid = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
    const created = await org1.anchorRecord({ key, sha256: hex('alert'), cid, meta: { severity: 'high' } });
    assert.match(created.block ?? '', /^\d+$/);
    const record = withoutBlock(created);
    assert.deepEqual(await org1.anchorRecord({ key, sha256: hex('alert'), cid, meta: { severity: 'high' } }), record);
    assertChaincodeRefusal(await rejection(org1.anchorRecord({ key, sha256: hex('forged') })), 'CONFLICT');
    assert.deepEqual(await org2.getRecord(key), record);
  });

  it("refuses Org2 writes to Org1's device, hash key and stream in the contract", async () => {
    const { org1, org2 } = target();
    const deviceId = `${TENANT}:${unique('owned')}`;
    const key = `Org1MSP/ids/${unique('owned')}`;
    const stream = `Org1MSP/${unique('owned')}`;
    await org1.registerDevice({ tenant: TENANT, deviceId });
    await org1.initHash(key);
    await org1.anchorBatch({ stream, batchId: 'b1', root: hex('owned 1'), treeSize: 1, prevRoot: GENESIS_ROOT });

    assertChaincodeRefusal(await rejection(org2.registerDevice({ tenant: TENANT, deviceId })), 'ALREADY_EXISTS');
    assertChaincodeRefusal(
      await rejection(org2.setCredentials({ tenant: TENANT, deviceId, authId: 'evil', password: 'evil-password' })),
      'FORBIDDEN',
    );
    assertChaincodeRefusal(await rejection(org2.getCredentials(TENANT, deviceId)), 'FORBIDDEN');
    assertChaincodeRefusal(
      await rejection(org2.publishTelemetry({ tenant: TENANT, thingId: deviceId, command: twinCommand(deviceId, 1) })),
      'FORBIDDEN',
    );
    assertChaincodeRefusal(await rejection(org2.updateHash({ key, sha256: hex('forged') })), 'FORBIDDEN');
    assertChaincodeRefusal(
      await rejection(org2.anchorBatch({ stream, batchId: 'b2', root: hex('forged'), treeSize: 2, prevRoot: hex('owned 1') })),
      'FORBIDDEN',
    );
    assert.equal((await org1.getHead(stream)).seq, 1);
  });

  it('resumes chaincode events from a file checkpoint across a client restart', async () => {
    const { org1, client, tempDir } = target();
    const checkpoint = join(tempDir(), 'events.json');
    const key = `Org1MSP/events/${unique('key')}`;
    const startBlock = await org1.getChainHeight();
    await org1.initHash(key);
    const versions = async (from: number, to: number) => {
      for (let v = from; v <= to; v += 1) await org1.updateHash({ key, sha256: hex(`v${v}`) });
    };
    await versions(1, 3);
    const mine = (event: LedgerEvent) => (JSON.parse(Buffer.from(event.payload).toString()) as { key: string }).key === key;
    const version = (event: LedgerEvent) => (JSON.parse(Buffer.from(event.payload).toString()) as { version: number }).version;

    const first = client('Org1MSP');
    const seen: number[] = [];
    for await (const event of first.events({ checkpoint, startBlock, names: ['HashUpdated'] })) {
      if (!mine(event)) continue;
      seen.push(version(event));
      if (seen.length === 2) break; // the second event's loop body did not finish: it is not checkpointed
    }
    await first.close();
    assert.deepEqual(seen, [1, 2]);

    await versions(4, 5);
    const second = client('Org1MSP');
    const resumed: Array<{ version: number; block: bigint }> = [];
    for await (const event of second.events({ checkpoint, names: ['HashUpdated'] })) {
      if (!mine(event)) continue;
      resumed.push({ version: version(event), block: event.blockNumber });
      if (resumed.length === 4) break;
    }
    assert.deepEqual(
      resumed.map((r) => r.version),
      [2, 3, 4, 5],
      'the unfinished event again, then the rest, nothing twice',
    );
    assert.ok(resumed.every((r) => r.block >= startBlock));
  });

  it('concurrent creators of the same device, hash key, stream and record all end with the stored record', async () => {
    const { org1, client } = target();
    const logger = new RecordingLogger();
    const clients = Array.from({ length: 8 }, () => client('Org1MSP', logger));
    const deviceId = `${TENANT}:${unique('raced')}`;
    const key = `Org1MSP/ids/${unique('raced')}`;
    const stream = `Org1MSP/${unique('raced')}`;
    const recordKey = `Org1MSP/alerts/${unique('raced')}`;
    const results = await Promise.all([
      Promise.all(clients.map((c) => c.registerDevice({ tenant: TENANT, deviceId }))),
      Promise.all(clients.map((c) => c.initHash(key))),
      Promise.all(clients.map((c) => c.anchorBatch({ stream, batchId: 'b1', root: hex('raced'), treeSize: 4, prevRoot: GENESIS_ROOT }))),
      Promise.all(clients.map((c) => c.anchorRecord({ key: recordKey, sha256: hex('raced record') }))),
    ]);
    for (const outcomes of results) {
      assert.equal(new Set(outcomes.map((outcome) => outcome.txId)).size, 1, 'every creator got the one stored record');
    }
    assert.deepEqual(await org1.getDevice(TENANT, deviceId), results[0][0]);
    assert.deepEqual(await org1.queryHash(key), results[1][0]);
    assert.deepEqual(await org1.getBatch(stream, 'b1'), withoutBlock(results[2][0]!));
    assert.deepEqual(await org1.getRecord(recordKey), withoutBlock(results[3][0]!));
    assert.equal(results[2].filter((outcome) => outcome.block !== undefined).length, 1, 'only the creator knows the block');
    const raced = logger.warnings.filter((warning) => /lost a create race/.test(warning.message));
    assert.ok(raced.length > 0, 'the creations raced in one block at least once (otherwise this test proved nothing)');
  });

  it('a concurrent creator with other content or of another organisation gets a typed refusal, never an unexplained policy failure', async () => {
    const { org1, client } = target();
    const logger = new RecordingLogger();
    const org1Clients = Array.from({ length: 4 }, () => client('Org1MSP', logger));
    const org2Clients = Array.from({ length: 4 }, () => client('Org2MSP', logger));
    const deviceId = `${TENANT}:${unique('contested')}`;
    const stream = `shared/${unique('contested')}`;
    const settled = await Promise.all([
      Promise.allSettled([...org1Clients, ...org2Clients].map((c) => c.registerDevice({ tenant: TENANT, deviceId }))),
      Promise.allSettled(
        org1Clients.map((c, i) =>
          c.anchorBatch({ stream, batchId: 'b1', root: hex(i % 2 === 0 ? 'root A' : 'root B'), treeSize: 4, prevRoot: GENESIS_ROOT }),
        ),
      ),
      Promise.allSettled(
        org1Clients.map((c, i) =>
          c.anchorBatch({ stream: `${stream}-ids`, batchId: `b-${i}`, root: hex(`root ${i}`), treeSize: 4, prevRoot: GENESIS_ROOT }),
        ),
      ),
    ]);
    const [devices, sameId, otherIds] = settled;
    const owner = (await org1.getDevice(TENANT, deviceId))?.owner;
    for (const outcome of devices) {
      if (outcome.status === 'fulfilled') assert.equal(outcome.value.owner, owner);
      else assertChaincodeRefusal(outcome.reason, 'ALREADY_EXISTS');
    }
    assert.ok(
      devices.some((o) => o.status === 'rejected'),
      'the organisation that lost was told',
    );
    const stored = await org1.getBatch(stream, 'b1');
    for (const outcome of sameId) {
      if (outcome.status === 'fulfilled') assert.deepEqual(withoutBlock(outcome.value), stored);
      else assertChaincodeRefusal(outcome.reason, 'CONFLICT');
    }
    assert.equal(otherIds.filter((o) => o.status === 'fulfilled').length, 1, 'one first batch per stream');
    for (const outcome of otherIds) if (outcome.status === 'rejected') assertChaincodeRefusal(outcome.reason, 'CHAIN_MISMATCH');
    for (const outcome of [...devices, ...sameId, ...otherIds]) {
      if (outcome.status === 'rejected')
        assert.ok(!(outcome.reason instanceof CommitError), `no CommitError surfaces: ${String(outcome.reason)}`);
    }
  });
}
