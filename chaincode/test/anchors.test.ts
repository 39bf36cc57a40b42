import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnchoredRecord, BatchRecord, StreamHead } from '../src/types';
import { GENESIS_ROOT } from '../src/validate';
import { FakeWorld } from './fake-ledger';
import { ORG1, ORG2, contract, evaluate, json, rejects, sha256, submit } from './helpers';

const STREAM = 'org.acme/telemetry';
const root = (n: number): string => sha256(`root ${n}`);

async function anchor(world: FakeWorld, batchId: string, r: string, prev: string, mspId = ORG1, meta = '{"leaves":"ipfs"}', size = '16') {
  return submit(world, { mspId }, (ctx) => contract.AnchorBatch(ctx, STREAM, batchId, r, size, prev, meta));
}

describe('AnchorBatch / GetBatch / GetHead', () => {
  it('chains batches from the genesis root and moves the head', async () => {
    const world = new FakeWorld();
    const empty = json<StreamHead>(await evaluate(world, { mspId: ORG2 }, (ctx) => contract.GetHead(ctx, STREAM)));
    assert.deepEqual(empty, {
      docType: 'head',
      stream: STREAM,
      seq: 0,
      batchId: null,
      root: GENESIS_ROOT,
      owner: null,
      txId: null,
      timestamp: null,
    });

    const first = await anchor(world, 'b1', root(1), GENESIS_ROOT);
    const b1 = json<BatchRecord>(first.result);
    assert.deepEqual(b1, {
      docType: 'batch',
      stream: STREAM,
      batchId: 'b1',
      seq: 1,
      root: root(1),
      treeSize: 16,
      prevRoot: GENESIS_ROOT,
      meta: { leaves: 'ipfs' },
      owner: ORG1,
      txId: first.stub.txId,
      timestamp: '2024-05-01T10:00:00.123456789Z',
    });
    assert.deepEqual(
      first.stub.writes.map((w) => w.kind),
      ['put', 'put', 'validation'],
      'batch and head, and the owner policy on the new head key',
    );
    assert.deepEqual(
      first.stub.events.map((e) => e.name),
      ['BatchAnchored'],
    );

    const second = await anchor(world, 'b2', root(2), root(1));
    assert.equal(json<BatchRecord>(second.result).seq, 2);
    assert.deepEqual(
      second.stub.writes.map((w) => w.kind),
      ['put', 'put'],
      'two writes: batch and head, whatever the stream length',
    );
    const head = json<StreamHead>(await evaluate(world, { mspId: ORG2 }, (ctx) => contract.GetHead(ctx, STREAM)));
    assert.deepEqual(head, {
      docType: 'head',
      stream: STREAM,
      seq: 2,
      batchId: 'b2',
      root: root(2),
      owner: ORG1,
      txId: second.stub.txId,
      timestamp: head.timestamp,
    });
    assert.deepEqual(json<BatchRecord>(await evaluate(world, { mspId: ORG2 }, (ctx) => contract.GetBatch(ctx, STREAM, 'b1'))), b1);
  });

  it('catches a missing or reordered batch', async () => {
    const world = new FakeWorld();
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'b2', root(2), '4', root(1), ''),
      'CHAIN_MISMATCH',
      /the stream has no batch yet, so prevRoot must be 64 zeros; a batch is missing or out of order/,
    );
    await anchor(world, 'b1', root(1), GENESIS_ROOT);
    await anchor(world, 'b2', root(2), root(1));
    // b3 skipped: b4 links to b3's root.
    const stub = await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'b4', root(4), '4', root(3), ''),
      'CHAIN_MISMATCH',
      /the stream's head is batch "b2" \(seq 2, root [0-9a-f]{64}\)/,
    );
    assert.deepEqual(stub.writes, []);
    // A second "first" batch is refused too.
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'other', root(9), '4', GENESIS_ROOT, ''),
      'CHAIN_MISMATCH',
      /head is batch "b2"/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'b3', root(3), '4', '', ''),
      'INVALID_ARGUMENT',
      /prevRoot is empty; the first batch of a stream uses 64 zeros/,
    );
  });

  it('is idempotent for the same batch and conflicts loudly for the same ID with other content', async () => {
    const world = new FakeWorld();
    const first = await anchor(world, 'b1', root(1), GENESIS_ROOT);
    await anchor(world, 'b2', root(2), root(1));
    // A retry of b1 after the head moved on: the stored record, no write, no event.
    const retry = await anchor(world, 'b1', root(1), GENESIS_ROOT);
    assert.equal(retry.result, first.result);
    assert.deepEqual(retry.stub.writes, []);
    assert.deepEqual(retry.stub.events, []);
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'b1', root(7), '16', GENESIS_ROOT, ''),
      'CONFLICT',
      new RegExp(`already anchored with root ${root(1)}, not ${root(7)}`),
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'b1', root(1), '17', GENESIS_ROOT, '{"leaves":"ipfs"}'),
      'CONFLICT',
      /treeSize 17 differs from the anchored 16/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'b1', root(1), '16', GENESIS_ROOT, '{}'),
      'CONFLICT',
      /meta \{\} differs/,
    );
  });

  it('keeps arrays in meta in their order, and a retry with a reordered array conflicts', async () => {
    const world = new FakeWorld();
    const meta = '{"b":[10,9,1],"a":{"leaves":["z","a"],"n":[{"y":2,"x":1},{"w":0}]}}';
    const first = await anchor(world, 'b1', root(1), GENESIS_ROOT, ORG1, meta);
    const canonical = '{"a":{"leaves":["z","a"],"n":[{"x":1,"y":2},{"w":0}]},"b":[10,9,1]}';
    assert.ok(String(first.result).includes(`"meta":${canonical}`), String(first.result));
    assert.deepEqual(json<BatchRecord>(first.result).meta, JSON.parse(meta));
    const stored = first.stub.writes.find((w) => w.kind === 'put' && String(w.value).includes('"docType":"batch"'));
    assert.ok(String(stored?.value).includes(`"meta":${canonical}`), 'the state value keeps the array order');
    // The same meta with other key order or whitespace is the same batch; a reordered array is not.
    const retry = await anchor(
      world,
      'b1',
      root(1),
      GENESIS_ROOT,
      ORG1,
      '{ "a": {"n":[{"x":1,"y":2},{"w":0}], "leaves":["z","a"]}, "b":[10,9,1] }',
    );
    assert.deepEqual(retry.stub.writes, []);
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) =>
        contract.AnchorBatch(
          ctx,
          STREAM,
          'b1',
          root(1),
          '16',
          GENESIS_ROOT,
          '{"b":[1,10,9],"a":{"leaves":["z","a"],"n":[{"y":2,"x":1},{"w":0}]}}',
        ),
      'CONFLICT',
      /meta .*"b":\[1,10,9\].* differs from the anchored .*"b":\[10,9,1\]/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) =>
        contract.AnchorBatch(
          ctx,
          STREAM,
          'b1',
          root(1),
          '16',
          GENESIS_ROOT,
          '{"b":[10,9,1],"a":{"leaves":["a","z"],"n":[{"y":2,"x":1},{"w":0}]}}',
        ),
      'CONFLICT',
      /meta .* differs/,
    );
  });

  it('refuses the genesis root as a root and a root equal to prevRoot', async () => {
    const world = new FakeWorld();
    const genesis = await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'b1', GENESIS_ROOT, '1', GENESIS_ROOT, ''),
      'INVALID_ARGUMENT',
      /^INVALID_ARGUMENT: root is the genesis root \(64 zeros\), which only marks a stream without batches; pass the batch's RFC 6962 Merkle tree head$/,
    );
    assert.deepEqual(genesis.writes, []);
    await anchor(world, 'b1', root(1), GENESIS_ROOT);
    // Without the check, a zero root would reset the chain: the next batch could start again from 64 zeros.
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'b2', GENESIS_ROOT, '1', root(1), ''),
      'INVALID_ARGUMENT',
      /root is the genesis root/,
    );
    const same = await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'b2', root(1), '1', root(1), ''),
      'INVALID_ARGUMENT',
      new RegExp(`^INVALID_ARGUMENT: root equals prevRoot \\(${root(1)}\\); .* is this the previous batch sent again\\?$`),
    );
    assert.deepEqual(same.writes, []);
    const head = json<StreamHead>(await evaluate(world, { mspId: ORG2 }, (ctx) => contract.GetHead(ctx, STREAM)));
    assert.equal(head.seq, 1);
  });

  it('only the stream owner may extend it', async () => {
    const world = new FakeWorld();
    await anchor(world, 'b1', root(1), GENESIS_ROOT);
    await rejects(
      world,
      { mspId: ORG2 },
      (ctx) => contract.AnchorBatch(ctx, STREAM, 'b2', root(2), '1', root(1), ''),
      'FORBIDDEN',
      /stream "org.acme\/telemetry" belongs to Org1MSP; Org2MSP may not anchor/,
    );
    // Another organisation has its own streams.
    await submit(world, { mspId: ORG2 }, (ctx) => contract.AnchorBatch(ctx, 'org.beta/telemetry', 'b1', root(1), '1', GENESIS_ROOT, ''));
  });

  it('validates every argument', async () => {
    const world = new FakeWorld();
    const cases: Array<[string[], RegExp]> = [
      [['', 'b1', root(1), '1', GENESIS_ROOT, ''], /stream must be a non-empty string/],
      [[STREAM, 'b 1', root(1), '1', GENESIS_ROOT, ''], /batchId "b 1" is not a valid key/],
      [[STREAM, 'b1', 'xyz', '1', GENESIS_ROOT, ''], /root must be 64 hex characters/],
      [[STREAM, 'b1', root(1), '0', GENESIS_ROOT, ''], /treeSize must be a positive decimal integer, got "0"/],
      [[STREAM, 'b1', root(1), '1e3', GENESIS_ROOT, ''], /treeSize must be a positive decimal integer/],
      [[STREAM, 'b1', root(1), '99999999999999999999', GENESIS_ROOT, ''], /treeSize must be at most 9007199254740991/],
      [[STREAM, 'b1', root(1), '1', GENESIS_ROOT, '[1]'], /metaJson must be a JSON object/],
      [[STREAM, 'b1', root(1), '1', GENESIS_ROOT, '{'], /metaJson is not valid JSON/],
      [[STREAM, 'b1', root(1), '1', GENESIS_ROOT, JSON.stringify({ x: 'y'.repeat(9000) })], /metaJson is 90\d\d bytes; at most 8192/],
    ];
    for (const [args, pattern] of cases) {
      const [s, b, r, t, p, m] = args as [string, string, string, string, string, string];
      await rejects(world, { mspId: ORG1 }, (ctx) => contract.AnchorBatch(ctx, s, b, r, t, p, m), 'INVALID_ARGUMENT', pattern);
    }
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.GetBatch(ctx, STREAM, 'nope'),
      'NOT_FOUND',
      /batch "nope" of stream "org.acme\/telemetry" is not anchored/,
    );
  });
});

