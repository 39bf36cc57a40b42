/**
 * Durability of the Anchorer: whatever `append` acknowledged is anchored on the ledger exactly once — across SIGKILLs
 * of the process at random points, across a ledger and a payload store that are unavailable for a while, and across
 * ledger replies lost after the commit — and every record's proof verifies, offline and against the ledger.
 *
 * "Exactly once" is checked on the ledger itself: the stream's batches, walked from the head back through
 * meta.prevBatchId, tile the records 1..N (N = the highest seq in the outbox) without gap or overlap, their tree sizes
 * add up to N, and the block log holds one valid BatchAnchored transaction per batch, none for the same batch twice.
 *
 * The seed of the kill points is printed in the test's name; rerun a failure with TWINLEDGER_DURABILITY_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { Anchorer } from '../../src/anchor/anchorer.js';
import { envelopeBytes, envelopeLeafHash } from '../../src/anchor/envelope.js';
import type { AnchorProof, BatchProof, Receipt, RecordProof } from '../../src/anchor/types.js';
import { verify, verifyStream } from '../../src/anchor/verify.js';
import type { CallOptions } from '../../src/core/options.js';
import { CommitStatusError, EvaluationError, SubmissionError } from '../../src/ledger/errors.js';
import {
  type AnchoredRecord,
  type BatchAnchor,
  type BatchRecord,
  DevLedger,
  GENESIS_ROOT,
  type Ledger,
} from '../../src/ledger/dev/index.js';
import { verifyInclusion } from '../../src/merkle/index.js';
import { EmbeddedStore } from '../../src/offchain/embedded.js';
import { StoreUnavailableError } from '../../src/offchain/errors.js';
import type { PayloadPutOptions, PayloadSource, PayloadStore, StoredPayload } from '../../src/offchain/types.js';
import { until } from '../support/settle.js';

const APPEND = join(import.meta.dirname, '..', 'fixtures', 'anchor', 'append.ts');
const TENANT = 'org.acme';
const THING = 'org.acme:durability';
const STREAM = `${TENANT}/batched`;
const SINGLE = `${TENANT}/alone`;

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'twinledger-anchor-'));
  dirs.push(dir);
  return dir;
}

/** mulberry32: a small seeded PRNG, so that a failing run's kill points can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface BatchMetaV1 {
  v: number;
  firstSeq: number;
  lastSeq: number;
  prevBatchId: string | null;
}

/**
 * The stream's batches on the ledger, first to last, walked from the head back through `meta.prevBatchId`; checks that
 * they tile the records 1..N without gap or overlap (each batch starts right after its predecessor, its tree size is
 * its range, its prevRoot is its predecessor's root, seqs 1..k, distinct IDs). Returns the batches by ID and N.
 */
async function ledgerChain(
  ledger: Ledger,
  stream: string,
): Promise<{ batches: BatchRecord[]; byId: Map<string, BatchRecord>; records: number }> {
  const head = await ledger.getHead(stream);
  const batches: BatchRecord[] = [];
  for (let batchId = head.batchId; batchId !== null;) {
    const batch = await ledger.getBatch(stream, batchId);
    assert.ok(batch, `batch ${batchId} of ${stream}, named by the head or its successor, is on the ledger`);
    batches.unshift(batch);
    assert.ok(batches.length <= head.seq, `the chain of ${stream} is no longer than its head's seq ${head.seq}`);
    batchId = (batch.meta as unknown as BatchMetaV1).prevBatchId;
  }
  assert.equal(batches.length, head.seq, `the chain of ${stream} reaches back to its first batch`);
  const byId = new Map<string, BatchRecord>();
  let next = 1;
  let prevRoot = GENESIS_ROOT;
  let prevBatchId: string | null = null;
  for (const [index, batch] of batches.entries()) {
    const meta = batch.meta as unknown as BatchMetaV1;
    const name = `${stream} batch #${index + 1} (${batch.batchId}, records ${meta.firstSeq}..${meta.lastSeq})`;
    assert.equal(batch.seq, index + 1, `${name}: ledger seq`);
    assert.ok(!byId.has(batch.batchId), `${name}: anchored once`);
    byId.set(batch.batchId, batch);
    assert.equal(meta.v, 1, `${name}: meta.v`);
    assert.equal(meta.firstSeq, next, `${name}: starts right after the previous batch (no gap, no overlap)`);
    assert.ok(meta.lastSeq >= meta.firstSeq, `${name}: a range`);
    assert.equal(batch.treeSize, meta.lastSeq - meta.firstSeq + 1, `${name}: one leaf per record of its range`);
    assert.equal(meta.prevBatchId, prevBatchId, `${name}: links to the previous batch`);
    assert.equal(batch.prevRoot, prevRoot, `${name}: prevRoot is the previous batch's root`);
    next = meta.lastSeq + 1;
    prevRoot = batch.root;
    prevBatchId = batch.batchId;
  }
  const total = batches.reduce((sum, batch) => sum + batch.treeSize, 0);
  assert.equal(total, next - 1, 'the tree sizes add up to the records covered');
  // The SDK's own walk agrees.
  const walked = await verifyStream(ledger, stream);
  assert.equal(walked.ok, true, `verifyStream(${stream}): ${JSON.stringify(walked.firstBreak)}`);
  assert.equal(walked.batches, batches.length);
  return { batches, byId, records: next - 1 };
}

