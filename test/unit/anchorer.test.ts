// The Anchorer on a DevLedger and an EmbeddedStore in temp folders: receipts and envelopes, batches and their chain on
// the ledger, per-record mode, proofs that verify against the ledger's batch, restart, backpressure, a stream the
// ledger refuses, one process per folder, and input checks. Crash durability: test/integration/anchor-durability.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Anchorer } from '../../src/anchor/anchorer.js';
import type { AnchorerOptions } from '../../src/anchor/options.js';
import { BacklogFullError, StreamHaltedError } from '../../src/anchor/errors.js';
import { envelopeBytes, envelopeLeafHash } from '../../src/anchor/envelope.js';
import type { BatchProof, RecordProof } from '../../src/anchor/types.js';
import { TwinLedgerError, ValidationError } from '../../src/core/errors.js';
import { DevLedger } from '../../src/ledger/dev/index.js';
import { ChaincodeError } from '../../src/ledger/errors.js';
import { GENESIS_ROOT, type BatchRecord, type Ledger } from '../../src/ledger/types.js';
import { verifyInclusion } from '../../src/merkle/index.js';
import { EmbeddedStore, computeCid } from '../../src/offchain/index.js';
import { rejectsWith } from '../support/rejects.js';

const root = mkdtempSync(join(tmpdir(), 'twinledger-anchorer-'));
let counter = 0;
after(() => rmSync(root, { recursive: true, force: true }));

function newDir(): string {
  counter += 1;
  return join(root, `anchorer-${counter}`);
}

async function open(options: AnchorerOptions = {}): Promise<Anchorer> {
  return Anchorer.open({
    dataDir: newDir(),
    batch: { maxLeaves: 10, maxWaitMs: 20 },
    retry: { initialDelayMs: 10, maxDelayMs: 50 },
    ...options,
  });
}