describe('metaJson hardening', () => {
  const cases: Array<[string, RegExp]> = [
    // json-stringify-deterministic calls value.toJSON(): a TypeError instead of an INVALID_ARGUMENT before.
    [
      '{"toJSON":1}',
      /^INVALID_ARGUMENT: metaJson has a "toJSON" key, which the deterministic JSON serialiser would call as a method; rename the key/,
    ],
    ['{"a":[1,{"b":{"toJSON":"x"}}]}', /metaJson\.a\[1\]\.b has a "toJSON" key/],
    ['{"x":{"toJSON":null}}', /metaJson\.x has a "toJSON" key/],
    // Stored as null before.
    ['{"x":1e999}', /metaJson\.x is not a finite number \(it parses as Infinity\); keep numbers within/],
    ['{"y":[0,-1e400]}', /metaJson\.y\[1\] is not a finite number \(it parses as -Infinity\)/],
    // Stored rounded (9007199254740992) before.
    [
      '{"n":9007199254740993}',
      /metaJson\.n is an integer beyond ±9007199254740991 \(Number.MAX_SAFE_INTEGER\), which would be stored rounded \(as 9007199254740992\); send it as a string/,
    ],
    ['{"deep":{"list":[{"v":-18014398509481984}]}}', /metaJson\.deep\.list\[0\]\.v is an integer beyond/],
    ['{"odd key":{"big":1e21}}', /metaJson\["odd key"\]\.big is an integer beyond/],
  ];

  it('AnchorBatch and AnchorRecord refuse toJSON keys, non-finite numbers and unsafe integers at any depth', async () => {
    const world = new FakeWorld();
    for (const [meta, pattern] of cases) {
      const batch = await rejects(
        world,
        { mspId: ORG1 },
        (ctx) => contract.AnchorBatch(ctx, STREAM, 'b1', root(1), '1', GENESIS_ROOT, meta),
        'INVALID_ARGUMENT',
        pattern,
      );
      assert.deepEqual(batch.writes, []);
      const record = await rejects(
        world,
        { mspId: ORG1 },
        (ctx) => contract.AnchorRecord(ctx, 'k', sha256('x'), '', meta),
        'INVALID_ARGUMENT',
        pattern,
      );
      assert.deepEqual(record.writes, []);
    }
  });

  it('keeps accepting safe integers, fractions and a "toJSON" string value, stored unchanged', async () => {
    const world = new FakeWorld();
    const meta = '{"max":9007199254740991,"min":-9007199254740991,"f":0.5,"tiny":1e-300,"neg":-2.25,"note":"toJSON","n":null}';
    const { result } = await submit(world, { mspId: ORG1 }, (ctx) => contract.AnchorRecord(ctx, 'k', sha256('x'), '', meta));
    assert.deepEqual(json<AnchoredRecord>(result).meta, JSON.parse(meta));
    // The 8 KiB cap still applies.
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorRecord(ctx, 'k2', sha256('x'), '', JSON.stringify({ x: 'y'.repeat(8200) })),
      'INVALID_ARGUMENT',
      /at most 8192/,
    );
  });
});