/** Valid BatchAnchored / RecordAnchored transactions in the block log, per stream/batchId and per record key. */
async function anchorTransactions(ledger: DevLedger): Promise<{ batches: Map<string, number>; records: Map<string, number> }> {
  const batches = new Map<string, number>();
  const records = new Map<string, number>();
  const height = await ledger.getChainHeight();
  for (let number = 0n; number < height; number += 1n) {
    const block = await ledger.getBlock(number);
    for (const tx of block?.transactions ?? []) {
      if (tx.validationCode !== 0 || tx.event === null) continue;
      const payload = JSON.parse(Buffer.from(tx.event.payload).toString('utf8')) as { stream?: string; batchId?: string; key?: string };
      if (tx.event.name === 'BatchAnchored') {
        const id = `${payload.stream}/${payload.batchId}`;
        batches.set(id, (batches.get(id) ?? 0) + 1);
      } else if (tx.event.name === 'RecordAnchored') {
        records.set(String(payload.key), (records.get(String(payload.key)) ?? 0) + 1);
      }
    }
  }
  return { batches, records };
}

/** Every batch of the chain committed by exactly one valid transaction, and no other batch of the stream in the log. */
function assertEachBatchCommittedOnce(transactions: { batches: Map<string, number> }, stream: string, chain: BatchRecord[]): void {
  const ofStream = [...transactions.batches].filter(([id]) => id.startsWith(`${stream}/`));
  for (const [id, count] of ofStream) assert.equal(count, 1, `batch ${id} is committed by ${count} transactions`);
  assert.deepEqual(
    ofStream.map(([id]) => id).sort(),
    chain.map((batch) => `${stream}/${batch.batchId}`).sort(),
    'the block log anchors exactly the chain',
  );
}

/** An anchorer's batch proof, checked offline (RFC 9162 inclusion of the envelope's canonical bytes) and against the ledger's batch. */
function assertBatchProof(proof: AnchorProof, chain: Map<string, BatchRecord>, stream: string, seq: number, leafHash?: string): BatchProof {
  const name = `proof of ${stream} #${seq}`;
  assert.equal(proof.mode, 'batch', name);
  const batchProof = proof as BatchProof;
  assert.equal(batchProof.stream, stream, name);
  assert.equal(batchProof.envelope.seq, seq, name);
  if (leafHash !== undefined) assert.equal(envelopeLeafHash(batchProof.envelope), leafHash, `${name}: the acknowledged record`);
  const inclusion = { leafIndex: batchProof.leafIndex, treeSize: batchProof.treeSize, path: batchProof.auditPath };
  assert.equal(
    verifyInclusion(inclusion, { data: envelopeBytes(batchProof.envelope) }, { root: batchProof.root, treeSize: batchProof.treeSize }),
    true,
    `${name}: inclusion verifies offline`,
  );
  const batch = chain.get(batchProof.batchId);
  assert.ok(batch, `${name}: its batch ${batchProof.batchId} is in the stream's chain on the ledger`);
  const meta = batch.meta as unknown as BatchMetaV1;
  assert.equal(batch.root, batchProof.root, `${name}: root on the ledger`);
  assert.equal(batch.treeSize, batchProof.treeSize, `${name}: tree size on the ledger`);
  assert.equal(batch.prevRoot, batchProof.prevRoot, `${name}: prevRoot on the ledger`);
  assert.equal(batch.txId, batchProof.ledger.txId, `${name}: the transaction that anchored the batch`);
  assert.equal(batch.seq, batchProof.ledger.batchSeq, `${name}: batch seq on the ledger`);
  assert.equal(batchProof.leafIndex, seq - meta.firstSeq, `${name}: leaf index within the batch's range`);
  return batchProof;
}

