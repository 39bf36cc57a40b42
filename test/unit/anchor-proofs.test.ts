// Anchor proofs: the envelope's canonical bytes and checks, parseProof's errors field by field, and verify() /
// verifyStream() against batches and records anchored on a real DevLedger with payloads in an EmbeddedStore, valid and
// tampered. The proofs are built here with batchProofFor / recordProofFor from what the ledger returned.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { base32upper } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import {
  AbortError,
  type AnchorProof,
  type BatchProof,
  type CheckResult,
  MalformedAnchorProofError,
  type RecordEnvelope,
  type RecordProof,
  TimeoutError,
  ValidationError,
  type Verdict,
  batchMeta,
  batchProofFor,
  checkEnvelope,
  envelopeBytes,
  envelopeLeafHash,
  parseProof,
  recordKey,
  recordMeta,
  recordProofFor,
  verify,
  verifyStream,
} from '../../src/anchor/index.js';
import { DevLedger, LedgerTamperedError } from '../../src/ledger/dev/index.js';
import { type BatchRecord, ChaincodeError, EvaluationError, GENESIS_ROOT, type Ledger } from '../../src/ledger/index.js';
import { MerkleTree } from '../../src/merkle/index.js';
import { EmbeddedStore, StoreUnavailableError } from '../../src/offchain/index.js';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

const SAMPLE: RecordEnvelope = {
  v: 1,
  tenant: 'acme',
  thingId: 'org.acme:boiler-7',
  kind: 'telemetry',
  seq: 42,
  ts: '2026-12-07T10:00:00.000Z',
  payloadCid: 'QmPUNyiLwRm2zPqf3BHbiyy4gS7zBuVp6MZNYebEMVyfbs',
  payloadSha256: sha256('{"t":21.5}'),
  payloadSize: 10,
  contentType: 'application/json',
  salt: '00112233445566778899aabbccddeeff',
};

/** The status of each check, in order: what most assertions compare. */
const statuses = (verdict: Verdict) => verdict.checks.map((check) => `${check.check}:${check.status}`);
const checkOf = (verdict: Verdict, name: CheckResult['check']) => verdict.checks.find((check) => check.check === name) as CheckResult;
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function errorField(fn: () => unknown, type: new (...args: never[]) => ValidationError = ValidationError): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof type, `expected a ${type.name}, got ${String(error)}`);
    return error.field;
  }
  assert.fail('did not throw');
}