describe('AnchorRecord / GetRecord', () => {
  const CIDV1 = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

  it('anchors once, returns the stored record for the same content and conflicts otherwise', async () => {
    const world = new FakeWorld();
    const digest = sha256('alert #42');
    const first = await submit(world, { mspId: ORG1 }, (ctx) =>
      contract.AnchorRecord(ctx, 'ids/alert-42', digest, CIDV1, '{"severity":"high"}'),
    );
    const record = json<AnchoredRecord>(first.result);
    assert.deepEqual(record, {
      docType: 'record',
      key: 'ids/alert-42',
      sha256: digest,
      cid: CIDV1,
      meta: { severity: 'high' },
      owner: ORG1,
      txId: first.stub.txId,
      timestamp: record.timestamp,
    });
    assert.deepEqual(
      first.stub.events.map((e) => e.name),
      ['RecordAnchored'],
    );
    // Key order in metaJson does not matter: the comparison is on canonical JSON.
    const again = await submit(world, { mspId: ORG1 }, (ctx) =>
      contract.AnchorRecord(ctx, 'ids/alert-42', digest, CIDV1, '{ "severity" : "high" }'),
    );
    assert.equal(again.result, first.result);
    assert.deepEqual(again.stub.writes, []);
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorRecord(ctx, 'ids/alert-42', sha256('other'), CIDV1, '{"severity":"high"}'),
      'CONFLICT',
      /record "ids\/alert-42" is already anchored: sha256 "[0-9a-f]{64}" differs/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorRecord(ctx, 'ids/alert-42', digest, '', '{"severity":"high"}'),
      'CONFLICT',
      /cid null differs/,
    );
    // Arrays keep their order: a record anchored with [3,1,2] is not the one with [1,2,3].
    const listed = await submit(world, { mspId: ORG1 }, (ctx) =>
      contract.AnchorRecord(ctx, 'ids/alert-44', digest, '', '{"hops":[3,1,2]}'),
    );
    assert.deepEqual(json<AnchoredRecord>(listed.result).meta, { hops: [3, 1, 2] });
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorRecord(ctx, 'ids/alert-44', digest, '', '{"hops":[1,2,3]}'),
      'CONFLICT',
      /meta \{"hops":\[1,2,3\]\} differs from the anchored \{"hops":\[3,1,2\]\}/,
    );
    assert.deepEqual(
      json<AnchoredRecord>(await evaluate(world, { mspId: ORG2 }, (ctx) => contract.GetRecord(ctx, 'ids/alert-42'))),
      record,
    );
    await rejects(world, { mspId: ORG2 }, (ctx) => contract.GetRecord(ctx, 'ids/alert-43'), 'NOT_FOUND', /is not anchored/);
  });

  it('validates hash, CID and meta', async () => {
    const world = new FakeWorld();
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorRecord(ctx, 'k', 'zz', '', ''),
      'INVALID_ARGUMENT',
      /sha256 must be 64 hex/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorRecord(ctx, 'k', sha256('x'), 'zdj7W', ''),
      'INVALID_ARGUMENT',
      /must be a CIDv0 \("Qm…", base58btc, 46 characters\) or a CIDv1 in base32/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorRecord(ctx, 'k', sha256('x'), 'bafyBEI', ''),
      'INVALID_ARGUMENT',
      /is not valid lower-case base32/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorRecord(ctx, 'k', sha256('x'), '', '"text"'),
      'INVALID_ARGUMENT',
      /metaJson must be a JSON object/,
    );
    // identity multihash CIDv1 (raw, "hello" inline): refused with the rule named, nothing written.
    const identity = 'bafkqablimvwgy3y';
    const stub = await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.AnchorRecord(ctx, 'k', sha256('x'), identity, ''),
      'INVALID_ARGUMENT',
      /^INVALID_ARGUMENT: cid "bafk[a-z2-7]+" uses the identity multihash \(0x00\)/,
    );
    assert.deepEqual(stub.writes, []);
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.UpdateHash(ctx, 'k', sha256('x'), `b${'a'.repeat(140)}`),
      'INVALID_ARGUMENT',
      /cid ".*" is 141 characters long; a CID may have at most 128/,
    );
  });
});
