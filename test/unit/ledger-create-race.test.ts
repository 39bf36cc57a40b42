/**
 * FabricLedger and the create race: on a real Fabric peer, two transactions that create the same key (and set
 * its key-level endorsement policy) in one block end with the later one invalid as ENDORSEMENT_POLICY_FAILURE,
 * not MVCC_READ_CONFLICT. The fake block ledger validates blocks the same way; see test/support/fake-block-ledger.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogFields, Logger } from '../../src/core/index.js';
import { ChaincodeError, CommitError, FabricLedger, GENESIS_ROOT } from '../../src/ledger/index.js';
import { ChaincodeRefusal, type FakeChaincode, FakeBlockLedger, type SimulationView } from '../support/fake-block-ledger.js';

const ROOT = 'a'.repeat(64);
const OTHER_ROOT = 'b'.repeat(64);
const DIGEST = 'c'.repeat(64);

/** The TwinLedger contract's create-once rules, reduced to what the race is about. */
function createOnce(view: SimulationView, key: string, content: Record<string, unknown>, otherOwner: 'ALREADY_EXISTS' | 'CONFLICT') {
  const existing = view.read(key);
  if (existing !== undefined) {
    const stored = JSON.parse(existing) as Record<string, unknown>;
    const same = Object.entries(content).every(([name, value]) => JSON.stringify(stored[name]) === JSON.stringify(value));
    if (stored.owner === view.caller && same) return { result: stored };
    throw new ChaincodeRefusal(otherOwner, `${key} already exists (owner ${String(stored.owner)})`);
  }
  const record = { ...content, owner: view.caller, txId: view.txId };
  return { result: record, writes: { [key]: JSON.stringify(record) }, policies: { [key]: view.caller } };
}

const chaincode: FakeChaincode = (name, args, view) => {
  switch (name) {
    case 'RegisterDevice':
      return createOnce(view, `device/${args[0]}/${args[1]}`, { tenant: args[0], deviceId: args[1] }, 'ALREADY_EXISTS');
    case 'InitHash':
      return createOnce(view, `hash/${args[0]}`, { key: args[0], version: 0 }, 'ALREADY_EXISTS');
    case 'AnchorRecord':
      return createOnce(view, `record/${args[0]}`, { key: args[0], sha256: args[1] }, 'CONFLICT');
    case 'AnchorBatch': {
      const [stream, batchId, root, , prevRoot] = args as [string, string, string, string, string];
      const existing = view.read(`batch/${stream}/${batchId}`);
      if (existing !== undefined) {
        const stored = JSON.parse(existing) as { root: string };
        if (stored.root !== root) throw new ChaincodeRefusal('CONFLICT', `batch ${batchId} has root ${stored.root}`);
        return { result: stored };
      }
      const head = JSON.parse(view.read(`head/${stream}`) ?? `{"root":"${GENESIS_ROOT}","seq":0}`) as { root: string; seq: number };
      if (head.root !== prevRoot) throw new ChaincodeRefusal('CHAIN_MISMATCH', `prevRoot ${prevRoot} is not the head ${head.root}`);
      const record = { stream, batchId, root, seq: head.seq + 1, owner: view.caller, txId: view.txId };
      return {
        result: record,
        writes: { [`batch/${stream}/${batchId}`]: JSON.stringify(record), [`head/${stream}`]: JSON.stringify({ root, seq: record.seq }) },
        ...(head.seq === 0 ? { policies: { [`head/${stream}`]: view.caller } } : {}),
      };
    }
    case 'UpdateHash': {
      const stored = JSON.parse(view.read(`hash/${args[0]}`) ?? 'null') as { version: number } | null;
      if (!stored) throw new ChaincodeRefusal('NOT_FOUND', `hash ${args[0]}`);
      const record = { ...stored, version: stored.version + 1, txId: view.txId };
      return { result: record, writes: { [`hash/${args[0]}`]: JSON.stringify(record) } };
    }
    default:
      throw new Error(`fake chaincode has no ${name}`);
  }
};

/** Org2's peers skip every ownership check: what a dishonest organisation could run. */
const rogue: FakeChaincode = (name, args, view) => {
  if (view.caller !== 'Org2MSP' || (name !== 'AnchorRecord' && name !== 'UpdateHash')) return chaincode(name, args, view);
  const key = name === 'AnchorRecord' ? `record/${args[0]}` : `hash/${args[0]}`;
  view.read(key);
  const record = { key: args[0], sha256: args[1], owner: view.caller, txId: view.txId };
  return { result: record, writes: { [key]: JSON.stringify(record) } };
};

class Warnings implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(): void {}
  error(): void {}
  warn(message: string, fields?: LogFields): void {
    this.lines.push(`${message} ${JSON.stringify(fields)}`);
  }
}

function clients(ledger: FakeBlockLedger, count: number, mspId = 'Org1MSP', logger?: Logger): FabricLedger[] {
  return Array.from(
    { length: count },
    () => new FabricLedger(ledger.network(mspId), { channel: 'ch', chaincode: 'twinledger', mspId, ...(logger ? { logger } : {}) }),
  );
}

