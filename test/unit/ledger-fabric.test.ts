import assert from 'node:assert/strict';
import { linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import {
  CommitError as FabricCommitError,
  CommitStatusError as FabricCommitStatusError,
  EndorseError,
  type ErrorDetail,
  GatewayError,
} from '@hyperledger/fabric-gateway';
import { SubmitError as FabricSubmitError } from '@hyperledger/fabric-gateway/dist/submiterror.js';
import { common } from '@hyperledger/fabric-protos';
import {
  AbortError,
  ClientClosedError,
  ExponentialBackoff,
  TimeoutError,
  ValidationError,
  type LogFields,
  type Logger,
} from '../../src/core/index.js';
import {
  ChaincodeError,
  CommitError,
  CommitStatusError,
  EndorsementError,
  EvaluationError,
  FabricLedger,
  FileCheckpointer,
  GENESIS_ROOT,
  SubmissionError,
  type GatewayChaincodeEvent,
  type GatewayContract,
  type GatewayEventsOptions,
  type GatewayEventStream,
  type GatewayNetwork,
  type GatewayProposal,
  type GatewayProposalOptions,
  type GatewayStatus,
  type LedgerEvent,
} from '../../src/ledger/index.js';
import { FakeChaincodeEventLog } from '../support/fake-chaincode-events.js';

// ---- hand-written fakes of the gateway's Network / Contract / Proposal / Transaction / Commit ----------

type Phase = 'evaluate' | 'endorse' | 'submit' | 'commitStatus';

interface RecordedCall {
  name: string;
  options: GatewayProposalOptions;
  transactionId: string;
  phases: Array<{ phase: Phase; callOptions: CallOptions | undefined }>;
}

class FakeContract implements GatewayContract {
  readonly calls: RecordedCall[] = [];
  /** Errors to throw, per phase, first in first out. */
  readonly failures: Record<Phase, Error[]> = { evaluate: [], endorse: [], submit: [], commitStatus: [] };
  /** Validation codes of successive commits (default 0 = VALID). */
  readonly commitCodes: number[] = [];
  /** What the chaincode answers. */
  handler: (name: string, args: string[]) => string = () => '{}';
  private counter = 0;

  getChaincodeName(): string {
    return 'twinledger';
  }

  newProposal(name: string, options: GatewayProposalOptions = {}): GatewayProposal {
    this.counter += 1;
    const transactionId = this.counter.toString(16).padStart(64, '0');
    const call: RecordedCall = { name, options, transactionId, phases: [] };
    this.calls.push(call);
    const step = (phase: Phase, callOptions: CallOptions | undefined) => {
      call.phases.push({ phase, callOptions });
      const failure = this.failures[phase].shift();
      if (failure) throw failure;
    };
    const args = (options.arguments ?? []).map((arg) => (typeof arg === 'string' ? arg : Buffer.from(arg).toString('utf8')));
    return {
      getTransactionId: () => transactionId,
      evaluate: async (callOptions) => {
        step('evaluate', callOptions);
        return Buffer.from(this.handler(name, args));
      },
      endorse: async (callOptions) => {
        step('endorse', callOptions);
        const result = Buffer.from(this.handler(name, args));
        return {
          getTransactionId: () => transactionId,
          getResult: () => result,
          submit: async (submitOptions) => {
            step('submit', submitOptions);
            return {
              getTransactionId: () => transactionId,
              getStatus: async (statusOptions): Promise<GatewayStatus> => {
                step('commitStatus', statusOptions);
                const code = this.commitCodes.shift() ?? 0;
                return { blockNumber: 7n, code, successful: code === 0, transactionId };
              },
            };
          },
        };
      },
    };
  }
}

/** The system chaincode qscc: `GetChainInfo` answers a serialized `common.BlockchainInfo`. */
class FakeQscc implements GatewayContract {
  readonly calls: string[][] = [];
  constructor(private readonly height: () => bigint) {}

  getChaincodeName(): string {
    return 'qscc';
  }

  newProposal(name: string, options: GatewayProposalOptions = {}): GatewayProposal {
    const args = (options.arguments ?? []).map(String);
    return {
      getTransactionId: () => 'qscc-tx',
      evaluate: async () => {
        this.calls.push([name, ...args]);
        const info = new common.BlockchainInfo();
        info.setHeight(Number(this.height()));
        return info.serializeBinary();
      },
      endorse: async () => assert.fail('qscc is only evaluated'),
    };
  }
}

/** Chaincode events in ledger order, served from a checkpoint the way the gateway does. */
class FakeNetwork implements GatewayNetwork {
  readonly contract = new FakeContract();
  /** Blocks 0 (genesis) to the last event's block. */
  readonly qscc = new FakeQscc(() => this.log.lastBlock + 1n);
  readonly log = new FakeChaincodeEventLog();
  readonly streamOptions: GatewayEventsOptions[] = [];
  /** Where each stream started: the checkpoint's position at the time of the call. */
  readonly streamStarts: Array<{ block: bigint | undefined; after: string | undefined }> = [];
  /** Fail the next stream after it yielded this many events. */
  failNextStreamAfter: number | undefined;

  get events(): GatewayChaincodeEvent[] {
    return this.log.events;
  }

  getContract(name: string): GatewayContract {
    return name === 'qscc' ? this.qscc : this.contract;
  }

  emit(blockNumber: bigint, transactionId: string, eventName: string, payload: unknown): void {
    this.log.append({ blockNumber, transactionId, chaincodeName: 'twinledger', eventName, payload: Buffer.from(JSON.stringify(payload)) });
  }

  async getChaincodeEvents(_chaincode: string, options: GatewayEventsOptions = {}): Promise<GatewayEventStream> {
    this.streamOptions.push(options);
    this.streamStarts.push({
      block: options.checkpoint?.getBlockNumber() ?? options.startBlock,
      after: options.checkpoint?.getTransactionId(),
    });
    const failAfter = this.failNextStreamAfter;
    this.failNextStreamAfter = undefined;
    return this.log.open(
      options,
      failAfter === undefined ? undefined : { after: failAfter, error: () => gatewayError(14, 'connection dropped') },
    );
  }
}

function serviceError(code: number, message: string): ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new Metadata() });
}

