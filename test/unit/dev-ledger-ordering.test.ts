/**
 * DevLedger's orderer and deadlines: blocks are cut by count (Fabric's MaxMessageCount) or by time (BatchTimeout), so
 * concurrent submits share a block; no submit is left waiting; evaluate, endorse and the commit status honour the
 * deadlines and signals `FabricLedger` honours; the submit step (the hand-over to the orderer) cannot wait, so its
 * deadline never expires.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AbortError } from '../../src/core/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { CommitStatusError, EndorsementError, EvaluationError } from '../../src/ledger/index.js';
import { DevLedger, GENESIS_ROOT, ValidationError, noRetry } from '../../src/ledger/dev/index.js';
import type { ChaincodeRuntime } from '../../src/ledger/dev/chaincode.js';
import { DevGateway } from '../../src/ledger/dev/gateway.js';
import { DevNode, type Endorsed } from '../../src/ledger/dev/node.js';
import type { DevStub } from '../../src/ledger/dev/stub.js';
import { hex, rejection, unique } from '../support/ledger-suite.js';

/** Put(key) writes a key; Hang never answers. */
const RUNTIME: ChaincodeRuntime = {
  version: 'test',
  async invoke(stub) {
    const { fcn, params } = (stub as DevStub).getFunctionAndParameters();
    if (fcn === 'Hang') return new Promise(() => undefined);
    await (stub as DevStub).putState(params[0] ?? 'key', Buffer.from('v'));
    return { status: 200, payload: Buffer.from('ok') };
  },
};

