// EmbeddedStore without Kubo: round trips, persistence across a reopen, the integrity check of every block on get, the
// size limit, pins and gc, the CAR export, deadlines, aborts and close(), and input checks. CID parity with a real
// Kubo is in test/integration/offchain-kubo.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { CarReader } from '@ipld/car/reader';
import { open as openLmdb } from 'lmdb';
import { base32upper } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import {
  AbortError,
  ClientClosedError,
  EmbeddedStore,
  type EmbeddedStoreOptions,
  type LogFields,
  type Logger,
  PayloadIntegrityError,
  PayloadNotFoundError,
  PayloadSizeLimitError,
  PayloadSourceError,
  StoreUnavailableError,
  TimeoutError,
  ValidationError,
  computeCid,
} from '../../src/offchain/index.js';
import { rejectsWith } from '../support/rejects.js';

const root = mkdtempSync(join(tmpdir(), 'twinledger-embedded-'));
let counter = 0;
const opened: EmbeddedStore[] = [];

function newDir(): string {
  counter += 1;
  return join(root, `store-${counter}`);
}

function store(options: Partial<EmbeddedStoreOptions> = {}): EmbeddedStore {
  const created = new EmbeddedStore({ dataDir: newDir(), ...options });
  opened.push(created);
  return created;
}

/** Deterministic bytes that do not repeat (so every chunk is a block of its own). */
function bytes(size: number, seed = 'payload'): Uint8Array {
  const out = new Uint8Array(size);
  let counterBlock = 0;
  for (let offset = 0; offset < size; offset += 32) {
    const digest = createHash('sha256').update(`${seed}:${counterBlock}`).digest();
    counterBlock += 1;
    out.set(digest.subarray(0, Math.min(32, size - offset)), offset);
  }
  return out;
}

/** Every block file of a store, with the CID text it is stored under (blockstore-fs: BASE32 of the multihash). */
function blockFiles(dataDir: string): Array<{ path: string; multihash: string }> {
  const dir = join(dataDir, 'blocks');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.data'))
    .map((name) => ({ path: join(dir, name), multihash: (name.split('/').at(-1) ?? '').replace(/\.data$/, '') }));
}

function fileOf(dataDir: string, cid: string): string {
  const multihash = base32upper.encode(CID.parse(cid).multihash.bytes);
  const found = blockFiles(dataDir).find((file) => file.multihash === multihash);
  assert.ok(found, `no block file for ${cid}`);
  return found.path;
}