describe('record envelopes', () => {
  it('canonical bytes: RFC 8785 key order, integers as integers, strings as JSON, no spaces', () => {
    const expected =
      '{"contentType":"application/json","kind":"telemetry","payloadCid":"QmPUNyiLwRm2zPqf3BHbiyy4gS7zBuVp6MZNYebEMVyfbs",' +
      `"payloadSha256":"${SAMPLE.payloadSha256}","payloadSize":10,"salt":"00112233445566778899aabbccddeeff","seq":42,` +
      '"tenant":"acme","thingId":"org.acme:boiler-7","ts":"2026-12-07T10:00:00.000Z","v":1}';
    assert.equal(Buffer.from(envelopeBytes(SAMPLE)).toString('utf8'), expected);
    // Key order of the input does not matter.
    const reversed = Object.fromEntries(Object.entries(SAMPLE).reverse()) as unknown as RecordEnvelope;
    assert.deepEqual(envelopeBytes(reversed), envelopeBytes(SAMPLE));
    assert.equal(envelopeLeafHash(SAMPLE), sha256(Buffer.concat([Buffer.from([0]), Buffer.from(expected)])));
  });

  it('canonical bytes: non-ASCII stays UTF-8, control characters and quotes are escaped, large integers stay exact', () => {
    const envelope = { ...SAMPLE, thingId: 'org.acme:kessel-ü-€', contentType: 'text/plain; q="a\u0001"', seq: 2 ** 53 - 1 };
    const text = Buffer.from(envelopeBytes(envelope)).toString('utf8');
    assert.ok(text.includes('"thingId":"org.acme:kessel-ü-€"'));
    assert.ok(text.includes('"contentType":"text/plain; q=\\"a\\u0001\\""'));
    assert.ok(text.includes('"seq":9007199254740991'));
    assert.equal(Buffer.from(envelopeBytes(envelope)).length, Buffer.byteLength(text, 'utf8'));
  });

  it('checkEnvelope accepts exactly the RecordEnvelope shape and returns a copy', () => {
    const copy = checkEnvelope(SAMPLE);
    assert.deepEqual(copy, SAMPLE);
    assert.notEqual(copy, SAMPLE);
    assert.deepEqual(checkEnvelope({ ...SAMPLE, payloadSize: 0, kind: 'custom' }).payloadSize, 0);
    assert.equal(
      checkEnvelope({ ...SAMPLE, payloadCid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku' }).payloadCid.slice(0, 4),
      'bafk',
    );
  });

  it('checkEnvelope names the field that is wrong', () => {
    const cases: Array<[string, unknown]> = [
      ['envelope', null],
      ['envelope', [SAMPLE]],
      ['envelope.v', { ...SAMPLE, v: 2 }],
      ['envelope.tenant', { ...SAMPLE, tenant: undefined }],
      ['envelope.tenant', { ...SAMPLE, tenant: '' }],
      ['envelope.thingId', { ...SAMPLE, thingId: 'org.acme:\ud800' }],
      ['envelope.extra', { ...SAMPLE, extra: true }],
      ['envelope.kind', { ...SAMPLE, kind: 'gossip' }],
      ['envelope.seq', { ...SAMPLE, seq: 0 }],
      ['envelope.seq', { ...SAMPLE, seq: 1.5 }],
      ['envelope.seq', { ...SAMPLE, seq: 2 ** 53 }],
      ['envelope.seq', { ...SAMPLE, seq: '42' }],
      ['envelope.ts', { ...SAMPLE, ts: '2026-12-07T10:00:00Z' }],
      ['envelope.ts', { ...SAMPLE, ts: '2026-12-07T10:00:00.000+01:00' }],
      ['envelope.ts', { ...SAMPLE, ts: '2026-02-30T10:00:00.000Z' }],
      ['envelope.payloadCid', { ...SAMPLE, payloadCid: 'not-a-cid' }],
      ['envelope.payloadCid', { ...SAMPLE, payloadCid: 'BAFKREIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU' }],
      ['envelope.payloadCid', { ...SAMPLE, payloadCid: 'bafkqaaa' }],
      ['envelope.payloadSha256', { ...SAMPLE, payloadSha256: SAMPLE.payloadSha256.toUpperCase() }],
      ['envelope.payloadSha256', { ...SAMPLE, payloadSha256: SAMPLE.payloadSha256.slice(2) }],
      ['envelope.payloadSize', { ...SAMPLE, payloadSize: -1 }],
      ['envelope.contentType', { ...SAMPLE, contentType: 7 }],
      ['envelope.salt', { ...SAMPLE, salt: 'abcd' }],
    ];
    for (const [field, value] of cases)
      assert.equal(
        errorField(() => checkEnvelope(value)),
        field,
        JSON.stringify(value),
      );
    assert.equal(
      errorField(() => envelopeBytes({ ...SAMPLE, seq: -1 })),
      'envelope.seq',
    );
    assert.equal(
      errorField(() => checkEnvelope({ ...SAMPLE, v: 0 }, 'proof.envelope', MalformedAnchorProofError), MalformedAnchorProofError),
      'proof.envelope.v',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// A ledger and a store with three batches of one stream and two records anchored on their own.

interface Anchored {
  batch: BatchRecord;
  envelopes: RecordEnvelope[];
  proofs: BatchProof[];
}

const STREAM = 'acme/boiler-7';
const RECORD_STREAM = 'acme/alerts';
const root = mkdtempSync(join(tmpdir(), 'twinledger-anchor-'));
let ledger: DevLedger;
let store: EmbeddedStore;
const batches: Anchored[] = [];
const recordProofs: RecordProof[] = [];
let seq = 0;

async function envelopeFor(index: number): Promise<RecordEnvelope> {
  seq += 1;
  const payload = Buffer.from(JSON.stringify({ reading: index, temperature: 20 + index / 10 }));
  const stored = await store.put(payload);
  return {
    v: 1,
    tenant: 'acme',
    thingId: 'org.acme:boiler-7',
    kind: 'telemetry',
    seq,
    ts: new Date(Date.UTC(2026, 11, 7, 10, 0, index)).toISOString(),
    payloadCid: stored.cid,
    payloadSha256: sha256(payload),
    payloadSize: payload.length,
    contentType: 'application/json',
    salt: sha256(`salt ${index}`).slice(0, 32),
  };
}

async function anchorBatch(size: number): Promise<Anchored> {
  const envelopes: RecordEnvelope[] = [];
  for (let i = 0; i < size; i += 1) envelopes.push(await envelopeFor(seq + 1));
  const tree = new MerkleTree();
  for (const envelope of envelopes) tree.append(envelopeBytes(envelope));
  const previous = batches.at(-1)?.batch;
  const first = envelopes[0]!.seq;
  const batch = await ledger.anchorBatch({
    stream: STREAM,
    batchId: `b-${first}`,
    root: Buffer.from(tree.root()).toString('hex'),
    treeSize: tree.size,
    prevRoot: previous?.root ?? GENESIS_ROOT,
    meta: { ...batchMeta(first, envelopes.at(-1)!.seq, previous?.batchId ?? null) },
  });
  const proofs = envelopes.map((envelope, leafIndex) => batchProofFor({ envelope, tree, leafIndex, batch }));
  const anchored = { batch, envelopes, proofs };
  batches.push(anchored);
  return anchored;
}

async function anchorRecord(): Promise<RecordProof> {
  const envelope = { ...(await envelopeFor(100 + recordProofs.length)), kind: 'event' as const, seq: recordProofs.length + 1 };
  const record = await ledger.anchorRecord({
    key: recordKey(RECORD_STREAM, envelope.seq),
    sha256: envelopeLeafHash(envelope),
    cid: envelope.payloadCid,
    meta: { ...recordMeta(RECORD_STREAM, envelope.seq) },
  });
  const proof = recordProofFor({ envelope, stream: RECORD_STREAM, record });
  recordProofs.push(proof);
  return proof;
}

/** The block file of a CID in the EmbeddedStore (blockstore-fs: BASE32 of the multihash, `.data`). */
function blockFile(cid: string): string {
  const dir = join(root, 'store', 'blocks');
  const name = `${base32upper.encode(CID.parse(cid).multihash.bytes)}.data`;
  const found = readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((file) => file.split('/').at(-1) === name);
  assert.ok(found, `no block file for ${cid}`);
  return join(dir, found);
}

/** The DevLedger, with getBatch overridden: batches for which `batchOf` answers undefined are missing. */
function ledgerWith(batchOf: (batch: BatchRecord) => BatchRecord | undefined): Ledger {
  return new Proxy(ledger, {
    get(target, property, receiver) {
      if (property === 'getBatch') {
        return async (...args: Parameters<Ledger['getBatch']>) => {
          const batch = await target.getBatch(...args);
          return batch === undefined ? undefined : batchOf(batch);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

before(async () => {
  ledger = await DevLedger.open({ directory: join(root, 'ledger') });
  store = new EmbeddedStore({ dataDir: join(root, 'store') });
  await anchorBatch(5);
  await anchorBatch(3);
  await anchorBatch(4);
  await anchorRecord();
  await anchorRecord();
});

after(async () => {
  await store?.close();
  await ledger?.close();
  rmSync(root, { recursive: true, force: true });
});

const batchProof = (batch: number, leaf: number): BatchProof => clone(batches[batch]!.proofs[leaf]!);

describe('parseProof', () => {
  it('reads what batchProofFor and recordProofFor build, as objects and as JSON text', () => {
    const proof = batchProof(1, 2);
    assert.deepEqual(parseProof(proof), proof);
    assert.deepEqual(parseProof(JSON.stringify(proof)), proof);
    assert.deepEqual(parseProof(JSON.stringify(recordProofs[0])), recordProofs[0]);
    assert.deepEqual(parseProof({ ...proof, ledger: { ...proof.ledger, block: '17' } }).ledger.block, '17');
  });

  it('names the first field that is wrong, in batch mode', () => {
    const valid = batchProof(0, 3);
    const cases: Array<[string, (proof: Record<string, unknown> & BatchProof) => unknown]> = [
      ['proof', () => 'not json {'],
      ['proof', () => [valid]],
      ['proof.format', (p) => ({ ...p, format: 'twinledger' })],
      ['proof.version', (p) => ({ ...p, version: 2 })],
      ['proof.mode', (p) => ({ ...p, mode: 'tree' })],
      ['proof.batchId', (p) => ({ ...p, batchId: undefined })],
      ['proof.key', (p) => ({ ...p, key: `${STREAM}/1` })],
      ['proof.envelope', (p) => ({ ...p, envelope: 'x' })],
      ['proof.envelope.seq', (p) => ({ ...p, envelope: { ...p.envelope, seq: 0 } })],
      ['proof.envelope.salt', (p) => ({ ...p, envelope: { ...p.envelope, salt: 'AB'.repeat(16) } })],
      ['proof.stream', (p) => ({ ...p, stream: '/acme' })],
      ['proof.batchId', (p) => ({ ...p, batchId: 'b 1' })],
      ['proof.leafIndex', (p) => ({ ...p, leafIndex: -1 })],
      ['proof.treeSize', (p) => ({ ...p, treeSize: 0 })],
      ['proof.auditPath', (p) => ({ ...p, auditPath: p.auditPath.join(',') })],
      ['proof.auditPath', (p) => ({ ...p, auditPath: new Array<string>(65).fill(p.root) })],
      ['proof.auditPath[1]', (p) => ({ ...p, auditPath: [p.auditPath[0], 'ab'] })],
      ['proof.root', (p) => ({ ...p, root: p.root.toUpperCase() })],
      ['proof.prevRoot', (p) => ({ ...p, prevRoot: null })],
      ['proof.ledger', (p) => ({ ...p, ledger: 'tx' })],
      ['proof.ledger.txId', (p) => ({ ...p, ledger: { ...p.ledger, txId: '' } })],
      ['proof.ledger.timestamp', (p) => ({ ...p, ledger: { ...p.ledger, timestamp: 'yesterday' } })],
      ['proof.ledger.batchSeq', (p) => ({ ...p, ledger: { ...p.ledger, batchSeq: 0 } })],
      ['proof.ledger.batchSeq', (p) => ({ ...p, ledger: { txId: p.ledger.txId, timestamp: p.ledger.timestamp } })],
      ['proof.ledger.block', (p) => ({ ...p, ledger: { ...p.ledger, block: 17 } })],
      ['proof.ledger.channel', (p) => ({ ...p, ledger: { ...p.ledger, channel: 'twinledger' } })],
      ['proof.payloadCid', (p) => ({ ...p, payloadCid: 'Qm' })],
    ];
    for (const [field, mutate] of cases) {
      const input = mutate(clone(valid) as Record<string, unknown> & BatchProof);
      assert.equal(
        errorField(() => parseProof(input), MalformedAnchorProofError),
        field,
        JSON.stringify(input).slice(0, 120),
      );
    }
  });

  it('names the first field that is wrong, in record mode', () => {
    const valid = clone(recordProofs[0]!);
    const cases: Array<[string, unknown]> = [
      ['proof.key', { ...valid, key: '' }],
      ['proof.leafHash', { ...valid, leafHash: valid.leafHash.slice(1) }],
      ['proof.ledger.batchSeq', { ...valid, ledger: { ...valid.ledger, batchSeq: 1 } }],
      ['proof.auditPath', { ...valid, auditPath: [] }],
      ['proof.stream', { ...valid, stream: 7 }],
    ];
    for (const [field, input] of cases)
      assert.equal(
        errorField(() => parseProof(input), MalformedAnchorProofError),
        field,
      );
  });

  it('says to upgrade for a newer version', () => {
    assert.throws(() => parseProof({ ...batchProof(0, 0), version: 2 }), /proof\.version: must be 1, got 2 \(hint: The proof is newer/);
  });
});

describe('proof builders', () => {
  it('batchProofFor refuses pieces that do not fit: tree, leaf index, envelope', () => {
    const { batch, envelopes } = batches[1]!;
    const leaves = envelopes.map((envelope) => envelopeBytes(envelope));
    const proof = batchProofFor({ envelope: envelopes[1]!, tree: leaves, leafIndex: 1, batch });
    assert.deepEqual(proof, batches[1]!.proofs[1], 'leaf data or a MerkleTree give the same proof');
    assert.equal(
      errorField(() => batchProofFor({ envelope: envelopes[1]!, tree: leaves.slice(1), leafIndex: 1, batch })),
      'tree',
    );
    assert.equal(
      errorField(() => batchProofFor({ envelope: envelopes[1]!, tree: leaves, leafIndex: 2, batch })),
      'envelope',
    );
    assert.equal(
      errorField(() => batchProofFor({ envelope: envelopes[1]!, tree: leaves, leafIndex: 3, batch })),
      'leafIndex',
    );
    assert.equal(
      errorField(() => batchProofFor({ envelope: envelopes[1]!, tree: [...leaves].reverse(), leafIndex: 1, batch })),
      'batch.root',
    );
    const relabelled = { ...batch, meta: { ...batch.meta, firstSeq: 7, lastSeq: 9 } };
    assert.equal(
      errorField(() => batchProofFor({ envelope: envelopes[1]!, tree: leaves, leafIndex: 1, batch: relabelled })),
      'leafIndex',
    );
    assert.equal(
      errorField(() => batchProofFor({ envelope: envelopes[1]!, tree: leaves, leafIndex: 1, batch, block: 'x' })),
      'block',
    );
    assert.equal(batchProofFor({ envelope: envelopes[1]!, tree: leaves, leafIndex: 1, batch, block: '12' }).ledger.block, '12');
  });

  it('recordProofFor refuses a record that is not the envelope’s', async () => {
    const proof = recordProofs[0]!;
    const record = (await ledger.getRecord(proof.key))!;
    assert.deepEqual(recordProofFor({ envelope: proof.envelope, stream: RECORD_STREAM, record }), proof);
    assert.equal(
      errorField(() => recordProofFor({ envelope: proof.envelope, stream: 'acme/other', record })),
      'record.key',
    );
    const edited = { ...proof.envelope, salt: 'ff'.repeat(16) };
    assert.equal(
      errorField(() => recordProofFor({ envelope: edited, stream: RECORD_STREAM, record })),
      'record.sha256',
    );
    assert.equal(
      errorField(() => recordProofFor({ envelope: proof.envelope, stream: RECORD_STREAM, record: { ...record, cid: null } })),
      'record.cid',
    );
    assert.equal(
      errorField(() =>
        recordProofFor({
          envelope: proof.envelope,
          stream: RECORD_STREAM,
          record: { ...record, meta: { v: 1, stream: RECORD_STREAM, seq: 9 } },
        }),
      ),
      'record',
    );
  });
});

describe('verify() a batch proof', () => {
  it('passes all four checks for every record of every batch, with the ledger and the store', async () => {
    for (const { proofs } of batches) {
      for (const proof of proofs) {
        const verdict = await verify(clone(proof), { ledger, store });
        assert.deepEqual(statuses(verdict), ['inclusion:ok', 'anchored:ok', 'chain:ok', 'payload:ok'], JSON.stringify(verdict));
        assert.equal(verdict.ok, true);
      }
    }
    const first = await verify(batchProof(0, 0), { ledger, store });
    assert.match(checkOf(first, 'chain').reason, /first batch: its prevRoot is the genesis root/);
    const third = await verify(JSON.stringify(batchProof(2, 0)), { ledger, store });
    assert.match(checkOf(third, 'chain').reason, /links to the previous batch b-6 \(seq 2\)/);
  });

  it('offline: inclusion only, and the three other checks say why they were skipped', async () => {
    const verdict = await verify(batchProof(1, 0));
    assert.deepEqual(statuses(verdict), ['inclusion:ok', 'anchored:skipped', 'chain:skipped', 'payload:skipped']);
    assert.equal(verdict.ok, true);
    assert.match(checkOf(verdict, 'anchored').reason, /no ledger given: offline verification checks inclusion only/);
    assert.match(checkOf(verdict, 'payload').reason, /no payload store given/);
    const ledgerOnly = await verify(batchProof(1, 0), { ledger });
    assert.deepEqual(statuses(ledgerOnly), ['inclusion:ok', 'anchored:ok', 'chain:ok', 'payload:skipped']);
  });

  it('payload: a byte changed in the store’s block file fails it, naming the block', async () => {
    const proof = batchProof(1, 1);
    const file = blockFile(proof.payloadCid);
    const original = readFileSync(file);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 2] = (tampered[tampered.length - 2] ?? 0) ^ 0x01;
    writeFileSync(file, tampered);
    try {
      const verdict = await verify(proof, { ledger, store });
      assert.deepEqual(statuses(verdict), ['inclusion:ok', 'anchored:ok', 'chain:ok', 'payload:failed']);
      assert.equal(verdict.ok, false);
      assert.match(checkOf(verdict, 'payload').reason, /failed its integrity check.*does not hash to its CID/);
    } finally {
      writeFileSync(file, original);
    }
    assert.equal((await verify(proof, { ledger, store })).ok, true);
  });

  it('payload: other bytes under the envelope’s CID (a payload of another size or hash) fail it', async () => {
    const other = await store.put(Buffer.from('{"reading":"forged"}'));
    const proof = batchProof(0, 0);
    // Inclusion fails too (the envelope changed); the payload check compares what it can.
    const forged = { ...proof, envelope: { ...proof.envelope, payloadCid: other.cid }, payloadCid: other.cid };
    const verdict = await verify(forged, { store });
    assert.deepEqual(statuses(verdict), ['inclusion:failed', 'anchored:skipped', 'chain:skipped', 'payload:failed']);
    assert.match(checkOf(verdict, 'payload').reason, /has 20 bytes, not \d+|hashes to/);
    const missing = { ...proof, envelope: { ...proof.envelope, payloadCid: 'QmPUNyiLwRm2zPqf3BHbiyy4gS7zBuVp6MZNYebEMVyfbs' } };
    missing.payloadCid = missing.envelope.payloadCid;
    assert.match(checkOf(await verify(missing, { store }), 'payload').reason, /the store has no payload/);
  });

  it('inclusion: an edited envelope field fails it, whatever the field', async () => {
    const proof = batchProof(0, 2);
    const edits: Array<Partial<RecordEnvelope>> = [
      { payloadSha256: sha256('other bytes') },
      { ts: '2026-12-07T10:00:01.000Z' },
      { kind: 'event' },
      { seq: proof.envelope.seq + 1 },
      { tenant: 'umbrella' },
      { salt: 'ff'.repeat(16) },
    ];
    for (const edit of edits) {
      const verdict = await verify({ ...proof, envelope: { ...proof.envelope, ...edit } }, { ledger, store });
      assert.equal(checkOf(verdict, 'inclusion').status, 'failed', JSON.stringify(edit));
      assert.match(checkOf(verdict, 'inclusion').reason, /the audit path does not lead from the envelope's leaf hash/);
      assert.equal(verdict.ok, false);
    }
    const cid = await verify({ ...proof, payloadCid: batchProof(0, 3).payloadCid }, { ledger });
    assert.match(checkOf(cid, 'inclusion').reason, /the proof's payloadCid \S+ is not the envelope's/);
  });

  it('inclusion: two records swapped within a batch fail it, for both', async () => {
    const { batch, envelopes } = batches[0]!;
    const swapped = [...envelopes];
    [swapped[1], swapped[3]] = [swapped[3]!, swapped[1]!];
    // Proofs from the reordered records, claiming the anchored root (what a rewritten copy of the batch would give).
    const tree = new MerkleTree();
    for (const envelope of swapped) tree.append(envelopeBytes(envelope));
    for (const leafIndex of [1, 3]) {
      const proof = { ...batchProof(0, leafIndex), envelope: swapped[leafIndex]!, payloadCid: swapped[leafIndex]!.payloadCid };
      proof.auditPath = tree.inclusionProof(leafIndex).path;
      const verdict = await verify(proof, { ledger, store });
      assert.equal(checkOf(verdict, 'inclusion').status, 'failed', `leaf ${leafIndex}`);
      assert.equal(verdict.ok, false);
    }
    // Each record's own proof with the other's place (index and path) fails too.
    const moved = { ...batchProof(0, 1), leafIndex: 3, auditPath: batchProof(0, 3).auditPath };
    assert.equal(checkOf(await verify(moved, { ledger }), 'inclusion').status, 'failed');
    assert.equal(batch.treeSize, 5);
  });

  it('inclusion: a wrong audit path, index or size fails it', async () => {
    const proof = batchProof(2, 1);
    const flipped = clone(proof);
    flipped.auditPath[0] = `${flipped.auditPath[0]!.slice(0, 63)}${flipped.auditPath[0]!.endsWith('0') ? '1' : '0'}`;
    const variants: Array<[string, BatchProof]> = [
      ['a flipped hash', flipped],
      ['a short path', { ...proof, auditPath: proof.auditPath.slice(0, -1) }],
      ['a long path', { ...proof, auditPath: [...proof.auditPath, proof.root] }],
      ['reversed path', { ...proof, auditPath: [...proof.auditPath].reverse() }],
      ['another index', { ...proof, leafIndex: 2 }],
      ['an index past the tree', { ...proof, leafIndex: 4 }],
      ['another size', { ...proof, treeSize: 5 }],
    ];
    for (const [what, variant] of variants) {
      const verdict = await verify(variant);
      assert.deepEqual(statuses(verdict), ['inclusion:failed', 'anchored:skipped', 'chain:skipped', 'payload:skipped'], what);
      assert.equal(verdict.ok, false, what);
    }
  });

  it('anchored: a proof whose claims differ from the ledger’s batch fails it, naming the fields', async () => {
    const proof = batchProof(1, 0);
    const verdict = await verify({ ...proof, ledger: { ...proof.ledger, txId: 'f'.repeat(64), batchSeq: 3 } }, { ledger });
    assert.equal(checkOf(verdict, 'inclusion').status, 'ok');
    assert.equal(checkOf(verdict, 'anchored').status, 'failed');
    assert.match(checkOf(verdict, 'anchored').reason, /seq: ledger 2, proof 3; txId: ledger/);
    const unknown = await verify({ ...proof, batchId: 'b-999' }, { ledger });
    assert.match(checkOf(unknown, 'anchored').reason, /batch b-999 of stream acme\/boiler-7 is not on the ledger/);
  });

  it('a batch missing from the ledger: anchored fails for it, chain for the next; verifyStream names the break', async () => {
    const hidden = batches[1]!.batch.batchId;
    const holed = ledgerWith((batch) => (batch.batchId === hidden ? undefined : batch));
    const own = await verify(batchProof(1, 0), { ledger: holed, store });
    assert.deepEqual(statuses(own), ['inclusion:ok', 'anchored:failed', 'chain:skipped', 'payload:ok']);
    assert.match(checkOf(own, 'anchored').reason, /batch b-6 of stream acme\/boiler-7 is not on the ledger/);
    const next = await verify(batchProof(2, 3), { ledger: holed, store });
    assert.deepEqual(statuses(next), ['inclusion:ok', 'anchored:ok', 'chain:failed', 'payload:ok']);
    assert.match(checkOf(next, 'chain').reason, /the previous batch b-6 of batch b-9 \(seq 3\) is not on the ledger/);
    const earlier = await verify(batchProof(0, 0), { ledger: holed, store });
    assert.equal(earlier.ok, true, 'batches before the hole still verify');

    const report = await verifyStream(holed, STREAM);
    assert.equal(report.ok, false);
    assert.deepEqual(report.firstBreak && { seq: report.firstBreak.seq, batchId: report.firstBreak.batchId }, { seq: 2, batchId: hidden });
    assert.match(report.firstBreak?.reason ?? '', /batch b-6 is not on the ledger, but batch b-9 \(seq 3\) links to it/);
  });
});

describe('verifyStream()', () => {
  it('walks a whole stream from its head to the first batch', async () => {
    const seen: number[] = [];
    const report = await verifyStream(ledger, STREAM, { onBatch: (batch) => seen.push(batch.seq) });
    const last = batches.at(-1)!.batch;
    assert.deepEqual(report, { ok: true, batches: 3, head: { seq: 3, batchId: last.batchId, root: last.root } });
    assert.deepEqual(seen, [3, 2, 1]);
    assert.deepEqual(await verifyStream(ledger, 'acme/empty'), {
      ok: true,
      batches: 0,
      head: { seq: 0, batchId: null, root: GENESIS_ROOT },
    });
  });

  it('names the earliest of several breaks: a changed prevRoot, a wrong seq, a first batch that is not', async () => {
    const [one, two, three] = batches.map((anchored) => anchored.batch) as [BatchRecord, BatchRecord, BatchRecord];
    const relinked = ledgerWith((batch) => (batch.batchId === three.batchId ? { ...batch, prevRoot: one.root } : batch));
    const single = await verifyStream(relinked, STREAM);
    assert.equal(single.batches, 3);
    assert.equal(single.firstBreak?.seq, 3);
    assert.match(single.firstBreak?.reason ?? '', /has prevRoot \w+, but the previous batch b-6 has root/);

    const twice = ledgerWith((batch) =>
      batch.batchId === three.batchId || batch.batchId === two.batchId ? { ...batch, prevRoot: 'e'.repeat(64) } : batch,
    );
    assert.deepEqual((await verifyStream(twice, STREAM)).firstBreak?.seq, 2);

    const renumbered = ledgerWith((batch) => (batch.batchId === two.batchId ? { ...batch, seq: 7 } : batch));
    const report = await verifyStream(renumbered, STREAM);
    assert.equal(report.firstBreak?.batchId, three.batchId);
    assert.match(report.firstBreak?.reason ?? '', /which has seq 7, not 2/);

    const notFirst = ledgerWith((batch) => (batch.batchId === one.batchId ? { ...batch, prevRoot: 'a'.repeat(64) } : batch));
    assert.match(
      (await verifyStream(notFirst, STREAM)).firstBreak?.reason ?? '',
      /is the first batch, but its prevRoot a+ is not 64 zeros/,
    );

    const cut = ledgerWith((batch) => (batch.batchId === two.batchId ? { ...batch, meta: { ...batch.meta, prevBatchId: null } } : batch));
    const cutReport = await verifyStream(cut, STREAM);
    assert.deepEqual([cutReport.batches, cutReport.firstBreak?.seq], [2, 2]);
    assert.match(cutReport.firstBreak?.reason ?? '', /names no previous batch, but batches 1..1 come before it/);
    assert.equal(checkOf(await verify(batchProof(1, 0), { ledger: cut }), 'chain').status, 'failed');
  });

  it('checks its arguments, and rejects on the caller’s abort and deadline', async () => {
    await assert.rejects(
      verifyStream({} as Ledger, STREAM),
      (error: unknown) => error instanceof ValidationError && error.field === 'ledger',
    );
    await assert.rejects(verifyStream(ledger, ' bad'), (error: unknown) => error instanceof ValidationError && error.field === 'stream');
    await assert.rejects(verifyStream(ledger, STREAM, { timeoutMs: 0 }), /options\.timeoutMs/);
    await assert.rejects(verifyStream(ledger, STREAM, { signal: AbortSignal.abort() }), AbortError);
    const hanging = { getHead: () => new Promise<never>(() => undefined), getBatch: ledger.getBatch.bind(ledger) };
    await assert.rejects(verifyStream(hanging, STREAM, { timeoutMs: 20 }), TimeoutError);
  });
});

describe('verify() a record proof', () => {
  it('passes inclusion, anchored and payload; chain is skipped (records are not chained)', async () => {
    for (const proof of recordProofs) {
      const verdict = await verify(clone(proof), { ledger, store });
      assert.deepEqual(statuses(verdict), ['inclusion:ok', 'anchored:ok', 'chain:skipped', 'payload:ok']);
      assert.equal(verdict.ok, true);
    }
  });

  it('fails inclusion for an edited envelope, and anchored when the leaf hash is recomputed to match it', async () => {
    const proof = clone(recordProofs[1]!);
    const envelope = { ...proof.envelope, kind: 'command' as const };
    const edited = await verify({ ...proof, envelope }, { ledger, store });
    assert.deepEqual(statuses(edited), ['inclusion:failed', 'anchored:ok', 'chain:skipped', 'payload:ok']);
    const recomputed = await verify({ ...proof, envelope, leafHash: envelopeLeafHash(envelope) }, { ledger, store });
    assert.deepEqual(statuses(recomputed), ['inclusion:ok', 'anchored:failed', 'chain:skipped', 'payload:ok']);
    assert.match(checkOf(recomputed, 'anchored').reason, /sha256: ledger "\w+", proof "\w+"/);
    const otherKey = await verify({ ...proof, key: recordKey(RECORD_STREAM, 1) }, { ledger });
    assert.match(checkOf(otherKey, 'inclusion').reason, /is not acme\/alerts\/2, the key of record 2/);
    const missing = await verify({ ...proof, stream: 'acme/nowhere', key: recordKey('acme/nowhere', 2) }, { ledger });
    assert.match(checkOf(missing, 'anchored').reason, /record acme\/nowhere\/2 is not on the ledger/);
  });
});

describe('verify() and its surroundings', () => {
  it('a malformed proof is a verdict (inclusion failed, naming the field), not an error', async () => {
    const verdict = await verify({ ...batchProof(0, 0), treeSize: '5' }, { ledger, store });
    assert.deepEqual(statuses(verdict), ['inclusion:failed', 'anchored:skipped', 'chain:skipped', 'payload:skipped']);
    assert.match(checkOf(verdict, 'inclusion').reason, /^malformed proof: proof\.treeSize: must be a positive safe integer/);
    assert.equal((await verify(undefined)).ok, false);
    assert.equal((await verify('{')).ok, false);
  });

  it('bad options are a ValidationError', async () => {
    const proof = batchProof(0, 0);
    const bad: Array<[string, unknown]> = [
      ['options', 7],
      ['options.ledger', { ledger: {} }],
      ['options.store', { store: { put: () => undefined } }],
      ['options.timeoutMs', { timeoutMs: -1 }],
      ['options.signal', { signal: 'stop' }],
    ];
    for (const [field, options] of bad) {
      await assert.rejects(
        verify(proof, options as never),
        (error: unknown) => error instanceof ValidationError && error.field === field,
        field,
      );
    }
  });

  it('an unavailable ledger or store skips its checks with the reason; what they report as wrong fails them', async () => {
    const proof = batchProof(2, 0);
    const down = new Proxy(ledger, {
      get: (target, property) =>
        property === 'getBatch'
          ? () => Promise.reject(new EvaluationError('no peer answered', { phase: 'evaluate', grpcCode: 14, retryable: true }))
          : (Reflect.get(target, property) as unknown),
    }) as Ledger;
    const unreachable = {
      get: () => Promise.reject(new StoreUnavailableError('kubo', 'no answer from http://127.0.0.1:5001', 'Start it.')),
    };
    const verdict = await verify(proof, { ledger: down, store: unreachable });
    assert.deepEqual(statuses(verdict), ['inclusion:ok', 'anchored:skipped', 'chain:skipped', 'payload:skipped']);
    assert.equal(verdict.ok, true, 'infrastructure that is down is no evidence of tampering');
    assert.match(checkOf(verdict, 'anchored').reason, /^ledger unavailable: UNAVAILABLE: no peer answered$/);
    assert.match(checkOf(verdict, 'payload').reason, /^store unavailable: the kubo payload store is unavailable: no answer/);

    const refusing = new Proxy(ledger, {
      get: (target, property) =>
        property === 'getBatch'
          ? () =>
              Promise.reject(
                new ChaincodeError(500, 'INVALID_ARGUMENT', 'stream is not a key', { phase: 'evaluate', transaction: 'GetBatch' }),
              )
          : (Reflect.get(target, property) as unknown),
    }) as Ledger;
    const refused = await verify(proof, { ledger: refusing });
    assert.deepEqual(statuses(refused), ['inclusion:ok', 'anchored:failed', 'chain:skipped', 'payload:skipped']);
    assert.match(checkOf(refused, 'anchored').reason, /the ledger refused GetBatch for batch b-9 .*INVALID_ARGUMENT: stream is not a key/);
    const altered = new Proxy(ledger, {
      get: (target, property) =>
        property === 'getBatch'
          ? () => Promise.reject(new LedgerTamperedError('/var/ledger', 'block 7 is damaged'))
          : (Reflect.get(target, property) as unknown),
    }) as Ledger;
    assert.match(
      checkOf(await verify(proof, { ledger: altered }), 'anchored').reason,
      /the ledger refused .*was altered: block 7 is damaged/,
    );
  });

  it('rejects with AbortError or TimeoutError when the caller’s signal or deadline ends it', async () => {
    const proof = batchProof(0, 1);
    await assert.rejects(verify(proof, { ledger, signal: AbortSignal.abort() }), AbortError);
    const hanging = { get: () => new Promise<never>(() => undefined) };
    await assert.rejects(verify(proof, { store: hanging, timeoutMs: 20 }), TimeoutError);
    await assert.rejects(verify(proof, { signal: AbortSignal.abort() }), AbortError, 'offline too');
  });

  it('verdicts and proofs are plain JSON', async () => {
    const verdict = await verify(batchProof(1, 2), { ledger, store });
    assert.deepEqual(JSON.parse(JSON.stringify(verdict)), verdict);
    const proof: AnchorProof = batchProof(1, 2);
    assert.deepEqual(JSON.parse(JSON.stringify(proof)), proof);
  });
});