/** Rejects when `promise` has not settled after `ms`: a hang fails the test instead of its timeout. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]);
}

describe('DevLedger ordering and deadlines', () => {
  const dirs: string[] = [];
  const closers: Array<() => Promise<void>> = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinledger-dev-order-'));
    dirs.push(dir);
    return join(dir, 'ledger');
  };
  after(async () => {
    for (const close of closers) await close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function node(maxTransactions: number, blockTimeoutMs: number): Promise<DevNode> {
    const opened = await DevNode.open({
      directory: folder(),
      channel: 'twinledger',
      chaincode: 'twinledger',
      organizations: ['Org1MSP'],
      maxTransactions,
      blockTimeoutMs,
      logger: silentLogger,
      runtime: RUNTIME,
    });
    closers.push(() => opened.close());
    return opened;
  }

  const endorse = (target: DevNode, key: string): Promise<Endorsed> =>
    target.endorse(target.newProposal({ creator: 'Org1MSP', endorsers: ['Org1MSP'], function: 'Put', args: [key], transient: new Map() }));

  it('cuts a block as soon as maxTransactions wait, without waiting for the block timeout', async () => {
    const target = await node(3, 60_000);
    const endorsed = await Promise.all(['a', 'b', 'c'].map((key) => endorse(target, key)));
    const statuses = await within(Promise.all(endorsed.map((tx) => target.submit(tx))), 5_000, 'a full block');
    assert.deepEqual(
      statuses.map((status) => [status.blockNumber, status.code]),
      [
        [1n, 0],
        [1n, 0],
        [1n, 0],
      ],
    );
    assert.equal(target.block(1n)?.data.transactions.length, 3);
  });

  it('cuts a block when the oldest transaction has waited blockTimeoutMs, with whatever arrived meanwhile', async () => {
    const target = await node(100, 80);
    const [first, second, third] = await Promise.all(['a', 'b', 'c'].map((key) => endorse(target, key)));
    const started = Date.now();
    const early = target.submit(first as Endorsed);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const statuses = await Promise.all([early, target.submit(second as Endorsed), target.submit(third as Endorsed)]);
    assert.ok(Date.now() - started >= 75, `cut after the timeout, not at once (${Date.now() - started} ms)`);
    assert.deepEqual(new Set(statuses.map((status) => status.blockNumber)), new Set([1n]), 'one block');
  });

  it('never strands a transaction submitted while the previous block releases its submitters', async () => {
    const target = await node(10, 0);
    const [first, second] = await Promise.all([endorse(target, 'a'), endorse(target, 'b')]);
    // Submitted from the first one's commit callback: as the orderer finishes its loop for the first block.
    const chained = target.submit(first as Endorsed).then(() => target.submit(second as Endorsed));
    const status = await within(chained, 3_000, 'the second submit');
    assert.deepEqual([status.blockNumber, status.code], [2n, 0]);
  });

  it('concurrent submitters through DevLedger share blocks', async () => {
    const ledger = await DevLedger.open({ directory: folder(), blockTimeoutMs: 20 });
    closers.push(() => ledger.close());
    const before = await ledger.getChainHeight();
    const records = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        ledger.anchorBatch({
          stream: `Org1MSP/${unique('shared')}-${i}`,
          batchId: 'b1',
          root: hex(`shared ${i}`),
          treeSize: 1,
          prevRoot: GENESIS_ROOT,
        }),
      ),
    );
    const blocks = (await ledger.getChainHeight()) - before;
    assert.ok(blocks < 8n, `8 transactions in ${blocks} blocks`);
    const sizes = await Promise.all(
      Array.from({ length: Number(blocks) }, async (_, i) => (await ledger.getBlock(before + BigInt(i)))?.transactions.length),
    );
    assert.ok(
      sizes.some((size) => (size ?? 0) > 1),
      `a block holds several transactions: ${sizes.join(', ')}`,
    );
    assert.equal(new Set(records.map((record) => record.txId)).size, 8);
  });

  it('evaluate and endorse fail with DEADLINE_EXCEEDED (retryable) when the chaincode does not answer in time', async () => {
    const target = await node(10, 0);
    const gateway = new DevGateway(target, { mspId: 'Org1MSP', endorsingOrganizations: ['Org1MSP'] });
    const contract = gateway.getContract('twinledger');
    for (const [step, expected] of [
      ['evaluate', EvaluationError],
      ['endorse', EndorsementError],
    ] as const) {
      const proposal = contract.newProposal('Hang');
      const error = await within(rejection(proposal[step]({ deadline: Date.now() + 50 })), 3_000, step);
      assert.ok(error instanceof expected, String(error));
      assert.equal(error.grpcCode, 4);
      assert.equal(error.retryable, true);
      assert.equal(error.phase, step);
    }
  });

  it('honours deadlines.commitStatusMs: the call fails with a CommitStatusError, the transaction still commits', async () => {
    const ledger = await DevLedger.open({ directory: folder(), blockTimeoutMs: 600, deadlines: { commitStatusMs: 50 }, retry: noRetry });
    closers.push(() => ledger.close());
    const key = `Org1MSP/${unique('late')}`;
    const started = Date.now();
    const error = await rejection(ledger.initHash(key));
    assert.ok(error instanceof CommitStatusError, String(error));
    assert.equal(error.grpcCode, 4);
    assert.ok(Date.now() - started < 500, 'it did not wait for the block');
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal((await ledger.queryHash(key))?.key, key, 'committed with its block');
  });

  it('deadlines.submitMs: the hand-over to the orderer never waits, so it never expires; the wait for the block is commitStatusMs', async () => {
    // FabricLedger's submitMs bounds the gateway's Submit call (until the orderer accepted the transaction). DevLedger's
    // hand-over appends to an unbounded queue synchronously: even 1 ms, with a block that takes 150 ms, does not expire.
    const ledger = await DevLedger.open({ directory: folder(), blockTimeoutMs: 150, deadlines: { submitMs: 1 }, retry: noRetry });
    closers.push(() => ledger.close());
    const keys = Array.from({ length: 4 }, () => `Org1MSP/${unique('handed-over')}`);
    const started = Date.now();
    const records = await Promise.all(keys.map((key) => ledger.initHash(key)));
    assert.ok(Date.now() - started >= 140, 'the submits waited for their block, far longer than submitMs');
    assert.deepEqual(
      records.map((record) => record.version),
      [0, 0, 0, 0],
    );
    await assert.rejects(
      DevLedger.open({ directory: folder(), deadlines: { submitMs: 0 } }),
      (e: unknown) => e instanceof ValidationError && e.field === 'deadlines.submitMs',
      'and it is checked like the others',
    );
  });

  it('checks deadlines before it locks the folder, and getBlock/verify honour an aborted signal', async () => {
    const directory = folder();
    await assert.rejects(
      DevLedger.open({ directory, deadlines: { commitStatusMs: -1 } }),
      (e: unknown) => e instanceof ValidationError && e.field === 'deadlines.commitStatusMs',
    );
    const ledger = await DevLedger.open({ directory });
    closers.push(() => ledger.close());
    const signal = AbortSignal.abort();
    await assert.rejects(ledger.getBlock(0n, { signal }), AbortError);
    await assert.rejects(ledger.verify({ signal }), AbortError);
    assert.equal((await ledger.getBlock(0n))?.number, 0n);
  });
});