function gatewayError(code: number, message: string, details: ErrorDetail[] = []): GatewayError {
  return new GatewayError({ code, details, cause: serviceError(code, message), message: `${code} ${message}` });
}

const endorser = (message: string): ErrorDetail => ({ address: 'peer0.org1.example.com:7051', mspId: 'Org1MSP', message });

function ledgerWith(network: FakeNetwork, extra: Partial<ConstructorParameters<typeof FabricLedger>[1]> = {}): FabricLedger {
  return new FabricLedger(network, {
    channel: 'mychannel',
    chaincode: 'twinledger',
    mspId: 'Org1MSP',
    retry: new ExponentialBackoff({ maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2, jitter: 'none' }),
    ...extra,
  });
}

const ROOT = 'a'.repeat(64);
const NEXT_ROOT = 'b'.repeat(64);
const CID = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';

describe('FabricLedger: argument encoding', () => {
  it('submits and evaluates the chaincode functions with string arguments ("" for absent optionals)', async () => {
    const network = new FakeNetwork();
    const contract = network.contract;
    contract.handler = (name) => (name === 'PublishTelemetryData' ? 'f'.repeat(64) : name === 'GetHashHistory' ? '[]' : `{"fn":"${name}"}`);
    const ledger = ledgerWith(network);
    await ledger.registerDevice({ tenant: 'org.acme', deviceId: 'org.acme:lamp-1' });
    const published = await ledger.publishTelemetry({
      tenant: 'org.acme',
      thingId: 'org.acme:lamp-1',
      command: { topic: 'org.acme/lamp-1/things/twin/commands/modify', path: '/a', value: 1 },
      ttd: 20,
    });
    assert.deepEqual(published, { sha256: 'f'.repeat(64), transactionId: contract.calls[1]?.transactionId });
    await ledger.publishTelemetry({ tenant: 'org.acme', thingId: 'org.acme:lamp-1', command: '{"raw":true}' });
    await ledger.initHash('ids/node-1');
    await ledger.updateHash({ key: 'ids/node-1', sha256: ROOT, cid: CID });
    await ledger.updateHash({ key: 'ids/node-1', sha256: ROOT });
    await ledger.queryHash('ids/node-1');
    await ledger.getHashHistory('ids/node-1');
    await ledger.anchorBatch({ stream: 's', batchId: 'b1', root: ROOT, treeSize: 12, prevRoot: GENESIS_ROOT, meta: { leaves: 12 } });
    await ledger.anchorBatch({ stream: 's', batchId: 'b2', root: NEXT_ROOT, treeSize: 1, prevRoot: ROOT });
    await ledger.getBatch('s', 'b1');
    await ledger.getHead('s');
    await ledger.anchorRecord({ key: 'r', sha256: ROOT, cid: CID, meta: { x: 1 } });
    await ledger.getRecord('r');
    await ledger.getDevice('org.acme', 'org.acme:lamp-1');

    const summary = contract.calls.map((c) => [c.name, (c.options.arguments ?? []).map(String), c.phases.map((p) => p.phase).join('>')]);
    const submitted = 'endorse>submit>commitStatus';
    assert.deepEqual(summary, [
      ['RegisterDevice', ['org.acme', 'org.acme:lamp-1'], submitted],
      [
        'PublishTelemetryData',
        ['org.acme', 'org.acme:lamp-1', '{"topic":"org.acme/lamp-1/things/twin/commands/modify","path":"/a","value":1}', '20'],
        submitted,
      ],
      ['PublishTelemetryData', ['org.acme', 'org.acme:lamp-1', '{"raw":true}', ''], submitted],
      ['InitHash', ['ids/node-1'], submitted],
      ['UpdateHash', ['ids/node-1', ROOT, CID], submitted],
      ['UpdateHash', ['ids/node-1', ROOT, ''], submitted],
      ['QueryHash', ['ids/node-1'], 'evaluate'],
      ['GetHashHistory', ['ids/node-1'], 'evaluate'],
      ['AnchorBatch', ['s', 'b1', ROOT, '12', GENESIS_ROOT, '{"leaves":12}'], submitted],
      ['AnchorBatch', ['s', 'b2', NEXT_ROOT, '1', ROOT, ''], submitted],
      ['GetBatch', ['s', 'b1'], 'evaluate'],
      ['GetHead', ['s'], 'evaluate'],
      ['AnchorRecord', ['r', ROOT, CID, '{"x":1}'], submitted],
      ['GetRecord', ['r'], 'evaluate'],
      ['GetDevice', ['org.acme', 'org.acme:lamp-1'], 'evaluate'],
    ]);
    for (const call of contract.calls) assert.equal(call.options.transientData, undefined);
  });

  it('sends credentials only in the transient map, endorsed by the own organisation', async () => {
    const network = new FakeNetwork();
    network.contract.handler = (name) =>
      name === 'SetCredentials'
        ? '{"commitment":"c","collection":"Org1MSPPrivateCollection","txId":"t","timestamp":"x"}'
        : '{"authId":"lamp-1","password":"pw-987654","tenant":"org.acme","deviceId":"org.acme:lamp-1","salt":"s","txId":"t","timestamp":"x"}';
    const ledger = ledgerWith(network);
    const commitment = await ledger.setCredentials({
      tenant: 'org.acme',
      deviceId: 'org.acme:lamp-1',
      authId: 'lamp-1',
      password: 'pw-987654',
    });
    assert.equal(commitment.collection, 'Org1MSPPrivateCollection');
    const [set, get] = [network.contract.calls[0], (await ledger.getCredentials('org.acme', 'org.acme:lamp-1'), network.contract.calls[1])];
    assert.deepEqual(set?.options.arguments, ['org.acme', 'org.acme:lamp-1']);
    const { salt, ...rest } = set?.options.transientData ?? {};
    assert.deepEqual(rest, { authId: 'lamp-1', password: 'pw-987654' });
    assert.match(String(salt), /^[0-9a-f]{64}$/, 'a random 32-byte salt is always sent');
    assert.deepEqual(set?.options.endorsingOrganizations, ['Org1MSP']);
    assert.deepEqual(
      get?.phases.map((p) => p.phase),
      ['evaluate'],
      'GetCredentials is never submitted',
    );
    assert.deepEqual(get?.options.endorsingOrganizations, ['Org1MSP']);

    // Every call gets a fresh salt; a caller's own salt is sent as is.
    await ledger.setCredentials({ tenant: 'org.acme', deviceId: 'org.acme:lamp-1', authId: 'lamp-1', password: 'pw-987654' });
    const again = network.contract.calls[2]?.options.transientData?.salt;
    assert.match(String(again), /^[0-9a-f]{64}$/);
    assert.notEqual(again, salt);
    await ledger.setCredentials({
      tenant: 'org.acme',
      deviceId: 'org.acme:lamp-1',
      authId: 'lamp-1',
      password: 'pw-987654',
      salt: 'ab'.repeat(16),
    });
    assert.equal(network.contract.calls[3]?.options.transientData?.salt, 'ab'.repeat(16));

    await assert.rejects(
      ledgerWith(new FakeNetwork(), { mspId: undefined }).setCredentials({ tenant: 'org.acme', deviceId: 'd', authId: 'a', password: 'p' }),
      (error: unknown) => error instanceof ValidationError && error.field === 'mspId',
    );
  });

  it('validates arguments before anything is sent', async () => {
    const network = new FakeNetwork();
    const ledger = ledgerWith(network);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: Array<[Promise<unknown>, string]> = [
      [ledger.anchorBatch({ stream: 's', batchId: 'b', root: 'ABC', treeSize: 1, prevRoot: GENESIS_ROOT }), 'root'],
      [ledger.anchorBatch({ stream: 's', batchId: 'b', root: ROOT, treeSize: 0, prevRoot: GENESIS_ROOT }), 'treeSize'],
      [ledger.anchorBatch({ stream: 's', batchId: 'b', root: ROOT, treeSize: 1, prevRoot: '' }), 'prevRoot'],
      [ledger.anchorRecord({ key: 'k', sha256: ROOT, cid: 'not-a-cid' }), 'cid'],
      [ledger.updateHash({ key: ' bad', sha256: ROOT }), 'key'],
      [ledger.publishTelemetry({ tenant: 'org.acme', thingId: 'no-namespace', command: '{}' }), 'thingId'],
      [ledger.publishTelemetry({ tenant: 'org.acme', thingId: 'org.acme:x', command: '{}', ttd: 61 }), 'ttd'],
      [ledger.setCredentials({ tenant: 'org.acme', deviceId: 'org.acme:x', authId: 'a@b', password: 'p' }), 'authId'],
      [ledger.setCredentials({ tenant: 'org.acme', deviceId: 'org.acme:x', authId: 'a', password: 'p', salt: 'short' }), 'salt'],
      [ledger.registerDevice({ tenant: 'bad tenant', deviceId: 'x' }), 'tenant'],
      [ledger.anchorBatch({ stream: 's', batchId: 'b', root: GENESIS_ROOT, treeSize: 1, prevRoot: GENESIS_ROOT }), 'root'],
      [ledger.anchorBatch({ stream: 's', batchId: 'b', root: ROOT, treeSize: 1, prevRoot: ROOT }), 'root'],
      [ledger.anchorRecord({ key: 'k', sha256: ROOT, cid: `b${'a'.repeat(200)}` }), 'cid'],
      [ledger.anchorRecord({ key: 'k', sha256: ROOT, meta: { n: 2 ** 60 } }), 'meta.n'],
      [ledger.anchorRecord({ key: 'k', sha256: ROOT, meta: { list: [1, Number.NaN] } }), 'meta.list[1]'],
      [ledger.anchorRecord({ key: 'k', sha256: ROOT, meta: { nested: { toJSON: 'x' } } }), 'meta.nested.toJSON'],
      [ledger.anchorRecord({ key: 'k', sha256: ROOT, meta: cyclic }), 'meta.self'],
    ];
    for (const [promise, field] of cases) {
      await assert.rejects(promise, (error: unknown) => error instanceof ValidationError && error.field === field, field);
    }
    assert.equal(network.contract.calls.length, 0);
  });

  it('passes a per-phase deadline to every gateway call', async () => {
    const network = new FakeNetwork();
    const ledger = ledgerWith(network, { deadlines: { endorseMs: 1_000, submitMs: 2_000, commitStatusMs: 30_000, evaluateMs: 500 } });
    const before = Date.now();
    await ledger.initHash('k');
    await ledger.queryHash('k');
    const deadlines = network.contract.calls.flatMap((c) =>
      c.phases.map((p) => [p.phase, Number(p.callOptions?.deadline) - before] as const),
    );
    const expected: Record<string, number> = { endorse: 1_000, submit: 2_000, commitStatus: 30_000, evaluate: 500 };
    for (const [phase, delta] of deadlines) {
      assert.ok(delta >= (expected[phase] as number) && delta < (expected[phase] as number) + 5_000, `${phase} deadline ${delta}`);
    }
    assert.throws(() => ledgerWith(network, { deadlines: { endorseMs: 0 } }), /deadlines.endorseMs/);
  });

  it('validates per-call options like every client, and close() is final', async () => {
    const network = new FakeNetwork();
    let closes = 0;
    const ledger = new FabricLedger(network, { channel: 'mychannel', chaincode: 'twinledger', mspId: 'Org1MSP' }, () => (closes += 1));
    await assert.rejects(
      ledger.queryHash('k', { timeoutMs: 2 ** 31 }),
      (error: unknown) => error instanceof ValidationError && error.field === 'options.timeoutMs',
    );
    await ledger.initHash('k');
    const calls = network.contract.calls.length;
    await ledger.close();
    await ledger.close();
    assert.equal(closes, 1, 'idempotent');
    await assert.rejects(
      ledger.queryHash('k'),
      (error: unknown) => error instanceof ClientClosedError && /QueryHash: the FabricLedger client is closed/.test(error.message),
    );
    await assert.rejects(ledger.initHash('k2'), ClientClosedError);
    assert.equal(network.contract.calls.length, calls, 'nothing was sent after close()');
    const events = ledger.events({ startBlock: 0n })[Symbol.asyncIterator]();
    assert.deepEqual(await events.next(), { done: true, value: undefined }, 'an event stream of a closed ledger ends');
  });
});