async function appendAll(
  anchorer: Anchorer,
  payloads: unknown[],
  extra: { stream?: string; anchor?: 'batch' | 'record' } = {},
): Promise<Receipt[]> {
  const receipts: Receipt[] = [];
  for (let from = 0; from < payloads.length; from += 64) {
    const chunk = payloads.slice(from, from + 64);
    receipts.push(
      ...(await Promise.all(
        chunk.map((payload) =>
          anchorer.append({ tenant: TENANT, thingId: THING, kind: 'telemetry', stream: 'batched', ...extra, payload }),
        ),
      )),
    );
  }
  return receipts;
}

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------------
// 1. SIGKILL at random points

interface Ack {
  stream: string;
  seq: number;
  leafHash: string;
  run: number;
  n: number;
}

interface RunResult {
  signal: NodeJS.Signals | null;
  code: number | null;
  acked: number;
  done: boolean;
}

const children = new Set<ReturnType<typeof spawn>>();

/**
 * Runs the append fixture for `count` records; pushes every acknowledged record it prints to `acks`, and SIGKILLs it
 * (synchronously, as the line is read) once it printed `killAfter` acknowledgements. Resolves once its stdout closed.
 */
function runAppender(
  dataDir: string,
  run: number,
  first: number,
  count: number,
  killAfter: number | undefined,
  acks: Ack[],
): Promise<RunResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', APPEND, dataDir, String(run), String(first), String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let acked = 0;
  let done = false;
  let killed = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    let value: Partial<Ack> & { opened?: number; done?: boolean };
    try {
      value = JSON.parse(line) as typeof value;
    } catch {
      return; // a line cut short by the kill was not an acknowledgement (lines are single writes, so this is defensive)
    }
    if (value.done === true) done = true;
    if (value.seq === undefined) return;
    acks.push(value as Ack);
    acked += 1;
    if (killAfter !== undefined && acked >= killAfter && !killed) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`run ${run} did not end within 60 s (${acked} acknowledged); stderr: ${stderr}`));
    }, 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`run ${run} exited with ${code}; stderr: ${stderr}`));
      else resolve({ signal, code, acked, done });
    });
  });
}

after(() => {
  for (const child of children) child.kill('SIGKILL');
});

const TOTAL = 10_000;
const KILLS = 5;
const seed = Number(process.env.TWINLEDGER_DURABILITY_SEED ?? randomInt(2 ** 31));