/** A Ledger that forwards to `target`, with `anchorBatch` replaceable. */
function proxy(target: Ledger, anchorBatch?: Ledger['anchorBatch']): Ledger {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (property === 'anchorBatch' && anchorBatch !== undefined) return anchorBatch;
      const value = Reflect.get(object, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}

describe('Anchorer: records, batches and proofs', () => {
  it('appends records with envelopes whose hash, CID and salt describe the payload; defaults the content type', async () => {
    const anchorer = await open();
    try {
      const bytes = new Uint8Array([1, 2, 3]);
      const first = await anchorer.append({ tenant: 't1', thingId: 'org.acme:lamp-1', kind: 'telemetry', payload: bytes });
      const text = await anchorer.append({ tenant: 't1', thingId: 'org.acme:lamp-1', kind: 'event', payload: 'on' });
      const json = await anchorer.append({ tenant: 't1', thingId: 'org.acme:lamp-1', kind: 'twin-change', payload: { b: 1, a: [true] } });
      assert.deepEqual(
        [first, text, json].map((receipt) => [receipt.stream, receipt.seq, receipt.mode, receipt.envelope.contentType]),
        [
          ['t1/default', 1, 'batch', 'application/octet-stream'],
          ['t1/default', 2, 'batch', 'text/plain; charset=utf-8'],
          ['t1/default', 3, 'batch', 'application/json'],
        ],
      );
      const { envelope } = first;
      assert.equal(envelope.v, 1);
      assert.equal(envelope.payloadSha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(envelope.payloadCid, await computeCid(bytes, { version: 1 }));
      assert.equal(envelope.payloadSize, 3);
      assert.match(envelope.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.match(envelope.salt, /^[0-9a-f]{32}$/);
      assert.notEqual(envelope.salt, text.envelope.salt);
      assert.equal(first.leafHash, envelopeLeafHash(envelope));
      assert.equal(json.envelope.payloadSize, Buffer.byteLength('{"a":[true],"b":1}'));
    } finally {
      await anchorer.close();
    }
  });

  it('anchors batches that chain on the ledger; every proof verifies against the ledger batch', async () => {
    const anchorer = await open({ instanceId: 'node-1' });
    try {
      const receipts = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          anchorer.append({ tenant: 't1', thingId: `org.acme:s-${i % 3}`, kind: 'telemetry', payload: { i } }),
        ),
      );
      assert.ok(receipts.every((receipt) => receipt.stream === 't1/default@node-1'));
      assert.deepEqual(
        receipts.map((receipt) => receipt.seq),
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
      const proofs = (await Promise.all(receipts.map((receipt) => receipt.proof()))) as BatchProof[];
      const batches = new Map<string, BatchProof>();
      for (const [index, proof] of proofs.entries()) {
        assert.equal(proof.mode, 'batch');
        assert.equal(proof.envelope.seq, index + 1);
        assert.ok(
          verifyInclusion(
            { leafIndex: proof.leafIndex, treeSize: proof.treeSize, path: proof.auditPath },
            { data: envelopeBytes(proof.envelope) },
            proof.root,
          ),
          `proof of seq ${index + 1}`,
        );
        batches.set(proof.batchId, proof);
      }
      assert.ok(batches.size >= 3, `25 records at most 10 per batch: ${batches.size} batches`);
      assert.equal(
        [...batches.values()].reduce((sum, proof) => sum + proof.treeSize, 0),
        25,
      );
      const status = anchorer.status();
      assert.equal(status.backlog, 0);
      assert.equal(status.streams[0]?.lastSeq, 25);
      assert.equal(status.streams[0]?.lastAnchoredBatch?.lastSeq, 25);
      const ordered = [...batches.values()].sort((a, b) => (a.ledger.batchSeq ?? 0) - (b.ledger.batchSeq ?? 0));
      assert.equal(ordered[0]?.prevRoot, GENESIS_ROOT);
      for (let i = 1; i < ordered.length; i += 1) assert.equal(ordered[i]?.prevRoot, ordered[i - 1]?.root);
      // The block of each anchoring transaction, as the ledger reported it; later batches in later (or the same) blocks.
      const blocks = ordered.map((proof) => proof.ledger.block);
      assert.ok(
        blocks.every((block) => block !== undefined && /^\d+$/.test(block)),
        JSON.stringify(blocks),
      );
      for (let i = 1; i < blocks.length; i += 1) assert.ok(Number(blocks[i]) >= Number(blocks[i - 1]), JSON.stringify(blocks));
    } finally {
      await anchorer.close();
    }
  });

  it('anchors record by record in per-record mode, and keeps a stream to one mode', async () => {
    const dataDir = newDir();
    const anchorer = await Anchorer.open({ dataDir, mode: 'record' });
    let leafHash = '';
    let payloadCid = '';
    try {
      const receipt = await anchorer.append({ tenant: 't1', thingId: 'org.acme:valve', kind: 'command', payload: { close: true } });
      const proof = (await receipt.proof()) as RecordProof;
      assert.equal(proof.mode, 'record');
      assert.equal(proof.key, 't1/default/1');
      assert.equal(proof.leafHash, receipt.leafHash);
      assert.match(proof.ledger.block ?? '', /^\d+$/);
      leafHash = receipt.leafHash;
      payloadCid = receipt.envelope.payloadCid;
      await rejectsWith(
        anchorer.append({ tenant: 't1', thingId: 'org.acme:valve', kind: 'command', payload: 'x', anchor: 'batch' }),
        ValidationError,
      );
      const batched = await anchorer.append({
        tenant: 't1',
        stream: 'bulk',
        thingId: 'org.acme:valve',
        kind: 'telemetry',
        payload: 'x',
        anchor: 'batch',
      });
      assert.equal(((await batched.proof()) as BatchProof).mode, 'batch');
    } finally {
      await anchorer.close();
    }
    const ledger = await DevLedger.open({ directory: join(dataDir, 'ledger') });
    try {
      const record = await ledger.getRecord('t1/default/1');
      assert.equal(record?.sha256, leafHash);
      assert.equal(record?.cid, payloadCid);
    } finally {
      await ledger.close();
    }
  });

  it('resumes after close() without draining: everything appended is anchored once, and seq continues', async () => {
    const dataDir = newDir();
    const first = await Anchorer.open({ dataDir, batch: { maxLeaves: 1000, maxWaitMs: 60_000 } });
    const receipts = await Promise.all(
      Array.from({ length: 30 }, (_, i) => first.append({ tenant: 't1', thingId: 'x', kind: 'event', payload: { i } })),
    );
    assert.ok(first.status().backlog > 0, 'a batch that waits a minute is not anchored yet');
    await first.close();
    const second = await Anchorer.open({ dataDir, batch: { maxLeaves: 1000, maxWaitMs: 10 } });
    try {
      const next = await second.append({ tenant: 't1', thingId: 'x', kind: 'event', payload: 'after' });
      assert.equal(next.seq, 31);
      const proofs = (await Promise.all([...receipts, next].map((receipt) => second.proof(receipt.stream, receipt.seq)))) as BatchProof[];
      assert.deepEqual(
        proofs.map((proof) => proof.envelope.seq),
        Array.from({ length: 31 }, (_, i) => i + 1),
      );
      assert.equal(second.status().backlog, 0);
      const batchIds = new Set(proofs.map((proof) => proof.batchId));
      assert.equal(
        [...batchIds].map((id) => proofs.find((proof) => proof.batchId === id)!.treeSize).reduce((a, b) => a + b, 0),
        31,
      );
    } finally {
      await second.close();
    }
  });

  it('bounds the backlog: append waits for room, or fails with BacklogFullError when asked', async () => {
    const dataDir = newDir();
    const devLedger = await DevLedger.open({ directory: join(dataDir, 'ledger') });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ledger = proxy(devLedger, async (input, options) => {
      await gate;
      return devLedger.anchorBatch(input, options);
    });
    const store = new EmbeddedStore({ dataDir: join(dataDir, 'payloads') });
    const anchorer = await Anchorer.open({ dataDir, ledger, store, maxBacklog: 5, batch: { maxLeaves: 5, maxWaitMs: 10 } });
    try {
      for (let i = 0; i < 5; i += 1) await anchorer.append({ tenant: 't1', thingId: 'x', kind: 'telemetry', payload: { i } });
      const full = await rejectsWith(
        anchorer.append({ tenant: 't1', thingId: 'x', kind: 'telemetry', payload: 'no room' }, { whenFull: 'fail' }),
        BacklogFullError,
      );
      assert.equal(full.maxBacklog, 5);
      const waiting = anchorer.append({ tenant: 't1', thingId: 'x', kind: 'telemetry', payload: 'waits' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(anchorer.status().backlog, 5);
      release();
      const receipt = await waiting;
      assert.equal(receipt.seq, 6);
      await receipt.proof();
    } finally {
      await anchorer.close();
      await store.close();
      await devLedger.close();
    }
  });

  it('a stream the ledger refuses for good stops with StreamHaltedError; status says why', async () => {
    const dataDir = newDir();
    const devLedger = await DevLedger.open({ directory: join(dataDir, 'ledger') });
    const ledger = proxy(devLedger, async (input): Promise<BatchRecord> => {
      throw new ChaincodeError(500, 'CONFLICT', `batch ${input.batchId} is already anchored with another root`, { phase: 'endorse' });
    });
    const anchorer = await Anchorer.open({ dataDir, ledger, batch: { maxLeaves: 1, maxWaitMs: 0 } });
    try {
      const receipt = await anchorer.append({ tenant: 't1', thingId: 'x', kind: 'telemetry', payload: 'x' });
      const halted = await rejectsWith(receipt.proof({ timeoutMs: 5_000 }), StreamHaltedError);
      assert.match(halted.message, /CONFLICT/);
      assert.match(anchorer.status().streams[0]?.halted ?? '', /already anchored/);
      assert.equal(anchorer.status().lastError?.phase, 'anchor');
    } finally {
      await anchorer.close();
      await devLedger.close();
    }
  });

  it('shares the uploads between streams: a busy stream does not starve a quiet one', async () => {
    const anchorer = await open({ durable: false, uploadConcurrency: 2, maxBacklog: 1000 });
    try {
      const append = (stream: string, i: number) =>
        anchorer.append({ tenant: 'org.acme', thingId: 'org.acme:t', kind: 'telemetry', stream, payload: { stream, i } });
      await append('busy', 0); // first in the pipeline's order
      let stop = false;
      let fed = 0;
      const feeder = (async () => {
        while (!stop) await Promise.all(Array.from({ length: 16 }, () => append('busy', ++fed)));
      })();
      try {
        const quiet = await append('quiet', 1);
        await quiet.proof({ timeoutMs: 5_000 });
      } finally {
        stop = true;
        await feeder;
      }
    } finally {
      await anchorer.close();
    }
  });

  it('its default store uses the lmdb block layout in a new directory, and keeps the layout of one written before', async () => {
    const fresh = newDir();
    const first = await Anchorer.open({ dataDir: fresh });
    await first.close();
    assert.match(readFileSync(join(fresh, 'payloads', 'twinledger-offchain.json'), 'utf8'), /"layout":"lmdb"/);
    const older = newDir();
    const filesStore = new EmbeddedStore({ dataDir: join(older, 'payloads') });
    await filesStore.open();
    await filesStore.close();
    const anchorer = await Anchorer.open({ dataDir: older, batch: { maxWaitMs: 10 } });
    try {
      const receipt = await anchorer.append({ tenant: 't1', thingId: 'x', kind: 'event', payload: 'kept layout' });
      assert.equal((await receipt.proof()).envelope.seq, 1);
    } finally {
      await anchorer.close();
    }
    assert.doesNotMatch(readFileSync(join(older, 'payloads', 'twinledger-offchain.json'), 'utf8'), /lmdb/);
  });

  it('one anchorer per data directory; checks its input and options with ValidationError', async () => {
    const dataDir = newDir();
    const anchorer = await Anchorer.open({ dataDir });
    try {
      const locked = await rejectsWith(Anchorer.open({ dataDir }), TwinLedgerError);
      assert.equal(locked.code, 'anchor.locked');
      const bad: Array<[string, unknown]> = [
        ['kind', { tenant: 't1', thingId: 'x', kind: 'reading', payload: 'x' }],
        ['tenant', { tenant: 'a/b', thingId: 'x', kind: 'event', payload: 'x' }],
        ['thingId', { tenant: 't1', thingId: '', kind: 'event', payload: 'x' }],
        ['payload', { tenant: 't1', thingId: 'x', kind: 'event' }],
        ['stream', { tenant: 't1', thingId: 'x', kind: 'event', payload: 'x', stream: '../x' }],
        ['contentType', { tenant: 't1', thingId: 'x', kind: 'event', payload: 'x', contentType: '' }],
        ['contentType', { tenant: 't1', thingId: 'x', kind: 'event', payload: 'x', contentType: 'text/\ud800plain' }],
        ['idempotencyKey', { tenant: 't1', thingId: 'x', kind: 'event', payload: 'x', idempotencyKey: '' }],
        ['idempotencyKey', { tenant: 't1', thingId: 'x', kind: 'event', payload: 'x', idempotencyKey: 'k'.repeat(513) }],
        ['idempotencyKey', { tenant: 't1', thingId: 'x', kind: 'event', payload: 'x', idempotencyKey: 42 }],
      ];
      for (const [field, input] of bad) {
        const error = await rejectsWith(anchorer.append(input as never), ValidationError);
        assert.equal(error.field, field, `${field}: ${error.message}`);
      }
    } finally {
      await anchorer.close();
    }
    await rejectsWith(Anchorer.open({ dataDir: newDir(), batch: { maxLeaves: 0 } }), ValidationError);
    await rejectsWith(Anchorer.open({ dataDir: newDir(), mode: 'each' as never }), ValidationError);
    const ledger = await DevLedger.open({ directory: join(newDir(), 'ledger') });
    try {
      const both = await rejectsWith(Anchorer.open({ dataDir: newDir(), ledger, fabric: {} as never }), ValidationError);
      assert.equal(both.field, 'fabric');
    } finally {
      await ledger.close();
    }
  });
});

describe('Anchorer: idempotency keys', () => {
  const input = (key: string, payload: unknown = { key }) => ({
    tenant: 't1',
    thingId: 'org.acme:x',
    kind: 'event' as const,
    payload,
    idempotencyKey: key,
  });

  it("records a key once: a second append gets the first record's receipt, marked duplicate, and stores nothing", async () => {
    const anchorer = await open();
    try {
      const first = await anchorer.append(input('topic/0/7'));
      assert.equal(first.duplicate, false);
      const again = await anchorer.append(input('topic/0/7', 'different bytes: the key decides'));
      assert.equal(again.duplicate, true);
      assert.equal(again.seq, first.seq);
      assert.deepEqual(again.envelope, first.envelope);
      assert.equal(again.leafHash, first.leafHash);
      const other = await anchorer.append(input('topic/0/8'));
      assert.equal(other.seq, first.seq + 1);
      // Keys belong to a stream: the same key in another stream is another record.
      const elsewhere = await anchorer.append({ ...input('topic/0/7'), stream: 'other' });
      assert.equal(elsewhere.duplicate, false);
      assert.equal(elsewhere.seq, 1);
      assert.equal(anchorer.status().streams.find((entry) => entry.stream === 't1/default')?.lastSeq, 2);
      const proof = await again.proof();
      assert.equal(proof.envelope.seq, first.seq);
    } finally {
      await anchorer.close();
    }
  });

  it('concurrent appends with one key make one record; the key is kept across a restart', async () => {
    const dataDir = newDir();
    const first = await Anchorer.open({ dataDir, batch: { maxWaitMs: 20 } });
    let seq: number;
    try {
      const receipts = await Promise.all(Array.from({ length: 8 }, () => first.append(input('msg-1'))));
      assert.equal(new Set(receipts.map((receipt) => receipt.seq)).size, 1);
      assert.deepEqual(receipts.map((receipt) => receipt.duplicate).sort(), [false, true, true, true, true, true, true, true]);
      seq = receipts[0]!.seq;
      assert.equal(first.status().streams[0]?.lastSeq, 1);
    } finally {
      await first.close();
    }
    const second = await Anchorer.open({ dataDir, batch: { maxWaitMs: 20 } });
    try {
      const again = await second.append(input('msg-1'));
      assert.equal(again.duplicate, true);
      assert.equal(again.seq, seq);
      assert.equal((await second.append(input('msg-2'))).seq, 2);
      assert.equal((await again.proof()).envelope.seq, seq);
    } finally {
      await second.close();
    }
  });
});
