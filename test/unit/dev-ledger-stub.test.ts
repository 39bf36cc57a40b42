/**
 * DevLedger's stub and validation against Fabric's rules, each with a small chaincode of its own run on DevLedger's
 * node (the same stub, orderer, validation and commit the TwinLedger chaincode runs on): reads during simulation,
 * range and partial-composite-key order and phantom reads, pagination, key history with deletes, private data and
 * transient data, key-level endorsement policies, events.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { common, msp } from '@hyperledger/fabric-protos';
import { silentLogger } from '../../src/core/logger.js';
import type { ChaincodeRuntime } from '../../src/ledger/dev/chaincode.js';
import { type CommitStatus, DevNode, type Endorsed } from '../../src/ledger/dev/node.js';
import type { DevStub } from '../../src/ledger/dev/stub.js';

type Handler = (stub: DevStub, args: string[]) => unknown;

/** A chaincode of plain functions: the result is JSON, a throw is a 500 with the message (as fabric-shim answers). */
function chaincode(handlers: Record<string, Handler>): ChaincodeRuntime {
  return {
    version: 'test',
    async invoke(stub) {
      const { fcn, params } = (stub as DevStub).getFunctionAndParameters();
      const handler = handlers[fcn];
      if (!handler) return { status: 500, message: `no function ${fcn}` };
      try {
        return { status: 200, payload: Buffer.from(JSON.stringify((await handler(stub as DevStub, params)) ?? null)) };
      } catch (error) {
        return { status: 500, message: (error as Error).message };
      }
    },
  };
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Handlers most tests share. */
const BASIC: Record<string, Handler> = {
  Put: async (stub, [key = '', value = '']) => stub.putState(key, Buffer.from(value)),
  Delete: async (stub, [key = '']) => stub.deleteState(key),
  Get: async (stub, [key = '']) => text(await stub.getState(key)),
  PutComposite: async (stub, [type = '', ...attributes]) => stub.putState(stub.createCompositeKey(type, attributes), Buffer.from('v')),
  DeleteComposite: async (stub, [type = '', ...attributes]) => stub.deleteState(stub.createCompositeKey(type, attributes)),
  ReadPut: async (stub, [key = '', value = '']) => {
    await stub.getState(key);
    await stub.putState(key, Buffer.from(value));
  },
  Range: async (stub, [start = '', end = '', write = '']) => {
    const keys = (await drain(stub.getStateByRange(start, end))).map((kv) => kv.key);
    if (write) await stub.putState(write, Buffer.from(String(keys.length)));
    return keys;
  },
  Partial: async (stub, [type = '', write = '', ...attributes]) => {
    const keys = (await drain(stub.getStateByPartialCompositeKey(type, attributes))).map((kv) => stub.splitCompositeKey(kv.key).attributes);
    if (write) await stub.putState(write, Buffer.from(String(keys.length)));
    return keys;
  },
  History: async (stub, [key = '']) =>
    (await drain(stub.getHistoryForKey(key))).map((m) => ({
      txId: m.txId,
      isDelete: m.isDelete,
      value: text(m.value),
      seconds: m.timestamp.seconds.toNumber(),
      nanos: m.timestamp.nanos,
    })),
  SetPolicy: async (stub, [key = '', hex = '']) => stub.setStateValidationParameter(key, Buffer.from(hex, 'hex')),
};

/** A SignaturePolicyEnvelope: `n` out of the ROLE principals, as a validation parameter. */
function signaturePolicy(
  n: number,
  principals: Array<[mspId: string, role: msp.MSPRole.MSPRoleTypeMap[keyof msp.MSPRole.MSPRoleTypeMap]]>,
): string {
  const envelope = new common.SignaturePolicyEnvelope();
  envelope.setVersion(0);
  envelope.setIdentitiesList(
    principals.map(([mspId, role]) => {
      const mspRole = new msp.MSPRole();
      mspRole.setMspIdentifier(mspId);
      mspRole.setRole(role);
      const principal = new msp.MSPPrincipal();
      principal.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
      principal.setPrincipal(mspRole.serializeBinary());
      return principal;
    }),
  );
  const nOutOf = new common.SignaturePolicy.NOutOf();
  nOutOf.setN(n);
  nOutOf.setRulesList(
    principals.map((_, index) => {
      const signedBy = new common.SignaturePolicy();
      signedBy.setSignedBy(index);
      return signedBy;
    }),
  );
  const rule = new common.SignaturePolicy();
  rule.setNOutOf(nOutOf);
  envelope.setRule(rule);
  return Buffer.from(envelope.serializeBinary()).toString('hex');
}
const { PEER, ADMIN } = msp.MSPRole.MSPRoleType;

interface Call {
  as?: string;
  endorsers?: string[];
  transient?: Record<string, string>;
}

class TestNode {
  constructor(readonly node: DevNode) {}

  async endorse(fn: string, args: string[] = [], call: Call = {}): Promise<Endorsed> {
    const as = call.as ?? 'Org1MSP';
    const proposal = this.node.newProposal({
      creator: as,
      endorsers: call.endorsers ?? [as],
      function: fn,
      args,
      transient: new Map(Object.entries(call.transient ?? {}).map(([key, value]) => [key, Buffer.from(value)])),
    });
    const endorsed = await this.node.endorse(proposal);
    if (endorsed.failure) throw new Error(`${fn}: ${endorsed.failure.message}`);
    return endorsed;
  }

  /** Endorses and commits; resolves with the result and the commit status. */
  async submit(fn: string, args: string[] = [], call: Call = {}): Promise<{ result: unknown; status: CommitStatus; endorsed: Endorsed }> {
    const endorsed = await this.endorse(fn, args, call);
    const status = await this.node.submit(endorsed);
    return { result: JSON.parse(text(endorsed.response.payload ?? Buffer.from('null'))), status, endorsed };
  }

  /** Commits endorsed transactions in one block (submitted together, within the block timeout), in this order. */
  async oneBlock(transactions: Endorsed[]): Promise<number[]> {
    const statuses = await Promise.all(transactions.map((endorsed) => this.node.submit(endorsed)));
    assert.equal(new Set(statuses.map((status) => status.blockNumber)).size, 1, 'one block');
    return statuses.map((status) => status.code);
  }

  async evaluate(fn: string, args: string[] = [], call: Call = {}): Promise<{ status: number; message: string; result: unknown }> {
    const as = call.as ?? 'Org1MSP';
    const response = await this.node.evaluate(
      this.node.newProposal({ creator: as, endorsers: call.endorsers ?? [as], function: fn, args, transient: new Map() }),
    );
    const result = response.status === 200 ? (JSON.parse(text(response.payload ?? Buffer.from('null'))) as unknown) : undefined;
    return { status: response.status, message: response.message ?? '', result };
  }
}

const VALID = 0;
const ENDORSEMENT_POLICY_FAILURE = 10;
const MVCC_READ_CONFLICT = 11;
const PHANTOM_READ_CONFLICT = 12;

describe('DevLedger stub and validation: Fabric semantics, each shown with a chaincode of its own', () => {
  const dirs: string[] = [];
  const nodes: DevNode[] = [];
  after(async () => {
    for (const node of nodes) await node.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A node running `handlers`; transactions submitted within 30 ms share a block. */
  async function open(handlers: Record<string, Handler>): Promise<TestNode> {
    const dir = mkdtempSync(join(tmpdir(), 'twinledger-dev-stub-'));
    dirs.push(dir);
    const node = await DevNode.open({
      directory: join(dir, 'ledger'),
      channel: 'twinledger',
      chaincode: 'twinledger',
      organizations: ['Org1MSP', 'Org2MSP'],
      maxTransactions: 100,
      blockTimeoutMs: 30,
      logger: silentLogger,
      runtime: chaincode({ ...BASIC, ...handlers }),
    });
    nodes.push(node);
    return new TestNode(node);
  }

  it("GetState sees committed state only, never the transaction's own writes; the read set records the committed version", async () => {
    const t = await open({
      WriteThenRead: async (stub, [key = '', value = '']) => {
        const before = text(await stub.getState(key));
        await stub.putState(key, Buffer.from(value));
        const after = text(await stub.getState(key));
        await stub.deleteState(key);
        const afterDelete = text(await stub.getState(key));
        return { before, after, afterDelete };
      },
    });
    assert.deepEqual((await t.submit('WriteThenRead', ['k', 'first'])).result, { before: '', after: '', afterDelete: '' });
    await t.submit('Put', ['k', 'committed']);
    const { result, endorsed, status } = await t.submit('WriteThenRead', ['k', 'second']);
    assert.deepEqual(result, { before: 'committed', after: 'committed', afterDelete: 'committed' });
    assert.equal(status.code, VALID);
    assert.deepEqual([...endorsed.simulation.publicReads()], [['k', { block: 2, tx: 0 }]], 'one read, of the committed version');
    assert.deepEqual(endorsed.simulation.rwset().writes, [{ key: 'k', isDelete: true }], 'the last write of a key counts');
  });

  it('GetStateByRange and GetStateByPartialCompositeKey return keys in byte order (UTF-8), simple and composite keys apart', async () => {
    const t = await open({});
    // U+FFFD sorts before U+1F600 in UTF-8 (EF BF BD < F0 9F 98 80) but after it in JavaScript's UTF-16 order.
    const simple = ['b', 'a\u{1F600}', 'a', 'B', 'a\uFFFD', 'a\u00e9'];
    for (const key of simple) await t.submit('Put', [key, 'v']);
    for (const attributes of [
      ['x', '2'],
      ['x', '10'],
      ['y', '1'],
      ['x', '1'],
      ['x', '\u{1F600}'],
      ['x', '\uFFFD'],
    ]) {
      await t.submit('PutComposite', ['item', ...attributes]);
    }
    const expected = ['B', 'a', 'a\u00e9', 'a\uFFFD', 'a\u{1F600}', 'b'];
    assert.deepEqual((await t.evaluate('Range', ['', ''])).result, expected, 'no composite key in a simple range');
    assert.deepEqual((await t.evaluate('Range', ['a', 'b'])).result, expected.slice(1, 5), '[start, end)');
    assert.deepEqual((await t.evaluate('Partial', ['item', '', 'x'])).result, [
      ['x', '1'],
      ['x', '10'],
      ['x', '2'],
      ['x', '\uFFFD'],
      ['x', '\u{1F600}'],
    ]);
    // A transaction that read those ranges, with nothing changed since: VALID, not a phantom read.
    assert.equal((await t.submit('Range', ['', '', 'count'])).status.code, VALID);
    assert.equal((await t.submit('Partial', ['item', 'count', 'x'])).status.code, VALID);
  });

  it('re-executes range and partial-composite-key queries at commit: an insert, update or delete in the range is PHANTOM_READ_CONFLICT', async () => {
    const t = await open({});
    await t.oneBlock([await t.endorse('PutComposite', ['item', 'x', '1']), await t.endorse('PutComposite', ['item', 'y', '1'])]);
    const cases: Array<[string, string[], number]> = [
      ['PutComposite', ['item', 'x', '2'], PHANTOM_READ_CONFLICT], // an insert
      ['PutComposite', ['item', 'y', '2'], VALID], // outside the range
      ['PutComposite', ['item', 'x', '1'], PHANTOM_READ_CONFLICT], // an update: a new version
      ['DeleteComposite', ['item', 'x', '2'], PHANTOM_READ_CONFLICT], // a delete
    ];
    for (const [fn, args, expected] of cases) {
      // The reader writes "count" without reading it: only its range query can conflict.
      const reader = await t.endorse('Partial', ['item', 'count', 'x']);
      assert.deepEqual(
        await t.oneBlock([await t.endorse(fn, args), reader]),
        [VALID, expected],
        `${fn} ${args.join(' ')} earlier in the block`,
      );
    }
    // A change committed in an earlier block.
    const stale = await t.endorse('Range', ['', '', 'summary']);
    await t.submit('Put', ['new', 'v']);
    assert.equal((await t.node.submit(stale)).code, PHANTOM_READ_CONFLICT);
  });

  it('validates a transaction as a peer does: public reads, then range queries, then private reads', async () => {
    const t = await open({
      ReadAll: async (stub) => {
        await stub.getPrivateData('Org1MSPPrivateCollection', 'p');
        await drain(stub.getStateByRange('r', 's'));
        await stub.getState('k');
        await stub.putState('out', Buffer.from('x'));
      },
      PutPrivate: async (stub) => stub.putPrivateData('Org1MSPPrivateCollection', 'p', Buffer.from('v')),
    });
    const stale = await t.endorse('ReadAll');
    const privateChange = await t.endorse('PutPrivate');
    const rangeChange = await t.endorse('Put', ['r1', 'v']);
    assert.deepEqual(await t.oneBlock([privateChange, rangeChange, stale]), [VALID, VALID, PHANTOM_READ_CONFLICT]);
  });

  it('paginated queries: a page and its bookmark, only in read-only transactions, recorded up to the last key returned', async () => {
    const t = await open({
      Page: async (stub, [bookmark = '', write = '']) => {
        if (write) await stub.putState(write, Buffer.from('x'));
        const { iterator, metadata } = await stub.getStateByRangeWithPagination('k', 'l', 2, bookmark);
        return { keys: (await drain(iterator)).map((kv) => kv.key), bookmark: metadata.bookmark, count: metadata.fetchedRecordsCount };
      },
      PageThenWrite: async (stub) => {
        await stub.getStateByPartialCompositeKeyWithPagination('item', [], 1, '');
        await stub.putState('w', Buffer.from('x'));
      },
    });
    for (const key of ['k1', 'k3', 'k5']) await t.submit('Put', [key, 'v']);
    assert.deepEqual((await t.evaluate('Page')).result, { keys: ['k1', 'k3'], bookmark: 'k5', count: 2 });
    assert.deepEqual((await t.evaluate('Page', ['k5'])).result, { keys: ['k5'], bookmark: '', count: 1 });
    assert.match((await t.evaluate('Page', ['', 'w'])).message, /Paginated queries are supported only in a read-only transaction/);
    assert.match((await t.evaluate('PageThenWrite')).message, /already performed a paginated query\. Writes are not allowed/);

    // The first page covers [k, k3]: an insert after it is no phantom for that page, one inside it is.
    const page = await t.endorse('Page');
    assert.deepEqual(
      page.simulation.rwset().ranges.map((range) => [range.start, range.end]),
      [['k', 'k3\u0000']],
    );
    assert.deepEqual(await t.oneBlock([await t.endorse('Put', ['k4', 'v']), page]), [VALID, VALID]);
    const again = await t.endorse('Page');
    assert.deepEqual(await t.oneBlock([await t.endorse('Put', ['k2', 'v']), again]), [VALID, PHANTOM_READ_CONFLICT]);
  });

  it('GetHistoryForKey: every committed change newest first, deletes included, with transaction IDs and timestamps', async () => {
    const t = await open({});
    const steps = [await t.submit('Put', ['h', 'v1']), await t.submit('Put', ['h', 'v2']), await t.submit('Delete', ['h'])];
    const loser = await t.endorse('ReadPut', ['h', 'lost']);
    steps.push(await t.submit('Put', ['h', 'v3']));
    assert.equal((await t.node.submit(loser)).code, MVCC_READ_CONFLICT, 'an invalid transaction changes no history');
    const history = (await t.evaluate('History', ['h'])).result;
    assert.deepEqual(
      history,
      steps.reverse().map(({ endorsed }, index) => ({
        txId: endorsed.txId,
        isDelete: index === 1,
        value: ['v3', '', 'v2', 'v1'][index],
        seconds: endorsed.proposal.timestamp.seconds,
        nanos: endorsed.proposal.timestamp.nanos,
      })),
    );
    assert.equal((await t.evaluate('Get', ['h'])).result, 'v3');
    assert.deepEqual((await t.evaluate('History', ['nothing'])).result, []);
  });

  it('deleteState removes the key: the block records a delete, the state row is gone, reads return nothing', async () => {
    const t = await open({});
    await t.submit('Put', ['gone', 'v']);
    const { status } = await t.submit('Delete', ['gone']);
    const block = t.node.block(status.blockNumber);
    assert.deepEqual(block?.data.transactions[0]?.rwset.writes, [{ key: 'gone', isDelete: true }]);
    assert.equal(t.node.store.getState('gone'), undefined);
    assert.equal((await t.evaluate('Get', ['gone'])).result, '');
    assert.deepEqual((await t.evaluate('Range', ['', ''])).result, []);
    assert.equal(t.node.verifyNow().stateKeys, 0);
  });

  it('private data: transient data reaches the chaincode, only hashes go into the block, hashes are readable by non-members', async () => {
    const collection = 'Org1MSPPrivateCollection';
    const t = await open({
      PutSecret: async (stub, [key = '']) => {
        const transient = stub.getTransient();
        await stub.putPrivateData(collection, key, transient.get('secret') ?? Buffer.alloc(0));
        await stub.putState(`public-${key}`, Buffer.from('set'));
        return [...transient.keys()].sort();
      },
      GetSecret: async (stub, [key = '']) => text(await stub.getPrivateData(collection, key)),
      GetHash: async (stub, [key = '']) => Buffer.from(await stub.getPrivateDataHash(collection, key)).toString('hex'),
    });
    const secret = 'the-secret-VALUE-4711';
    const { result, status, endorsed } = await t.submit('PutSecret', ['s1'], { transient: { secret, other: 'x' } });
    assert.deepEqual(result, ['other', 'secret'], 'the transient map reached the chaincode');
    assert.equal(status.code, VALID);

    const stored = t.node.block(status.blockNumber)?.data.transactions[0];
    assert.deepEqual(
      stored?.rwset.writes.map((write) => write.key),
      ['public-s1'],
      'the private write is not in the public write set',
    );
    assert.deepEqual(stored?.rwset.collections, [
      { collection, reads: [], writes: [{ keyHash: sha256('s1'), valueHash: sha256(secret) }] },
    ]);
    const blockBytes = readFileSync(join(t.node.directory, 'ledger.mdb'));
    for (const form of [secret, Buffer.from(secret).toString('base64')]) {
      assert.ok(!blockBytes.includes(form), `the secret (${form}) is nowhere in the block log's file`);
    }
    assert.ok(!JSON.stringify(stored).includes(secret) && endorsed.envelope.indexOf(secret) < 0);
    assert.ok(readFileSync(join(t.node.directory, 'private.mdb')).includes(secret), 'it is in the private data store');

    assert.equal((await t.evaluate('GetSecret', ['s1'])).result, secret);
    assert.equal((await t.evaluate('GetHash', ['s1'], { as: 'Org2MSP' })).result, sha256(secret), 'the hash, also for a non-member');
    assert.equal((await t.evaluate('GetHash', ['nothing'], { as: 'Org2MSP' })).result, '');
    assert.match((await t.evaluate('GetSecret', ['s1'], { as: 'Org2MSP' })).message, /does not have read access permission/);
    assert.match(
      (await t.evaluate('GetSecret', ['s1'], { endorsers: ['Org2MSP'] })).message,
      /private data matching public hash version is not available/,
      'a peer outside the collection has the hash, not the value',
    );
    // A peer outside the collection may simulate the write (it computes the hashes) ...
    const foreignEndorser = await t.endorse('PutSecret', ['s2'], { endorsers: ['Org2MSP'], transient: { secret: 'x' } });
    assert.equal(
      (await t.node.submit(foreignEndorser)).code,
      ENDORSEMENT_POLICY_FAILURE,
      "but the collection's policy needs a member peer",
    );
  });

  it('key-level endorsement: the validation parameter is evaluated as a signature policy against the endorsing peers', async () => {
    const t = await open({
      PutWithPolicy: async (stub, [key = '', hex = '']) => {
        await stub.putState(key, Buffer.from('created'));
        await stub.setStateValidationParameter(key, Buffer.from(hex, 'hex'));
      },
    });
    const both = signaturePolicy(2, [
      ['Org1MSP', PEER],
      ['Org2MSP', PEER],
    ]);
    const either = signaturePolicy(1, [
      ['Org1MSP', PEER],
      ['Org2MSP', PEER],
    ]);
    const admin = signaturePolicy(1, [['Org1MSP', ADMIN]]);
    await t.submit('PutWithPolicy', ['and', both]);
    await t.submit('PutWithPolicy', ['or', either]);
    await t.submit('PutWithPolicy', ['admin', admin]);

    const code = async (key: string, endorsers: string[]) => (await t.submit('Put', [key, 'changed'], { endorsers })).status.code;
    assert.equal(await code('and', ['Org1MSP']), ENDORSEMENT_POLICY_FAILURE, 'AND needs both organisations');
    assert.equal(await code('and', ['Org1MSP', 'Org2MSP']), VALID);
    assert.equal(await code('or', ['Org2MSP']), VALID, 'OR is satisfied by either');
    assert.equal(await code('admin', ['Org1MSP']), ENDORSEMENT_POLICY_FAILURE, "a peer's endorsement is not an admin's");
    // Changing only the policy is checked against the policy in force.
    const org2Only = signaturePolicy(1, [['Org2MSP', PEER]]);
    assert.equal((await t.submit('SetPolicy', ['and', org2Only], { as: 'Org2MSP' })).status.code, ENDORSEMENT_POLICY_FAILURE);
    assert.equal((await t.submit('SetPolicy', ['and', org2Only], { endorsers: ['Org1MSP', 'Org2MSP'] })).status.code, VALID);
    assert.equal(await code('and', ['Org2MSP']), VALID, 'the new policy is in force');
  });

  it('a validation parameter that is not a signature policy invalidates writes to its key (ENDORSEMENT_POLICY_FAILURE), the ledger goes on', async () => {
    const t = await open({});
    await t.submit('Put', ['broken', 'v']);
    assert.equal((await t.submit('SetPolicy', ['broken', 'ff00ff00'])).status.code, VALID);
    assert.equal((await t.submit('Put', ['broken', 'again'])).status.code, ENDORSEMENT_POLICY_FAILURE);
    assert.equal((await t.submit('Put', ['fine', 'v'])).status.code, VALID);
    assert.equal((await t.evaluate('Get', ['broken'])).result, 'v');
  });

  it('the create race: a write to a key whose policy an earlier transaction of the block changes fails endorsement, even if that one fails MVCC', async () => {
    const t = await open({
      Claim: async (stub, [key = '', hex = '']) => {
        await stub.getState(key);
        await stub.putState(key, Buffer.from('claimed'));
        await stub.setStateValidationParameter(key, Buffer.from(hex, 'hex'));
      },
    });
    const org1 = signaturePolicy(1, [['Org1MSP', PEER]]);
    // Two creators in one block: the later one is ENDORSEMENT_POLICY_FAILURE, not MVCC_READ_CONFLICT.
    assert.deepEqual(await t.oneBlock([await t.endorse('Claim', ['new', org1]), await t.endorse('Claim', ['new', org1])]), [
      VALID,
      ENDORSEMENT_POLICY_FAILURE,
    ]);
    // The earlier claim read a stale version (MVCC_READ_CONFLICT at commit), but it passed the endorsement policy check,
    // which runs first for the whole block: the later blind write to the key still fails endorsement, as on a peer.
    await t.submit('Put', ['old', 'v0']);
    const stale = await t.endorse('Claim', ['old', org1]);
    await t.submit('Put', ['old', 'v1']);
    assert.deepEqual(await t.oneBlock([stale, await t.endorse('Put', ['old', 'blind'])]), [MVCC_READ_CONFLICT, ENDORSEMENT_POLICY_FAILURE]);
    assert.equal((await t.evaluate('Get', ['old'])).result, 'v1');
  });

  it('a query the stub refuses fails the chaincode (a 500 with the reason), also when the chaincode only iterates it', async () => {
    const t = await open({
      IterateBadRange: async (stub) => drain(stub.getStateByRange('\u0000composite', '')),
      AwaitBadRange: async (stub) => stub.getStateByRange('\u0000composite', ''),
    });
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      for (const fn of ['IterateBadRange', 'AwaitBadRange']) {
        const { status, message } = await t.evaluate(fn);
        assert.equal(status, 500);
        assert.ok(message.startsWith('first character of the key [\u0000composite] contains a null character'), message);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('unhandledRejection', record);
    }
    assert.deepEqual(unhandled, [], 'no rejection left unhandled');
  });

  it('events: only the last setEvent of a transaction is kept, and a transaction has at most one', async () => {
    const t = await open({
      TwoEvents: (stub) => {
        stub.setEvent('First', Buffer.from('1'));
        stub.setEvent('Second', Buffer.from('2'));
      },
    });
    const { status } = await t.submit('TwoEvents');
    assert.deepEqual(t.node.block(status.blockNumber)?.data.transactions[0]?.event, {
      name: 'Second',
      payload: Buffer.from('2').toString('base64'),
    });
  });
});