function capturingLogger(): Logger & { lines: Array<{ level: string; message: string; fields?: LogFields }> } {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** An async iterable that yields `first` and then waits forever; records whether it was ended. */
function stalling(first: Uint8Array): AsyncIterable<Uint8Array> & { ended: boolean } {
  const source = {
    ended: false,
    [Symbol.asyncIterator]() {
      let sent = false;
      return {
        next: async (): Promise<IteratorResult<Uint8Array>> => {
          if (!sent) {
            sent = true;
            return { done: false, value: first };
          }
          return new Promise<IteratorResult<Uint8Array>>(() => undefined);
        },
        return: async (): Promise<IteratorResult<Uint8Array>> => {
          source.ended = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return source;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((created) => created.close()));
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('EmbeddedStore: storing and reading', () => {
  it('round-trips bytes; a buffer, a sync iterable and an async iterable of the same bytes get one CID', async () => {
    const payloads = store();
    const data = bytes(700_000);
    const put = await payloads.put(data);
    assert.deepEqual(put, { cid: put.cid, size: 700_000 });
    assert.match(put.cid, /^Qm/);
    const chunks = [data.subarray(0, 1), data.subarray(1, 300_001), data.subarray(300_001)];
    assert.equal((await payloads.put(chunks)).cid, put.cid);
    assert.equal(
      (
        await payloads.put(
          (async function* () {
            yield* chunks;
          })(),
        )
      ).cid,
      put.cid,
    );
    assert.deepEqual(await payloads.get(put.cid), data);
    assert.equal(await payloads.has(put.cid), true);
    assert.deepEqual(await payloads.stat(put.cid), { cid: put.cid, size: 700_000, pinned: true });
  });

  it("gives the CIDs Kubo's ipfs add gives to well-known inputs (defaults and --cid-version=1)", async () => {
    const payloads = store();
    assert.equal((await payloads.put(new Uint8Array(0))).cid, 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH');
    assert.equal(
      (await payloads.put(new Uint8Array(0), { cid: { version: 1 } })).cid,
      'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
    );
    const hello = new TextEncoder().encode('hello world\n');
    assert.equal((await payloads.put(hello)).cid, 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o');
    assert.deepEqual(await payloads.get('QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH'), new Uint8Array(0));
  });

  it('takes CID options from the store and per call; a single raw leaf is a CIDv1 even with version 0', async () => {
    const v1 = store({ cid: { version: 1 } });
    const data = bytes(1_000);
    const raw = await v1.put(data);
    assert.match(raw.cid, /^bafkrei/);
    assert.equal((await v1.put(data, { cid: { version: 0 } })).cid.slice(0, 2), 'Qm');
    assert.equal((await v1.put(data, { cid: { version: 0, rawLeaves: true } })).cid, raw.cid);
    assert.match((await v1.put(data, { cid: { rawLeaves: false } })).cid, /^bafybei/);
    const small = await v1.put(bytes(10_000), { cid: { chunkSize: 100, maxLinks: 3 } });
    assert.deepEqual(await v1.get(small.cid), bytes(10_000));
  });

  it('survives a reopen: payloads, pins and unpinned payloads are still there', async () => {
    const dataDir = newDir();
    const first = new EmbeddedStore({ dataDir });
    const pinned = await first.put(bytes(300_000, 'a'));
    const loose = await first.put(bytes(2_000, 'b'), { pin: false });
    await first.close();
    const second = new EmbeddedStore({ dataDir });
    opened.push(second);
    assert.deepEqual(await second.get(pinned.cid), bytes(300_000, 'a'));
    assert.deepEqual(await second.get(loose.cid), bytes(2_000, 'b'));
    assert.deepEqual(await second.pins(), [pinned.cid]);
    assert.equal((await second.stat(loose.cid)).pinned, false);
  });

  it('logs each put at debug level', async () => {
    const logger = capturingLogger();
    const payloads = store({ logger });
    const { cid } = await payloads.put(bytes(10));
    const line = logger.lines.find((entry) => entry.message === 'offchain put');
    assert.equal(line?.level, 'debug');
    assert.equal(line?.fields?.cid, cid);
    assert.equal(line?.fields?.size, 10);
  });
});

describe('EmbeddedStore: integrity', () => {
  for (const version of [0, 1] as const) {
    it(`detects a flipped byte in any block of a CIDv${version} payload on get, and names the block`, async () => {
      const logger = capturingLogger();
      const payloads = store({ logger });
      const data = bytes(600_000);
      const { cid } = await payloads.put(data, { cid: { version } });
      const files = blockFiles(payloads.dataDir);
      assert.equal(files.length, 4, 'three leaves and the root');
      for (const file of files) {
        const original = readFileSync(file.path);
        const tampered = Buffer.from(original);
        const at = Math.floor(tampered.length / 2);
        tampered[at] = (tampered[at] ?? 0) ^ 0x01;
        writeFileSync(file.path, tampered);
        const error = await rejectsWith(payloads.get(cid), PayloadIntegrityError);
        assert.equal(error.cid, cid);
        assert.equal(error.problem, 'hash-mismatch');
        assert.equal(base32upper.encode(CID.parse(error.block).multihash.bytes), file.multihash);
        assert.equal(error.code, 'offchain.integrity');
        writeFileSync(file.path, original);
      }
      assert.deepEqual(await payloads.get(cid), data);
      const warnings = logger.lines.filter((line) => line.level === 'warn');
      assert.equal(warnings.length, 4);
      assert.equal(warnings[0]?.fields?.cid, cid);
    });
  }

  it('a missing block is an integrity failure; a missing root means the payload is not there', async () => {
    const payloads = store();
    const { cid } = await payloads.put(bytes(600_000), { cid: { version: 1 } });
    const leaf = blockFiles(payloads.dataDir).find((file) => file.path !== fileOf(payloads.dataDir, cid));
    assert.ok(leaf);
    unlinkSync(leaf.path);
    assert.equal((await rejectsWith(payloads.get(cid), PayloadIntegrityError)).problem, 'missing-block');
    assert.equal((await rejectsWith(payloads.pin(cid), PayloadIntegrityError)).problem, 'missing-block');
    unlinkSync(fileOf(payloads.dataDir, cid));
    const missing = await rejectsWith(payloads.get(cid), PayloadNotFoundError);
    assert.equal(missing.cid, cid);
    assert.equal(await payloads.has(cid), false);
    await rejectsWith(payloads.stat(cid), PayloadNotFoundError);
    await rejectsWith(payloads.pin(cid), PayloadNotFoundError);
  });

  it('refuses a payload over maxBytes after reading only its root block', async () => {
    const payloads = store({ maxBytes: 500_000 });
    const { cid } = await payloads.put(bytes(600_000));
    const error = await rejectsWith(payloads.get(cid), PayloadSizeLimitError);
    assert.deepEqual([error.cid, error.size, error.maxBytes], [cid, 600_000, 500_000]);
    assert.deepEqual(await payloads.get(cid, { maxBytes: 600_000 }), bytes(600_000));
    await rejectsWith(payloads.get(cid, { maxBytes: 599_999 }), PayloadSizeLimitError);
    // With its leaves gone, the size check still answers first: nothing past the root was read.
    for (const file of blockFiles(payloads.dataDir)) if (file.path !== fileOf(payloads.dataDir, cid)) unlinkSync(file.path);
    await rejectsWith(payloads.get(cid, { maxBytes: 1 }), PayloadSizeLimitError);
  });
});

describe('EmbeddedStore: pins, gc and CAR export', () => {
  it('gc() removes the blocks of unpinned payloads only; unpin is idempotent', async () => {
    const payloads = store();
    const kept = await payloads.put(bytes(600_000, 'kept'));
    const loose = await payloads.put(bytes(600_000, 'loose'), { pin: false });
    const unpinned = await payloads.put(bytes(1_000, 'unpinned'));
    await payloads.unpin(unpinned.cid);
    await payloads.unpin(unpinned.cid);
    assert.deepEqual(await payloads.pins(), [kept.cid]);
    assert.deepEqual(await payloads.gc(), { removedBlocks: 5, keptBlocks: 4 });
    assert.deepEqual(await payloads.get(kept.cid), bytes(600_000, 'kept'));
    await rejectsWith(payloads.get(loose.cid), PayloadNotFoundError);
    await rejectsWith(payloads.get(unpinned.cid), PayloadNotFoundError);
    assert.deepEqual(await payloads.gc(), { removedBlocks: 0, keptBlocks: 4 });
  });

  it('pin() pins a stored payload; pins of both CID versions are kept apart', async () => {
    const payloads = store();
    const v0 = await payloads.put(bytes(1_000), { pin: false });
    const v1 = await payloads.put(bytes(1_000), { pin: false, cid: { version: 1 } });
    await payloads.pin(v0.cid);
    await payloads.pin(v0.cid);
    assert.deepEqual(await payloads.pins(), [v0.cid]);
    assert.equal((await payloads.stat(v0.cid)).pinned, true);
    assert.equal((await payloads.stat(v1.cid)).pinned, false);
    await payloads.gc();
    await rejectsWith(payloads.get(v1.cid), PayloadNotFoundError);
    await rejectsWith(payloads.pin('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'), PayloadNotFoundError);
  });

  it('exportCar() writes a CARv1 of the pinned payloads whose every block hashes to its CID, root first', async () => {
    const payloads = store();
    const a = await payloads.put(bytes(600_000, 'a'));
    const b = await payloads.put(bytes(600_000, 'a'), { cid: { version: 1 } });
    const c = await payloads.put(bytes(5, 'c'), { pin: false });
    const chunks: Uint8Array[] = [];
    for await (const chunk of payloads.exportCar()) chunks.push(chunk);
    const reader = await CarReader.fromBytes(Buffer.concat(chunks));
    assert.deepEqual((await reader.getRoots()).map(String).sort(), [a.cid, b.cid].sort());
    const blocks: CID[] = [];
    for await (const block of reader.blocks()) {
      assert.deepEqual((await sha256.digest(block.bytes)).bytes, block.cid.multihash.bytes);
      blocks.push(block.cid);
    }
    assert.equal(blocks.length, 8, 'four blocks per payload (dag-pb leaves for v0, raw leaves for v1)');
    assert.ok(blocks.some((cid) => cid.toString() === a.cid));
    const only: Uint8Array[] = [];
    for await (const chunk of payloads.exportCar({ roots: [c.cid] })) only.push(chunk);
    const single = await CarReader.fromBytes(Buffer.concat(only));
    assert.deepEqual((await single.getRoots()).map(String), [c.cid]);
    assert.ok(await single.has(CID.parse(c.cid)));
  });

  it('exportCar() stops at a tampered block instead of exporting it', async () => {
    const payloads = store();
    const { cid } = await payloads.put(bytes(600_000), { cid: { version: 1 } });
    const leaf = blockFiles(payloads.dataDir).find((file) => file.path !== fileOf(payloads.dataDir, cid));
    assert.ok(leaf);
    const tampered = readFileSync(leaf.path);
    tampered[0] = (tampered[0] ?? 0) ^ 0xff;
    writeFileSync(leaf.path, tampered);
    await rejectsWith(
      (async () => {
        for await (const _ of payloads.exportCar()) void _;
      })(),
      PayloadIntegrityError,
    );
  });
});

describe('EmbeddedStore: deadlines, aborts and close()', () => {
  it('a put from a stalled stream ends at its deadline (TimeoutError) and ends the stream', async () => {
    const payloads = store({ timeoutMs: 5_000 });
    await payloads.open();
    const source = stalling(bytes(100));
    const started = Date.now();
    const error = await rejectsWith(payloads.put(source, { timeoutMs: 200 }), TimeoutError);
    assert.equal(error.timeoutMs, 200);
    assert.ok(Date.now() - started < 2_000);
    assert.deepEqual(await payloads.pins(), []);
  });

  it('the caller’s signal aborts a put (AbortError); an aborted signal fails every call at once', async () => {
    const payloads = store();
    const controller = new AbortController();
    const pending = payloads.put(stalling(bytes(100)), { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await rejectsWith(pending, AbortError);
    const aborted = AbortSignal.abort();
    const { cid } = await payloads.put(bytes(10));
    await rejectsWith(payloads.get(cid, { signal: aborted }), AbortError);
    await rejectsWith(payloads.put(bytes(10), { signal: aborted }), AbortError);
    await rejectsWith(payloads.gc({ signal: aborted }), AbortError);
  });

  it('close() cuts calls short with ClientClosedError, releases the directory and is final', async () => {
    const dataDir = newDir();
    const payloads = new EmbeddedStore({ dataDir });
    const source = stalling(bytes(100));
    const outcome = rejectsWith(payloads.put(source), ClientClosedError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await payloads.close();
    await outcome;
    assert.equal(source.ended, true, 'the stream was ended');
    await payloads.close();
    await rejectsWith(payloads.get('QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH'), ClientClosedError);
    const reopened = new EmbeddedStore({ dataDir });
    opened.push(reopened);
    await reopened.open();
  });

  it('a stream that fails is a PayloadSourceError with the cause; nothing is pinned', async () => {
    const payloads = store();
    const failure = new Error('disk read failed');
    const error = await rejectsWith(
      payloads.put(
        (async function* () {
          yield bytes(300_000);
          throw failure;
        })(),
      ),
      PayloadSourceError,
    );
    assert.equal(error.cause, failure);
    assert.deepEqual(await payloads.pins(), []);
  });
});

describe('EmbeddedStore: the data directory', () => {
  it('one store per data directory in a process; the next one may open it after close()', async () => {
    const dataDir = newDir();
    const first = new EmbeddedStore({ dataDir });
    await first.open();
    const second = new EmbeddedStore({ dataDir });
    const error = await rejectsWith(second.open(), StoreUnavailableError);
    assert.match(error.message, /already open in this process/);
    await first.close();
    await second.open();
    await second.close();
  });

  it('refuses a directory another live process holds, and takes over the lock of a process that is gone', async () => {
    const dataDir = newDir();
    const first = new EmbeddedStore({ dataDir });
    await first.open();
    await first.close();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dataDir, 'repo.lock'), `${other.pid}\nsomeone-else\n`);
      const held = new EmbeddedStore({ dataDir });
      const error = await rejectsWith(held.open(), StoreUnavailableError);
      assert.match(error.message, new RegExp(`process ${other.pid} has`));
      await held.close();
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    const taker = new EmbeddedStore({ dataDir });
    opened.push(taker);
    await taker.open();
    assert.match(readFileSync(join(dataDir, 'repo.lock'), 'utf8'), new RegExp(`^${process.pid}\n`));
  });

  it('refuses a data directory of another format', async () => {
    const dataDir = newDir();
    const first = new EmbeddedStore({ dataDir });
    await first.open();
    await first.close();
    writeFileSync(join(dataDir, 'twinledger-offchain.json'), '{"format":"twinledger-offchain","version":99}\n');
    const later = new EmbeddedStore({ dataDir });
    await rejectsWith(later.open(), StoreUnavailableError);
    await later.close();
  });

  it('works with durable: false', async () => {
    const payloads = store({ durable: false });
    const { cid } = await payloads.put(bytes(300_000));
    assert.deepEqual(await payloads.get(cid), bytes(300_000));
  });
});

describe('EmbeddedStore.flush()', () => {
  it('with durable: false, flushes the blocks and pins written since the last flush; reopened, all is there', async () => {
    const dataDir = newDir();
    const first = new EmbeddedStore({ dataDir, durable: false });
    const puts = [];
    for (const size of [10, 300_000, 5]) puts.push(await first.put(bytes(size, `flush-${size}`)));
    await first.unpin(puts[2]!.cid);
    await first.flush();
    await first.flush(); // nothing left: still fine
    await first.close();
    const second = store({ dataDir });
    assert.deepEqual(await second.pins(), [puts[0]!.cid, puts[1]!.cid].sort());
    assert.deepEqual(await second.get(puts[1]!.cid), bytes(300_000, 'flush-300000'));
    await second.flush(); // durable store: nothing to do
  });
});

/** Rewrites (or with `change` undefined, deletes) the stored value of `cid`'s block in a closed lmdb-layout store. */
async function editLmdbBlock(dataDir: string, cid: string, change: ((value: Buffer) => Buffer) | undefined): Promise<void> {
  const env = openLmdb({ path: join(dataDir, 'blocks.mdb'), maxDbs: 4 });
  try {
    const blocks = env.openDB<Buffer, Buffer>('blocks', { encoding: 'binary', keyEncoding: 'binary' });
    const key = Buffer.from(CID.parse(cid).multihash.bytes);
    const value = blocks.get(key);
    assert.ok(value, `no block ${cid} in blocks.mdb`);
    if (change === undefined) await blocks.remove(key);
    else await blocks.put(key, change(Buffer.from(value)));
  } finally {
    await env.close();
  }
}

function flipMiddleByte(value: Buffer): Buffer {
  const at = Math.floor(value.length / 2);
  value[at] = (value[at] ?? 0) ^ 0x01;
  return value;
}

/** The CIDs of a payload's blocks, root first (from its CAR export). */
async function blocksOf(payloads: EmbeddedStore, cid: string): Promise<string[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of payloads.exportCar({ roots: [cid] })) chunks.push(chunk);
  const cids: string[] = [];
  for await (const block of (await CarReader.fromBytes(Buffer.concat(chunks))).blocks()) cids.push(block.cid.toString());
  return cids;
}

describe("EmbeddedStore with layout: 'lmdb'", () => {
  const sizes = [0, 1, 256, 262_144, 262_145, 700_000];

  it('round-trips payloads of every size class, keeps them across a reopen, with the CIDs of the files layout', async () => {
    const dataDir = newDir();
    const lmdb = new EmbeddedStore({ dataDir, layout: 'lmdb' });
    const files = store({ durable: false });
    const cids: string[] = [];
    for (const size of sizes) {
      const data = bytes(size, `lmdb-${size}`);
      for (const cid of [{}, { version: 1 as const }, { chunkSize: 1024, maxLinks: 3 }]) {
        const put = await lmdb.put(data, { cid });
        assert.equal(put.cid, (await files.put(data, { cid })).cid, `${size} B with ${JSON.stringify(cid)}`);
        assert.deepEqual(await lmdb.get(put.cid), data);
        cids.push(put.cid);
      }
    }
    const concurrent = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => lmdb.put(bytes(n * 1_000, `concurrent-${n}`))));
    await lmdb.flush(); // durable: every put was on disk already
    await lmdb.close();
    assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'twinledger-offchain.json'), 'utf8')), {
      format: 'twinledger-offchain',
      version: 2,
      layout: 'lmdb',
    });
    assert.deepEqual(readdirSync(dataDir).sort(), ['blocks.mdb', 'blocks.mdb-lock', 'twinledger-offchain.json']);
    const reopened = store({ dataDir }); // no layout: the directory's
    for (const [index, size] of sizes.entries()) {
      for (const cid of cids.slice(index * 3, index * 3 + 3)) assert.deepEqual(await reopened.get(cid), bytes(size, `lmdb-${size}`));
    }
    for (const [index, put] of concurrent.entries())
      assert.deepEqual(await reopened.get(put.cid), bytes((index + 1) * 1_000, `concurrent-${index + 1}`));
    assert.deepEqual(await reopened.pins(), [...new Set([...cids, ...concurrent.map((put) => put.cid)])].sort());
  });

  it('durable: false leaves the syncing to flush(); one-block payloads skip the importer with the same CIDs', async () => {
    const dataDir = newDir();
    const lmdb = new EmbeddedStore({ dataDir, layout: 'lmdb', durable: false });
    const files = store({ durable: false });
    const small = Array.from({ length: 64 }, (_, n) => bytes(1 + n * 97, `small-${n}`));
    // CIDv1 with raw leaves: each payload is one raw block, stored with its pin in one transaction.
    const puts = await Promise.all(small.map((data) => lmdb.put(data, { cid: { version: 1 } })));
    for (const [index, put] of puts.entries()) {
      assert.equal(put.cid, await computeCid(small[index]!, { version: 1 }));
      assert.equal(put.cid, (await files.put(small[index]!, { cid: { version: 1 } })).cid);
      assert.equal(put.size, small[index]!.byteLength);
    }
    const unpinned = await lmdb.put(bytes(10, 'unpinned'), { cid: { version: 1 }, pin: false });
    await lmdb.flush();
    await lmdb.close();
    const reopened = store({ dataDir });
    for (const [index, put] of puts.entries()) assert.deepEqual(await reopened.get(put.cid), small[index]);
    assert.deepEqual(await reopened.pins(), puts.map((put) => put.cid).sort());
    assert.equal((await reopened.stat(unpinned.cid)).pinned, false);
  });

  for (const version of [0, 1] as const) {
    it(`detects an altered block of a CIDv${version} payload on get and names the block`, async () => {
      const dataDir = newDir();
      const logger = capturingLogger();
      const first = new EmbeddedStore({ dataDir, layout: 'lmdb' });
      const data = bytes(600_000);
      const { cid } = await first.put(data, { cid: { version } });
      const blocks = await blocksOf(first, cid);
      assert.equal(blocks.length, 4, 'three leaves and the root');
      await first.close();
      for (const block of blocks) {
        await editLmdbBlock(dataDir, block, flipMiddleByte);
        const payloads = new EmbeddedStore({ dataDir, logger });
        const error = await rejectsWith(payloads.get(cid), PayloadIntegrityError);
        assert.equal(error.cid, cid);
        assert.equal(error.problem, 'hash-mismatch');
        assert.deepEqual(CID.parse(error.block).multihash.bytes, CID.parse(block).multihash.bytes);
        await rejectsWith(
          (async () => {
            for await (const _ of payloads.exportCar()) void _;
          })(),
          PayloadIntegrityError,
        );
        await payloads.close();
        await editLmdbBlock(dataDir, block, flipMiddleByte);
      }
      const payloads = store({ dataDir });
      assert.deepEqual(await payloads.get(cid), data);
      assert.equal(logger.lines.filter((line) => line.level === 'warn').length, 4);
    });
  }

  it('a deleted block is a missing block; a deleted root means the payload is not there', async () => {
    const dataDir = newDir();
    const first = new EmbeddedStore({ dataDir, layout: 'lmdb' });
    const { cid } = await first.put(bytes(600_000), { cid: { version: 1 } });
    const [rootBlock, leaf] = await blocksOf(first, cid);
    await first.close();
    await editLmdbBlock(dataDir, leaf!, undefined);
    const payloads = new EmbeddedStore({ dataDir });
    assert.equal((await rejectsWith(payloads.get(cid), PayloadIntegrityError)).problem, 'missing-block');
    assert.equal((await rejectsWith(payloads.pin(cid), PayloadIntegrityError)).problem, 'missing-block');
    await payloads.close();
    await editLmdbBlock(dataDir, rootBlock!, undefined);
    const later = store({ dataDir });
    assert.equal((await rejectsWith(later.get(cid), PayloadNotFoundError)).cid, cid);
    assert.equal(await later.has(cid), false);
    await rejectsWith(later.stat(cid), PayloadNotFoundError);
  });

  it('pins, unpin, gc() and exportCar() work as in the files layout', async () => {
    const payloads = store({ layout: 'lmdb' });
    const kept = await payloads.put(bytes(600_000, 'kept'));
    const loose = await payloads.put(bytes(600_000, 'loose'), { pin: false });
    const unpinned = await payloads.put(bytes(1_000, 'unpinned'));
    const v1 = await payloads.put(bytes(1_000, 'unpinned'), { pin: false, cid: { version: 1 } });
    await payloads.unpin(unpinned.cid);
    await payloads.unpin(unpinned.cid);
    assert.deepEqual(await payloads.pins(), [kept.cid]);
    assert.deepEqual(await payloads.stat(kept.cid), { cid: kept.cid, size: 600_000, pinned: true });
    assert.equal((await payloads.stat(unpinned.cid)).pinned, false);
    assert.equal((await payloads.stat(v1.cid)).pinned, false, 'pins of both CID versions are kept apart');
    await payloads.pin(v1.cid);
    assert.deepEqual(await payloads.pins(), [kept.cid, v1.cid].sort());
    await payloads.unpin(v1.cid);
    // loose: 4 blocks; unpinned: 1 dag-pb block; v1: 1 raw block.
    assert.deepEqual(await payloads.gc(), { removedBlocks: 6, keptBlocks: 4 });
    assert.deepEqual(await payloads.get(kept.cid), bytes(600_000, 'kept'));
    await rejectsWith(payloads.get(loose.cid), PayloadNotFoundError);
    await rejectsWith(payloads.get(unpinned.cid), PayloadNotFoundError);
    assert.deepEqual(await payloads.gc(), { removedBlocks: 0, keptBlocks: 4 });
    const chunks: Uint8Array[] = [];
    for await (const chunk of payloads.exportCar()) chunks.push(chunk);
    const reader = await CarReader.fromBytes(Buffer.concat(chunks));
    assert.deepEqual((await reader.getRoots()).map(String), [kept.cid]);
    let count = 0;
    for await (const block of reader.blocks()) {
      assert.deepEqual((await sha256.digest(block.bytes)).bytes, block.cid.multihash.bytes);
      count += 1;
    }
    assert.equal(count, 4);
  });

  it('refuses to open a directory in the other layout, and bad layout options', async () => {
    const lmdbDir = newDir();
    const lmdb = new EmbeddedStore({ dataDir: lmdbDir, layout: 'lmdb' });
    await lmdb.open();
    await lmdb.close();
    const asFiles = new EmbeddedStore({ dataDir: lmdbDir, layout: 'files' });
    const error = await rejectsWith(asFiles.open(), StoreUnavailableError);
    assert.match(error.message, /'lmdb' block layout/);
    assert.match(error.hint ?? '', /layout: 'lmdb'/);
    await asFiles.close();
    const filesDir = newDir();
    const files = new EmbeddedStore({ dataDir: filesDir });
    const { cid } = await files.put(bytes(10));
    await files.close();
    assert.deepEqual(JSON.parse(readFileSync(join(filesDir, 'twinledger-offchain.json'), 'utf8')), {
      format: 'twinledger-offchain',
      version: 1,
    });
    const asLmdb = new EmbeddedStore({ dataDir: filesDir, layout: 'lmdb' });
    await rejectsWith(asLmdb.open(), StoreUnavailableError);
    await asLmdb.close();
    const again = store({ dataDir: filesDir, layout: 'files' });
    assert.deepEqual(await again.get(cid), bytes(10));
    assert.throws(() => new EmbeddedStore({ dataDir: newDir(), layout: 'sqlite' as 'lmdb' }), ValidationError);
  });
});

describe('computeCid', () => {
  it('names a payload as put() would, for every size class and CID option, without storing it', async () => {
    const payloads = store({ durable: false });
    const options = [
      {},
      { version: 1 as const },
      { version: 0 as const, rawLeaves: true },
      { version: 1 as const, rawLeaves: false },
      { chunkSize: 1024, maxLinks: 3 },
    ];
    for (const size of [0, 1, 256, 262_144, 262_145, 700_000]) {
      const data = bytes(size, `compute-${size}`);
      for (const cid of options) {
        assert.equal(
          await computeCid(data, cid),
          (await payloads.put(data, { cid, pin: false })).cid,
          `${size} B with ${JSON.stringify(cid)}`,
        );
      }
    }
  });
});

describe('EmbeddedStore: input checks', () => {
  it('refuses bad options before any I/O, naming the field', () => {
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        assert.ok(error instanceof ValidationError, String(error));
        return error.field;
      }
      return assert.fail('expected a ValidationError');
    };
    assert.equal(
      field(() => new EmbeddedStore({ dataDir: '' })),
      'dataDir',
    );
    assert.equal(
      field(() => new EmbeddedStore({ dataDir: newDir(), cid: { version: 2 as 0 } })),
      'cid.version',
    );
    assert.equal(
      field(() => new EmbeddedStore({ dataDir: newDir(), cid: { chunkSize: 1_048_577 } })),
      'cid.chunkSize',
    );
    assert.equal(
      field(() => new EmbeddedStore({ dataDir: newDir(), cid: { maxLinks: 1 } })),
      'cid.maxLinks',
    );
    assert.equal(
      field(() => new EmbeddedStore({ dataDir: newDir(), maxBytes: -1 })),
      'maxBytes',
    );
    assert.equal(
      field(() => new EmbeddedStore({ dataDir: newDir(), timeoutMs: 0 })),
      'timeoutMs',
    );
  });

  it('refuses bad arguments of calls with a ValidationError', async () => {
    const payloads = store();
    const field = async (promise: Promise<unknown>) => (await rejectsWith(promise, ValidationError)).field;
    assert.equal(await field(payloads.get('not-a-cid')), 'cid');
    assert.equal(await field(payloads.get('bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')), 'cid');
    assert.equal(await field(payloads.put('text' as unknown as Uint8Array)), 'payload');
    assert.equal(await field(payloads.put(['text'] as unknown as Uint8Array[])), 'payload');
    assert.equal(await field(payloads.put(bytes(1), { cid: { rawLeaves: 'yes' as unknown as boolean } })), 'options.cid.rawLeaves');
    assert.equal(await field(payloads.get('QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH', { maxBytes: 1.5 })), 'options.maxBytes');
    assert.equal(await field(payloads.has('QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH', { timeoutMs: -1 })), 'options.timeoutMs');
    assert.equal(await field(payloads.put(bytes(1), { pin: 'no' as unknown as boolean })), 'options.pin');
  });
});