describe('Anchorer durability: SIGKILL', () => {
  it(`a process appending ${TOTAL} records is SIGKILLed at ${KILLS} random points; every acknowledged record is anchored exactly once, every proof verifies (seed ${seed})`, async (t) => {
    const random = prng(seed);
    const points = new Set<number>();
    while (points.size < KILLS) points.add(1 + Math.floor(random() * (TOTAL - 200)));
    const killPoints = [...points].sort((a, b) => a - b);
    t.diagnostic(`seed ${seed}: kill after ${killPoints.join(', ')} acknowledged records`);
    const dataDir = tempDir();
    const acks: Ack[] = [];
    const started = Date.now();

    for (let run = 0; run <= KILLS; run += 1) {
      const killPoint = killPoints[run];
      // At least one new acknowledgement per run: a previous run may have overshot this kill point.
      const killAfter = killPoint === undefined ? undefined : Math.max(1, killPoint - acks.length);
      const before = acks.length;
      const result = await runAppender(dataDir, run, before, TOTAL - before, killAfter, acks);
      if (killPoint === undefined) {
        assert.ok(result.done && result.code === 0, `the last run appended the rest and closed: ${JSON.stringify(result)}`);
        assert.equal(acks.length, TOTAL);
      } else {
        assert.equal(result.signal, 'SIGKILL', `run ${run} was killed before it finished: ${JSON.stringify(result)}`);
      }
      // Between runs: the ledger the killed process left opens (DevLedger verifies its block chain on open), the batch
      // chain tiles 1..m already and no batch or record was committed twice so far.
      const ledger = await DevLedger.open({ directory: join(dataDir, 'ledger') });
      try {
        const { batches, records } = await ledgerChain(ledger, STREAM);
        const transactions = await anchorTransactions(ledger);
        assertEachBatchCommittedOnce(transactions, STREAM, batches);
        for (const [key, count] of transactions.records) assert.equal(count, 1, `record ${key} is committed by ${count} transactions`);
        t.diagnostic(
          `run ${run}: ${result.acked} acknowledged (${acks.length} in all), ${result.signal ?? `exit ${result.code}`}; ` +
            `ledger: ${batches.length} batches (records 1..${records}), ${transactions.records.size} single records; ${Date.now() - started} ms`,
        );
      } finally {
        await ledger.close();
      }
    }

    // The acknowledged records: distinct sequence numbers per stream (a restart never gave a seq out again).
    const acked = new Map<string, Ack>();
    for (const ack of acks) {
      assert.ok(ack.stream === STREAM || ack.stream === SINGLE, ack.stream);
      const key = `${ack.stream}#${ack.seq}`;
      assert.ok(!acked.has(key), `${key} was acknowledged twice`);
      acked.set(key, ack);
    }

    // Resume in this process, with the same ledger and store given explicitly so that they can be read here too.
    const ledger = await DevLedger.open({ directory: join(dataDir, 'ledger') });
    const store = new EmbeddedStore({ dataDir: join(dataDir, 'payloads') });
    const anchorer = await Anchorer.open({
      dataDir,
      ledger,
      store,
      durable: true,
      batch: { maxLeaves: 256, maxWaitMs: 50 },
      uploadConcurrency: 32,
    });
    try {
      const resumed = anchorer.status();
      await until(() => anchorer.status().backlog === 0, 'the backlog to drain after the last restart', 60_000);
      const lastSeq = (stream: string) => anchorer.status().streams.find((entry) => entry.stream === stream)?.lastSeq ?? 0;
      const highest = lastSeq(STREAM);
      const highestSingle = lastSeq(SINGLE);
      t.diagnostic(
        `resumed with a backlog of ${resumed.backlog}, drained after ${Date.now() - started} ms; ` +
          `outbox: ${STREAM} 1..${highest}, ${SINGLE} 1..${highestSingle}`,
      );
      assert.ok(highest + highestSingle >= TOTAL, `the outbox holds at least the ${TOTAL} acknowledged records`);
      for (const ack of acks) assert.ok(ack.seq <= (ack.stream === STREAM ? highest : highestSingle));

      // Exactly once: the chain tiles 1..N, N = the highest seq of the stream in the outbox; one transaction per batch
      // and per single record, and none for a record the outbox does not have.
      const { batches, byId, records } = await ledgerChain(ledger, STREAM);
      assert.equal(records, highest, 'the ledger anchors every batched record of the outbox, and no more');
      const transactions = await anchorTransactions(ledger);
      assertEachBatchCommittedOnce(transactions, STREAM, batches);
      const singleKeys = [...transactions.records.keys()].filter((key) => key.startsWith(`${SINGLE}/`));
      assert.deepEqual(
        singleKeys.sort(),
        Array.from({ length: highestSingle }, (_, i) => `${SINGLE}/${i + 1}`).sort(),
        'the ledger anchors every single record of the outbox, and no more',
      );
      for (const key of singleKeys) assert.equal(transactions.records.get(key), 1, `record ${key} is committed once`);

      // Every record's proof (acknowledged or not), offline and against the ledger; the payloads are in the store.
      const payloads = new Set<string>();
      const checkPayload = async (proof: AnchorProof, ack: Ack | undefined) => {
        const payload = JSON.parse(Buffer.from(await store.get(proof.envelope.payloadCid)).toString('utf8')) as { run: number; n: number };
        if (ack !== undefined)
          assert.deepEqual(payload, { run: ack.run, n: ack.n }, `the payload of acknowledged ${proof.stream} #${ack.seq}`);
        const key = `${payload.run}/${payload.n}`;
        assert.ok(!payloads.has(key), `payload ${key} is in the outbox once`);
        payloads.add(key);
      };
      for (let seq = 1; seq <= highest; seq += 1) {
        const ack = acked.get(`${STREAM}#${seq}`);
        const proof = assertBatchProof(await anchorer.proof(STREAM, seq), byId, STREAM, seq, ack?.leafHash);
        await checkPayload(proof, ack);
        // The SDK's verify(), with the ledger and the store, on the last record of each batch.
        if (seq === (byId.get(proof.batchId)!.meta as unknown as BatchMetaV1).lastSeq) {
          const verdict = await verify(proof, { ledger, store });
          assert.equal(verdict.ok, true, `verify() of #${seq}: ${JSON.stringify(verdict.checks)}`);
        }
      }
      for (let seq = 1; seq <= highestSingle; seq += 1) {
        const ack = acked.get(`${SINGLE}#${seq}`);
        const proof = await anchorer.proof(SINGLE, seq);
        assert.equal(proof.mode, 'record');
        const leafHash = envelopeLeafHash(proof.envelope);
        if (ack !== undefined) assert.equal(leafHash, ack.leafHash, `proof of ${SINGLE} #${seq}: the acknowledged record`);
        const onLedger = await ledger.getRecord(`${SINGLE}/${seq}`);
        assert.equal(onLedger?.sha256, leafHash, `${SINGLE} #${seq} on the ledger`);
        assert.equal(onLedger?.txId, proof.ledger.txId);
        await checkPayload(proof, ack);
        const verdict = await verify(proof, { ledger, store });
        assert.equal(verdict.ok, true, `verify() of ${SINGLE} #${seq}: ${JSON.stringify(verdict.checks)}`);
      }
      t.diagnostic(`${highest + highestSingle} proofs checked, ${batches.length} batches; ${Date.now() - started} ms in all`);
    } finally {
      await anchorer.close();
      await store.close();
      await ledger.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// 2. The ledger and the store unavailable for a while; replies lost after the commit

interface Faults {
  ledgerDown: boolean;
  storeDown: boolean;
  /** anchorBatch / anchorRecord commit, then the reply is lost: once per batch and record. */
  loseReplies: boolean;
  /** Calls that reached the real ledger or store. */
  committed: { anchorBatch: number; anchorRecord: number; put: number };
  /** When calls failed for the outage. */
  failed: { ledger: number[]; store: number[] };
  lost: Set<string>;
}

function faults(): Faults {
  return {
    ledgerDown: false,
    storeDown: false,
    loseReplies: false,
    committed: { anchorBatch: 0, anchorRecord: 0, put: 0 },
    failed: { ledger: [], store: [] },
    lost: new Set(),
  };
}

/** The ledger as a network sees it: unreachable while `ledgerDown` (retryable gateway errors), replies lost while `loseReplies`. */
function faultyLedger(inner: DevLedger, state: Faults): Ledger {
  const unavailable = (transaction: string, phase: 'evaluate' | 'submit') => {
    state.failed.ledger.push(Date.now());
    const info = { transaction, phase, grpcCode: 14, retryable: true };
    return phase === 'evaluate'
      ? new EvaluationError('UNAVAILABLE: no connection to the gateway peer (test outage)', info)
      : new SubmissionError('UNAVAILABLE: no connection to the orderer (test outage)', info);
  };
  const lost = (transaction: string, transactionId: string) =>
    new CommitStatusError('DEADLINE_EXCEEDED: the commit status did not arrive (reply lost in the test)', {
      transaction,
      transactionId,
      phase: 'commitStatus',
      grpcCode: 4,
      retryable: true,
    });
  const overrides: Partial<Ledger> = {
    getHead: async (stream: string, options?: CallOptions) => {
      if (state.ledgerDown) throw unavailable('GetHead', 'evaluate');
      return inner.getHead(stream, options);
    },
    getBatch: async (stream: string, batchId: string, options?: CallOptions) => {
      if (state.ledgerDown) throw unavailable('GetBatch', 'evaluate');
      return inner.getBatch(stream, batchId, options);
    },
    anchorBatch: async (input: BatchAnchor, options?: CallOptions): Promise<BatchRecord> => {
      if (state.ledgerDown) throw unavailable('AnchorBatch', 'submit');
      const batch = await inner.anchorBatch(input, options);
      state.committed.anchorBatch += 1;
      const id = `batch ${input.stream}/${input.batchId}`;
      if (state.loseReplies && !state.lost.has(id)) {
        state.lost.add(id);
        throw lost('AnchorBatch', batch.txId);
      }
      return batch;
    },
    anchorRecord: async (input, options?: CallOptions): Promise<AnchoredRecord> => {
      if (state.ledgerDown) throw unavailable('AnchorRecord', 'submit');
      const record = await inner.anchorRecord(input, options);
      state.committed.anchorRecord += 1;
      const id = `record ${input.key}`;
      if (state.loseReplies && !state.lost.has(id)) {
        state.lost.add(id);
        throw lost('AnchorRecord', record.txId);
      }
      return record;
    },
  };
  return new Proxy(inner, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof Ledger];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The payload store, unreachable while `storeDown`. */
function faultyStore(inner: EmbeddedStore, state: Faults): PayloadStore {
  const put = async (payload: PayloadSource, options?: PayloadPutOptions): Promise<StoredPayload> => {
    if (state.storeDown) {
      state.failed.store.push(Date.now());
      throw new StoreUnavailableError('embedded', 'test outage', 'Wait until it is back.');
    }
    const stored = await inner.put(payload, options);
    state.committed.put += 1;
    return stored;
  };
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'put') return put;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Calls failed from `since` on, and went on failing after 100 ms of backoff: retried, not given up. */
const retried = (failures: number[], since = 0) => {
  const recent = failures.filter((at) => at >= since);
  return recent.length >= 3 && recent.at(-1)! - recent[0]! >= 100;
};

const payloadsFrom = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ n: from + i }));

describe('Anchorer durability: outages', () => {
  const opened: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of opened.reverse()) await close();
  });

  async function setup(state: Faults) {
    const dataDir = tempDir();
    const ledger = await DevLedger.open({ directory: join(dataDir, 'ledger') });
    const store = new EmbeddedStore({ dataDir: join(dataDir, 'payloads') });
    opened.push(
      () => ledger.close(),
      () => store.close(),
    );
    const anchorer = await Anchorer.open({
      dataDir,
      ledger: faultyLedger(ledger, state),
      store: faultyStore(store, state),
      durable: true,
      batch: { maxLeaves: 50, maxWaitMs: 20 },
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
    });
    opened.push(() => anchorer.close());
    return { dataDir, ledger, store, anchorer };
  }

  /** Every receipt's proof verifies offline and against the ledger, the chain tiles 1..N once, the payloads are stored. */
  async function assertAllAnchored(ledger: DevLedger, store: EmbeddedStore, receipts: Receipt[]) {
    const batchReceipts = receipts.filter((receipt) => receipt.mode === 'batch');
    const { batches, byId, records } = await ledgerChain(ledger, STREAM);
    assert.equal(records, batchReceipts.length, 'every record anchored, none twice');
    assertEachBatchCommittedOnce(await anchorTransactions(ledger), STREAM, batches);
    for (const receipt of batchReceipts) {
      const proof = assertBatchProof(await receipt.proof({ timeoutMs: 5_000 }), byId, STREAM, receipt.seq, receipt.leafHash);
      const verdict = await verify(proof, { ledger, store });
      assert.equal(verdict.ok, true, `verify() of #${receipt.seq}: ${JSON.stringify(verdict.checks)}`);
    }
    return batches;
  }

  it('the ledger unavailable for a while: appends go on, the backlog grows, everything is anchored once after recovery', async () => {
    const state = faults();
    const { ledger, store, anchorer } = await setup(state);

    // Down from the start: the first batch cannot even read the stream's head.
    state.ledgerDown = true;
    const receipts = await appendAll(anchorer, payloadsFrom(0, 200));
    await until(() => anchorer.status().lastError?.phase === 'close', 'a failed close (the head of the stream cannot be read)');
    await until(() => retried(state.failed.ledger), 'several retries');
    assert.match(anchorer.status().lastError!.message, /test outage/);
    assert.equal(anchorer.status().lastError!.stream, STREAM);
    assert.equal(anchorer.status().backlog, 200);
    receipts.push(...(await appendAll(anchorer, payloadsFrom(200, 100))));
    assert.equal(anchorer.status().backlog, 300, 'the backlog grows');
    assert.equal((await ledger.getHead(STREAM)).seq, 0);

    state.ledgerDown = false;
    await until(() => anchorer.status().backlog === 0, 'the backlog to drain after the ledger came back');
    const anchoredBefore = (await ledger.getHead(STREAM)).seq;
    assert.ok(anchoredBefore > 0);

    // Down again in the middle of the stream: batches close, anchoring fails.
    state.ledgerDown = true;
    const outage = Date.now();
    receipts.push(...(await appendAll(anchorer, payloadsFrom(300, 200))));
    await until(() => anchorer.status().lastError?.phase === 'anchor', 'a failed anchoring');
    await until(() => retried(state.failed.ledger, outage), 'several retries');
    assert.match(anchorer.status().lastError!.message, /test outage/);
    assert.equal(anchorer.status().backlog, 200);
    assert.equal((await ledger.getHead(STREAM)).seq, anchoredBefore, 'nothing anchored meanwhile');

    state.ledgerDown = false;
    await until(() => anchorer.status().backlog === 0, 'the backlog to drain after the second outage');
    const batches = await assertAllAnchored(ledger, store, receipts);
    assert.equal(state.committed.anchorBatch, batches.length, 'each batch reached the ledger once');
  });

  it('the payload store unavailable for a while: the payloads wait in the outbox, everything is anchored once after recovery', async () => {
    const state = faults();
    const { ledger, store, anchorer } = await setup(state);

    const receipts = await appendAll(anchorer, payloadsFrom(0, 100));
    await until(() => anchorer.status().backlog === 0, 'the first records to be anchored');
    const anchoredBefore = (await ledger.getHead(STREAM)).seq;

    state.storeDown = true;
    receipts.push(...(await appendAll(anchorer, payloadsFrom(100, 200))));
    await until(() => anchorer.status().lastError?.phase === 'upload', 'a failed upload');
    await until(() => retried(state.failed.store), 'several retries');
    assert.match(anchorer.status().lastError!.message, /payload store is unavailable: test outage/);
    receipts.push(...(await appendAll(anchorer, payloadsFrom(300, 100))));
    assert.equal(anchorer.status().backlog, 300, 'the backlog grows');
    assert.equal((await ledger.getHead(STREAM)).seq, anchoredBefore, 'no record is anchored before its payload is stored');

    state.storeDown = false;
    await until(() => anchorer.status().backlog === 0, 'the backlog to drain after the store came back');
    await assertAllAnchored(ledger, store, receipts);
    for (const [index, receipt] of receipts.entries()) {
      const payload = JSON.parse(Buffer.from(await store.get(receipt.envelope.payloadCid)).toString('utf8')) as unknown;
      assert.deepEqual(payload, { n: index }, `the payload of #${receipt.seq}`);
    }
  });

  it('ledger replies lost after the commit: retried, each batch and record on the ledger once, every proof verifies', async () => {
    const state = faults();
    const { ledger, store, anchorer } = await setup(state);
    state.loseReplies = true;

    const receipts = await appendAll(anchorer, payloadsFrom(0, 150));
    receipts.push(...(await appendAll(anchorer, payloadsFrom(0, 20), { stream: 'alone', anchor: 'record' })));
    receipts.push(...(await appendAll(anchorer, payloadsFrom(150, 150))));
    await until(() => anchorer.status().backlog === 0, 'everything to be anchored despite the lost replies');
    assert.equal(anchorer.status().lastError?.phase, 'anchor');
    assert.match(anchorer.status().lastError!.message, /reply lost/);

    const batches = await assertAllAnchored(ledger, store, receipts);
    // Every batch lost its first reply and was sent again; the ledger answered the retry with the batch it had.
    assert.deepEqual(
      [...state.lost].filter((id) => id.startsWith('batch ')).sort(),
      batches.map((batch) => `batch ${STREAM}/${batch.batchId}`).sort(),
    );
    assert.equal(state.committed.anchorBatch, 2 * batches.length);

    // Per-record anchoring: one record on the ledger per receipt, committed by one transaction.
    const singles = receipts.filter((receipt) => receipt.mode === 'record');
    const { records } = await anchorTransactions(ledger);
    for (const receipt of singles) {
      const key = `${receipt.stream}/${receipt.seq}`;
      assert.equal(records.get(key), 1, `record ${key} is committed by one transaction`);
      const proof = (await receipt.proof({ timeoutMs: 5_000 })) as RecordProof;
      assert.equal(proof.mode, 'record');
      const onLedger = await ledger.getRecord(key);
      assert.equal(onLedger?.sha256, receipt.leafHash);
      assert.equal(onLedger?.txId, proof.ledger.txId, `the proof of ${key} names the transaction that anchored it`);
      const verdict = await verify(proof, { ledger, store });
      assert.equal(verdict.ok, true, `verify() of ${key}: ${JSON.stringify(verdict.checks)}`);
    }
    assert.equal(records.size, singles.length);
  });
});