describe('FabricLedger: errors', () => {
  it("maps a chaincode error in an endorsement to ChaincodeError with its reason and the endorsers' details", async () => {
    const network = new FakeNetwork();
    const details = [endorser('chaincode response 500, CONFLICT: batch "b1" of stream "s" is already anchored with root x, not y')];
    network.contract.failures.endorse.push(
      new EndorseError({
        code: 10,
        details,
        cause: serviceError(10, 'failed to endorse transaction, see attached details for more info'),
        transactionId: 'tx1',
        message: '10 ABORTED: failed to endorse transaction, see attached details for more info',
      }),
    );
    const ledger = ledgerWith(network);
    await assert.rejects(
      ledger.anchorBatch({ stream: 's', batchId: 'b1', root: ROOT, treeSize: 1, prevRoot: GENESIS_ROOT }),
      (error: unknown) => {
        assert.ok(error instanceof ChaincodeError);
        assert.equal(error.reason, 'CONFLICT');
        assert.equal(error.status, 500);
        assert.equal(error.chaincodeMessage, 'batch "b1" of stream "s" is already anchored with root x, not y');
        assert.equal(error.code, 'chaincode.conflict');
        assert.equal(error.transaction, 'AnchorBatch');
        assert.equal(error.transactionId, 'tx1');
        assert.equal(error.phase, 'endorse');
        assert.equal(error.grpcCode, 10);
        assert.deepEqual(error.details, details);
        assert.equal(error.retryable, false);
        assert.match(error.message, /AnchorBatch, ABORTED: chaincode refused: CONFLICT: batch "b1"/);
        return true;
      },
    );
    assert.equal(network.contract.calls.length, 1, 'a chaincode error is not retried');
  });

  it('maps an evaluate error; NOT_FOUND reads resolve to undefined', async () => {
    const network = new FakeNetwork();
    const evaluateFailure = (message: string) =>
      gatewayError(2, `evaluate call to endorser returned error: chaincode response 500, ${message}`, [
        endorser(`chaincode response 500, ${message}`),
      ]);
    network.contract.failures.evaluate.push(evaluateFailure('NOT_FOUND: batch "b9" of stream "s" is not anchored'));
    const ledger = ledgerWith(network);
    assert.equal(await ledger.getBatch('s', 'b9'), undefined);
    network.contract.failures.evaluate.push(evaluateFailure('NOT_FOUND: hash key "k" has no history'));
    assert.deepEqual(await ledger.getHashHistory('k'), []);
    network.contract.failures.evaluate.push(
      evaluateFailure('FORBIDDEN: device "d" of tenant "t" belongs to Org2MSP; Org1MSP may not read its credentials'),
    );
    await assert.rejects(
      ledger.getCredentials('org.acme', 'org.acme:d'),
      (error: unknown) => error instanceof ChaincodeError && error.reason === 'FORBIDDEN' && error.phase === 'evaluate',
    );
    network.contract.failures.evaluate.push(gatewayError(2, 'chaincode response 500, something without a code'));
    await assert.rejects(
      ledger.getHead('s'),
      (error: unknown) =>
        error instanceof ChaincodeError && error.reason === 'UNKNOWN' && error.chaincodeMessage === 'something without a code',
    );
  });

  it('maps endorsement, submit, commit-status and commit failures to their classes', async () => {
    const network = new FakeNetwork();
    const ledger = ledgerWith(network, { retry: new ExponentialBackoff({ maxAttempts: 1 }) });
    const cause = serviceError(9, 'no combination of peers can be derived which satisfy the endorsement policy');
    network.contract.failures.endorse.push(
      new EndorseError({
        code: 9,
        details: [],
        cause,
        transactionId: 'e1',
        message: '9 FAILED_PRECONDITION: no combination of peers can be derived which satisfy the endorsement policy',
      }),
    );
    await assert.rejects(ledger.initHash('k'), (error: unknown) => {
      assert.ok(error instanceof EndorsementError);
      assert.equal(error.transactionId, 'e1');
      assert.match(error.hint ?? '', /is the chaincode committed on this channel/);
      return true;
    });

    network.contract.failures.submit.push(
      new FabricSubmitError({
        code: 14,
        details: [endorser('orderer down')],
        cause: serviceError(14, 'unavailable'),
        transactionId: 's1',
        message: '14 UNAVAILABLE: orderer',
      }),
    );
    await assert.rejects(
      ledger.initHash('k'),
      (error: unknown) =>
        error instanceof SubmissionError &&
        error.retryable &&
        error.details[0]?.message === 'orderer down' &&
        /peer0.org1.example.com:7051: orderer down/.test(error.message),
    );

    network.contract.failures.commitStatus.push(
      new FabricCommitStatusError({
        code: 4,
        details: [],
        cause: serviceError(4, 'deadline'),
        transactionId: 'c1',
        message: '4 DEADLINE_EXCEEDED',
      }),
    );
    await assert.rejects(
      ledger.initHash('k'),
      (error: unknown) => error instanceof CommitStatusError && /raise deadlines.commitStatusMs/.test(error.hint ?? ''),
    );

    network.contract.commitCodes.push(10);
    await assert.rejects(ledger.updateHash({ key: 'k', sha256: ROOT }), (error: unknown) => {
      assert.ok(error instanceof CommitError);
      assert.equal(error.validationCode, 10);
      assert.equal(error.statusName, 'ENDORSEMENT_POLICY_FAILURE');
      assert.equal(error.code, 'ledger.commit.endorsement_policy_failure');
      assert.equal(error.blockNumber, 7n);
      assert.equal(error.retryable, false);
      return true;
    });

    // fabric-gateway's own CommitError (thrown by contract.submit()) maps the same way.
    network.contract.failures.endorse.push(
      new FabricCommitError({
        code: 11,
        transactionId: 'm1',
        message: 'Transaction m1 failed to commit with status code 11 (MVCC_READ_CONFLICT)',
      }),
    );
    await assert.rejects(
      ledger.initHash('k'),
      (error: unknown) => error instanceof CommitError && error.validationCode === 11 && error.transactionId === 'm1',
    );
  });
});