describe('FabricLedger: concurrent creators of the same key', () => {
  it('the fake validates like the peer: same-block creators lose with ENDORSEMENT_POLICY_FAILURE, later ones with MVCC_READ_CONFLICT', async () => {
    const ledger = new FakeBlockLedger(chaincode);
    const network = ledger.network('Org1MSP');
    const contract = network.getContract('twinledger');
    const endorsed = await Promise.all([1, 2, 3].map(() => contract.newProposal('InitHash', { arguments: ['k'] }).endorse()));
    const statuses = await Promise.all(endorsed.map(async (transaction) => (await transaction.submit()).getStatus()));
    assert.deepEqual(
      statuses.map((s) => s.code),
      [0, 10, 10],
    );
    const late = await contract.newProposal('UpdateHash', { arguments: ['k', DIGEST] }).endorse();
    const racing = await contract.newProposal('UpdateHash', { arguments: ['k', DIGEST] }).endorse();
    assert.equal((await (await late.submit()).getStatus()).code, 0);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal((await (await racing.submit()).getStatus()).code, 11, 'in a later block: an ordinary read conflict');
  });

  for (const [label, call] of [
    ['registerDevice', (l: FabricLedger) => l.registerDevice({ tenant: 'org.acme', deviceId: 'org.acme:lamp-1' })],
    ['initHash', (l: FabricLedger) => l.initHash('Org1MSP/ids/node-1')],
    ['anchorBatch', (l: FabricLedger) => l.anchorBatch({ stream: 's', batchId: 'b1', root: ROOT, treeSize: 4, prevRoot: GENESIS_ROOT })],
    ['anchorRecord', (l: FabricLedger) => l.anchorRecord({ key: 'alert-1', sha256: DIGEST })],
  ] as const) {
    it(`${label}: six clients at once all resolve with the one stored record`, async () => {
      const ledger = new FakeBlockLedger(chaincode);
      const warnings = new Warnings();
      const results = await Promise.all(clients(ledger, 6, 'Org1MSP', warnings).map((client) => call(client)));
      assert.equal(new Set(results.map((r) => r.txId)).size, 1);
      assert.equal(ledger.codes().filter((code) => code === 10).length, 5, 'five creators lost the race in the first block');
      assert.equal(warnings.lines.filter((line) => line.includes('lost a create race')).length, 5);
    });
  }

  it('a racing creator with other content, or of another organisation, gets the typed refusal', async () => {
    const ledger = new FakeBlockLedger(chaincode);
    const settled = await Promise.allSettled([
      ...clients(ledger, 3).map((client) =>
        client.anchorBatch({ stream: 's', batchId: 'b1', root: ROOT, treeSize: 4, prevRoot: GENESIS_ROOT }),
      ),
      ...clients(ledger, 3).map((client) =>
        client.anchorBatch({ stream: 's', batchId: 'b1', root: OTHER_ROOT, treeSize: 4, prevRoot: GENESIS_ROOT }),
      ),
      ...clients(ledger, 2, 'Org2MSP').map((client) => client.registerDevice({ tenant: 'org.acme', deviceId: 'org.acme:lamp-9' })),
      ...clients(ledger, 2).map((client) => client.registerDevice({ tenant: 'org.acme', deviceId: 'org.acme:lamp-9' })),
    ]);
    const refusals = settled
      .filter((outcome) => outcome.status === 'rejected')
      .map((outcome) => (outcome as PromiseRejectedResult).reason as unknown);
    assert.equal(refusals.length, 5, 'three batches with the losing root, two devices of the losing organisation');
    for (const refusal of refusals) {
      assert.ok(refusal instanceof ChaincodeError, `typed refusal, not ${String(refusal)}`);
      assert.ok(['CONFLICT', 'ALREADY_EXISTS'].includes(refusal.reason));
    }
  });

  it('a real policy failure of a create transaction is run once more, then reported as such', async () => {
    const ledger = new FakeBlockLedger(rogue);
    const [owner] = clients(ledger, 1, 'Org1MSP');
    await owner!.anchorRecord({ key: 'alert-7', sha256: DIGEST });
    const [intruder] = clients(ledger, 1, 'Org2MSP');
    await assert.rejects(intruder!.anchorRecord({ key: 'alert-7', sha256: OTHER_ROOT }), (error: unknown) => {
      assert.ok(error instanceof CommitError);
      assert.equal(error.statusName, 'ENDORSEMENT_POLICY_FAILURE');
      assert.match(error.hint ?? '', /not a lost create race/);
      return true;
    });
    assert.deepEqual(ledger.codes(), [0, 10, 10], 'the original and exactly one re-run');
  });

  it('a policy failure of a transaction that creates nothing is not run again', async () => {
    const ledger = new FakeBlockLedger(rogue);
    const [owner] = clients(ledger, 1, 'Org1MSP');
    await owner!.initHash('Org1MSP/k');
    const [intruder] = clients(ledger, 1, 'Org2MSP');
    await assert.rejects(
      intruder!.updateHash({ key: 'Org1MSP/k', sha256: DIGEST }),
      (error: unknown) => error instanceof CommitError && error.validationCode === 10,
    );
    assert.deepEqual(ledger.codes(), [0, 10]);
  });
});