describe('FabricLedger: retries', () => {
  it('runs a transaction again, as a new one, after an MVCC read conflict', async () => {
    const network = new FakeNetwork();
    network.contract.commitCodes.push(11, 12);
    network.contract.handler = () => '{"docType":"batch","seq":3}';
    const warnings: string[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      error() {},
      warn: (message: string, fields?: LogFields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
    };
    const ledger = ledgerWith(network, { logger });
    const record = await ledger.anchorBatch({ stream: 's', batchId: 'b3', root: NEXT_ROOT, treeSize: 1, prevRoot: ROOT });
    assert.equal(record.seq, 3);
    const ids = network.contract.calls.map((c) => c.transactionId);
    assert.equal(ids.length, 3, 'two conflicts, then success');
    assert.equal(new Set(ids).size, 3, 'every attempt is a new transaction');
    assert.equal(warnings.filter((w) => w.includes('transaction conflicted')).length, 2);

    network.contract.commitCodes.push(11, 11, 11);
    await assert.rejects(
      ledger.anchorBatch({ stream: 's', batchId: 'b4', root: NEXT_ROOT, treeSize: 1, prevRoot: ROOT }),
      (error: unknown) => error instanceof CommitError && error.statusName === 'MVCC_READ_CONFLICT' && error.retryable,
    );
  });

  it('repeats a transiently failed step with the same proposal / signed transaction', async () => {
    const network = new FakeNetwork();
    const unavailable = () => serviceError(14, 'connect failed');
    network.contract.failures.endorse.push(
      new EndorseError({ code: 14, details: [], cause: unavailable(), transactionId: 'x', message: '14 UNAVAILABLE' }),
    );
    network.contract.failures.submit.push(
      new FabricSubmitError({ code: 14, details: [], cause: unavailable(), transactionId: 'x', message: '14 UNAVAILABLE' }),
    );
    network.contract.failures.commitStatus.push(
      new FabricCommitStatusError({ code: 14, details: [], cause: unavailable(), transactionId: 'x', message: '14 UNAVAILABLE' }),
    );
    const ledger = ledgerWith(network);
    await ledger.initHash('k');
    assert.equal(network.contract.calls.length, 1, 'one proposal: nothing can apply twice');
    assert.deepEqual(
      network.contract.calls[0]?.phases.map((p) => p.phase),
      ['endorse', 'endorse', 'submit', 'submit', 'commitStatus', 'commitStatus'],
    );

    network.contract.failures.evaluate.push(
      gatewayError(14, 'unavailable'),
      gatewayError(14, 'unavailable'),
      gatewayError(14, 'unavailable'),
    );
    await assert.rejects(
      ledger.getHead('s'),
      (error: unknown) => error instanceof EvaluationError && error.grpcCode === 14 && /unreachable/.test(error.hint ?? ''),
    );
  });

  it('honours signal and timeoutMs, also while waiting between retries', async () => {
    const network = new FakeNetwork();
    const slow = ledgerWith(network, { retry: new ExponentialBackoff({ maxAttempts: 100, initialDelayMs: 10_000, jitter: 'none' }) });
    network.contract.failures.evaluate.push(gatewayError(14, 'unavailable'));
    await assert.rejects(slow.getHead('s', { timeoutMs: 50 }), (error: unknown) => error instanceof TimeoutError && error.timeoutMs === 50);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(slow.initHash('k', { signal: controller.signal }), AbortError);
  });
});

describe('FabricLedger: checkpointed chaincode events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twinledger-events-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 1_000 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(condition(), 'condition not reached');
  }

  async function take(iterator: AsyncIterator<LedgerEvent>, n: number): Promise<LedgerEvent[]> {
    const out: LedgerEvent[] = [];
    for (let i = 0; i < n; i += 1) {
      const next = await iterator.next();
      assert.equal(next.done, false);
      out.push(next.value as LedgerEvent);
    }
    return out;
  }

  it('resumes after a restart from a file checkpoint, past the events the loop finished', async () => {
    const network = new FakeNetwork();
    network.emit(1n, 't1', 'BatchAnchored', { n: 1 });
    network.emit(2n, 't2', 'HashUpdated', { n: 2 });
    network.emit(2n, 't3', 'BatchAnchored', { n: 3 });
    network.emit(3n, 't4', 'BatchAnchored', { n: 4 });
    const checkpoint = join(dir, 'a.json');

    const first = ledgerWith(network);
    const seen: string[] = [];
    for await (const event of first.events({ checkpoint, startBlock: 0n })) {
      seen.push(event.transactionId);
      assert.equal(JSON.parse(Buffer.from(event.payload).toString()).n, seen.length);
      if (seen.length === 2) break; // t2 was handed out but its loop body did not finish
    }
    await first.close();
    assert.deepEqual(seen, ['t1', 't2']);

    const second = ledgerWith(network);
    const controller = new AbortController();
    const iterator = second.events({ checkpoint, signal: controller.signal })[Symbol.asyncIterator]();
    const resumed = await take(iterator, 3);
    assert.deepEqual(
      resumed.map((e) => [e.blockNumber, e.transactionId, e.name]),
      [
        [2n, 't2', 'HashUpdated'],
        [2n, 't3', 'BatchAnchored'],
        [3n, 't4', 'BatchAnchored'],
      ],
    );
    // A live event arrives while the loop waits.
    const pending = iterator.next();
    network.emit(4n, 't5', 'RecordAnchored', {});
    assert.equal(((await pending).value as LedgerEvent).transactionId, 't5');
    controller.abort();
    assert.equal((await iterator.next()).done, true);
    assert.deepEqual(network.streamStarts, [
      { block: 0n, after: undefined },
      { block: 1n, after: 't1' },
    ]);
  });

  it('reconnects from the checkpoint after a transient stream failure, without repeats, and filters by name', async () => {
    const network = new FakeNetwork();
    for (let i = 1; i <= 5; i += 1) network.emit(BigInt(i), `t${i}`, i % 2 === 0 ? 'Other' : 'Wanted', { i });
    network.failNextStreamAfter = 2;
    const ledger = ledgerWith(network);
    const controller = new AbortController();
    const stream = ledger.events({ checkpoint: join(dir, 'b.json'), startBlock: 1n, names: ['Wanted'], signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const events = await take(iterator, 3);
    assert.deepEqual(
      events.map((e) => e.transactionId),
      ['t1', 't3', 't5'],
    );
    assert.equal(network.streamOptions.length, 2, 'one reconnect');
    controller.abort();
    await iterator.return?.();
  });

  it('says what to do when the checkpoint file is damaged', async () => {
    const file = join(dir, 'damaged.json');
    writeFileSync(file, '{"blockNumber":"1');
    const iterator = ledgerWith(new FakeNetwork()).events({ checkpoint: file })[Symbol.asyncIterator]();
    await assert.rejects(
      iterator.next(),
      (error: unknown) =>
        error instanceof ValidationError && error.field === 'checkpoint' && /delete it and set startBlock/.test(error.message),
    );
  });

  it('reads the chain height through qscc GetChainInfo', async () => {
    const network = new FakeNetwork();
    network.emit(41n, 't1', 'BatchAnchored', {});
    assert.equal(await ledgerWith(network).getChainHeight(), 42n);
    assert.deepEqual(network.qscc.calls, [['GetChainInfo', 'mychannel']]);
  });

  it('without a checkpoint position or startBlock, pins the chain height once: a reconnect before the first event loses nothing', async () => {
    const network = new FakeNetwork();
    network.emit(1n, 'old-1', 'BatchAnchored', {});
    network.emit(2n, 'old-2', 'BatchAnchored', {});
    const open = network.getChaincodeEvents.bind(network);
    const starts: Array<bigint | undefined> = [];
    network.getChaincodeEvents = async (chaincode, options = {}) => {
      starts.push(options.checkpoint?.getBlockNumber() ?? options.startBlock);
      if (starts.length === 1) {
        // Committed while the first stream breaks down, before any event was checkpointed.
        network.emit(3n, 'during-reconnect', 'BatchAnchored', {});
        throw gatewayError(14, 'connection dropped');
      }
      const stream = await open(chaincode, options);
      network.emit(4n, 'after-reconnect', 'BatchAnchored', {});
      return stream;
    };
    const controller = new AbortController();
    const iterator = ledgerWith(network).events({ signal: controller.signal })[Symbol.asyncIterator]();
    const events = await take(iterator, 2);
    assert.deepEqual(
      events.map((e) => e.transactionId),
      ['during-reconnect', 'after-reconnect'],
    );
    assert.deepEqual(starts, [3n, 3n], 'both opens start at the height read before the first');
    assert.equal(network.qscc.calls.length, 1, 'the height is read once');
    controller.abort();
    await iterator.return?.();
  });

  it('stores the pinned start in the checkpoint file, so a restart before the first event starts there too', async () => {
    const network = new FakeNetwork();
    network.emit(1n, 'old-1', 'BatchAnchored', {});
    const checkpoint = join(dir, 'pinned.json');
    const first = new AbortController();
    const firstRun = ledgerWith(network).events({ checkpoint, signal: first.signal })[Symbol.asyncIterator]();
    const pending = firstRun.next();
    await until(() => network.streamOptions.length === 1);
    assert.deepEqual(JSON.parse(readFileSync(checkpoint, 'utf8')), { blockNumber: '2' });
    first.abort();
    assert.equal((await pending).done, true);

    network.emit(2n, 'while-stopped', 'BatchAnchored', {});
    const open = network.getChaincodeEvents.bind(network);
    network.getChaincodeEvents = async (chaincode, options) => {
      const stream = await open(chaincode, options);
      network.emit(3n, 'after-restart', 'BatchAnchored', {});
      return stream;
    };
    const second = new AbortController();
    const secondRun = ledgerWith(network).events({ checkpoint, signal: second.signal })[Symbol.asyncIterator]();
    assert.deepEqual(
      (await take(secondRun, 2)).map((e) => e.transactionId),
      ['while-stopped', 'after-restart'],
    );
    assert.equal(network.qscc.calls.length, 1, 'the restart starts from the stored position');
    second.abort();
    await secondRun.return?.();
  });

  it('writes the checkpoint file crash-safe: a new file renamed over the old one, never rewritten in place', async () => {
    const sub = join(dir, 'durable');
    const path = join(sub, 'events.json');
    const checkpointer = await FileCheckpointer.open(path);
    assert.equal(checkpointer.getBlockNumber(), undefined);
    await checkpointer.checkpointTransaction(5n, 'tx-5');
    const before = join(dir, 'durable-before.json');
    linkSync(path, before); // a second name for the file as it is now
    await checkpointer.checkpointTransaction(6n, 'tx-6');
    assert.deepEqual(
      JSON.parse(readFileSync(before, 'utf8')),
      { blockNumber: '5', transactionId: 'tx-5' },
      'the old file was not overwritten',
    );
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { blockNumber: '6', transactionId: 'tx-6' });
    assert.deepEqual(readdirSync(sub), ['events.json'], 'no temporary file left');
    const reopened = await FileCheckpointer.open(path);
    assert.deepEqual([reopened.getBlockNumber(), reopened.getTransactionId()], [6n, 'tx-6']);
    await reopened.checkpointBlock(9n);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { blockNumber: '10' });
  });

  it('treats an empty or malformed checkpoint file as damage, naming the file, instead of starting over', async () => {
    const network = new FakeNetwork();
    for (const [name, text] of [
      ['empty.json', ''],
      ['blank.json', '  \n'],
      ['array.json', '[]'],
      ['bad-block.json', '{"blockNumber":"x1"}'],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const iterator = ledgerWith(network).events({ checkpoint: file })[Symbol.asyncIterator]();
      await assert.rejects(iterator.next(), (error: unknown) => {
        assert.ok(error instanceof ValidationError, String(error));
        assert.equal(error.field, 'checkpoint');
        assert.ok(error.message.includes(JSON.stringify(file)), error.message);
        assert.match(error.message, /delete it and set startBlock/);
        return true;
      });
    }
    assert.equal(network.streamOptions.length, 0, 'no stream was opened from a damaged checkpoint');
  });

  it('keeps reconnecting with eventsRetry beyond the call retry policy, logging every attempt', async () => {
    const network = new FakeNetwork();
    network.emit(1n, 't1', 'BatchAnchored', {});
    const open = network.getChaincodeEvents.bind(network);
    let failures = 0;
    network.getChaincodeEvents = async (chaincode, options) => {
      if (failures < 8) {
        failures += 1;
        throw gatewayError(14, 'peer restarting');
      }
      return open(chaincode, options);
    };
    const warnings: LogFields[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      error() {},
      warn: (message: string, fields?: LogFields) => void (/reconnecting/.test(message) && warnings.push(fields ?? {})),
    };
    // `retry` (3 attempts) bounds single calls; the stream follows eventsRetry, here without an attempt limit.
    const ledger = ledgerWith(network, {
      logger,
      eventsRetry: new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 1, maxDelayMs: 2, jitter: 'none' }),
    });
    const controller = new AbortController();
    const iterator = ledger.events({ startBlock: 1n, signal: controller.signal })[Symbol.asyncIterator]();
    assert.equal(((await iterator.next()).value as LedgerEvent).transactionId, 't1');
    assert.deepEqual(
      warnings.map((w) => w.attempt),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    controller.abort();
    await iterator.return?.();
  });

  it('gives up on a non-transient stream error', async () => {
    const network = new FakeNetwork();
    network.getChaincodeEvents = async () => {
      throw gatewayError(7, 'access denied');
    };
    const iterator = ledgerWith(network).events()[Symbol.asyncIterator]();
    await assert.rejects(
      iterator.next(),
      (error: unknown) => error instanceof Error && error.name === 'LedgerError' && /PERMISSION_DENIED/.test(error.message),
    );
  });
});
