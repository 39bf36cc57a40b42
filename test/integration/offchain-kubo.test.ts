// The off-chain stores against a real Kubo daemon (KUBO_BIN, or ipfs on PATH; .ci/run unpacks Kubo 0.43.1): the CIDs
// of EmbeddedStore equal those of `ipfs add` and of KuboStore for every size class of a UnixFS DAG, as CIDv0 and CIDv1;
// KuboStore round trips, its integrity check of the blocks a node returns, its errors (not found, bad credentials,
// daemon stopped), and moving an EmbeddedStore's payloads into Kubo with a CAR file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  EmbeddedStore,
  KuboStore,
  type LogFields,
  type Logger,
  PayloadIntegrityError,
  PayloadNotFoundError,
  StoreRequestError,
  StoreUnavailableError,
} from '../../src/offchain/index.js';
import { type Kubo, kuboProblem, startKubo } from '../support/kubo.js';
import { skipUnlessAvailable } from '../support/services.js';
import { rejectsWith } from '../support/rejects.js';

const problem = kuboProblem();
const KiB = 1024;
const MiB = 1024 * KiB;
/** The size classes of a Kubo DAG: empty, one chunk, one byte short of / exactly / one byte over a 256 KiB chunk, many chunks, two levels (> 174 chunks). */
const SIZES = [0, 1, KiB, 262_143, 262_144, 262_145, 5 * MiB, 45 * MiB];

/** Deterministic bytes that do not repeat (every chunk is a block of its own). */
function bytes(size: number, seed: string): Uint8Array {
  const out = new Uint8Array(size);
  for (let offset = 0, block = 0; offset < size; offset += 32, block += 1) {
    const digest = createHash('sha256').update(`${seed}:${block}`).digest();
    out.set(digest.subarray(0, Math.min(32, size - offset)), offset);
  }
  return out;
}

function capturingLogger(): Logger & { lines: Array<{ level: string; message: string; fields?: LogFields }> } {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** An HTTP proxy in front of Kubo's RPC API that flips the last byte of every `block/get` answer while `corrupt` is set. */
async function corruptingProxy(target: string): Promise<{ url: string; corrupt: boolean; close(): Promise<void> }> {
  const upstream = new URL(target);
  const proxy = {
    url: '',
    corrupt: false,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers: incoming.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          if (proxy.corrupt && incoming.url?.startsWith('/api/v0/block/get') && answer.statusCode === 200 && body.length > 0) {
            body.writeUInt8(body.readUInt8(body.length - 1) ^ 0x01, body.length - 1);
          }
          const headers = { ...answer.headers };
          delete headers['transfer-encoding'];
          delete headers.trailer;
          headers['content-length'] = String(body.length);
          outgoing.writeHead(answer.statusCode ?? 502, headers);
          outgoing.end(body);
        });
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

describe('EmbeddedStore and KuboStore against Kubo', { skip: skipUnlessAvailable(problem) }, () => {
  let kubo: Kubo;
  let work: string;
  let embedded: EmbeddedStore;
  let store: KuboStore;

  before(async () => {
    if (problem !== undefined) throw new Error(problem);
    work = mkdtempSync(join(tmpdir(), 'twinledger-offchain-kubo-'));
    kubo = await startKubo();
    embedded = new EmbeddedStore({ dataDir: join(work, 'embedded'), durable: false });
    store = new KuboStore({ url: kubo.url, offline: true });
  });

  after(async () => {
    await store?.close();
    await embedded?.close();
    await kubo?.dispose();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  describe('the same CID as `ipfs add` with its defaults', () => {
    for (const size of SIZES) {
      for (const version of [0, 1] as const) {
        it(`${size.toLocaleString('en')} B as CIDv${version}`, { timeout: 120_000 }, async () => {
          const data = bytes(size, `parity-${size}`);
          const file = join(work, `payload-${size}`);
          writeFileSync(file, data);
          // Kubo's own defaults: no chunker or raw-leaves flag, so the comparison also checks that ours are Kubo's.
          const added = await kubo.ipfs(['add', '-Q', '--pin=false', ...(version === 1 ? ['--cid-version=1'] : []), file]);
          const fromEmbedded = await embedded.put(data, { cid: { version } });
          const fromKubo = await store.put(data, { cid: { version } });
          assert.equal(fromEmbedded.cid, added, 'EmbeddedStore vs ipfs add');
          assert.equal(fromKubo.cid, added, 'KuboStore vs ipfs add');
          assert.equal(fromEmbedded.size, size);
          assert.equal(fromKubo.size, size);
          rmSync(file);
        });
      }
    }

    it('45 MiB is a two-level DAG (more than 174 chunks), as Kubo built it', { timeout: 120_000 }, async () => {
      const { cid } = await embedded.put(bytes(45 * MiB, `parity-${45 * MiB}`), { cid: { version: 1 } });
      const root = JSON.parse(await kubo.ipfs(['dag', 'get', cid])) as { Links: Array<{ Hash: { '/': string } }> };
      assert.equal(root.Links.length, 2, '180 chunks: one full node of 174 and one of 6');
      const first = JSON.parse(await kubo.ipfs(['dag', 'get', root.Links[0]!.Hash['/']])) as { Links: unknown[] };
      assert.equal(first.Links.length, 174);
    });

    it(
      'explicit options give the same CID on both sides (the unixfs-v1-2025 profile: 1 MiB chunks, 1,024 links)',
      { timeout: 60_000 },
      async () => {
        const data = bytes(3 * MiB + 17, 'profile-2025');
        const file = join(work, 'profile-2025');
        writeFileSync(file, data);
        const cid = { version: 1, rawLeaves: true, chunkSize: MiB, maxLinks: 1024 } as const;
        const added = await kubo.ipfs(['add', '-Q', '--pin=false', '--cid-version=1', '--raw-leaves', `--chunker=size-${MiB}`, file]);
        assert.equal((await embedded.put(data, { cid })).cid, added);
        assert.equal((await store.put(data, { cid })).cid, added);
        const v0 = { version: 0, rawLeaves: true } as const;
        const addedV0 = await kubo.ipfs(['add', '-Q', '--pin=false', '--raw-leaves', file]);
        assert.equal((await embedded.put(data, { cid: v0 })).cid, addedV0);
        assert.equal((await store.put(data, { cid: v0 })).cid, addedV0);
      },
    );
  });

  describe('KuboStore', () => {
    it('round-trips bytes: put pins, get re-hashes, has, stat, unpin, pin again', async () => {
      const data = bytes(600_000, 'round-trip');
      const { cid, size } = await store.put(data);
      assert.equal(size, 600_000);
      assert.deepEqual(await store.get(cid), data);
      assert.equal(await store.has(cid), true);
      assert.deepEqual(await store.stat(cid), { cid, size: 600_000, pinned: true });
      assert.match(await kubo.ipfs(['pin', 'ls', '--type=recursive', cid]), new RegExp(cid));
      await store.unpin(cid);
      await store.unpin(cid); // not pinned any more: no error
      assert.equal((await store.stat(cid)).pinned, false);
      await store.pin(cid);
      assert.equal((await store.stat(cid)).pinned, true);
      const unpinned = await store.put(bytes(10, 'no pin'), { pin: false });
      assert.equal((await store.stat(unpinned.cid)).pinned, false);
    });

    it('a CID the node does not have: has() is false, get/stat/pin are PayloadNotFoundError (offline node)', async () => {
      const { cid } = await embedded.put(bytes(1000, 'only embedded'));
      assert.equal(await store.has(cid), false);
      const missing = await rejectsWith(store.get(cid), PayloadNotFoundError);
      assert.equal(missing.cid, cid);
      await rejectsWith(store.stat(cid), PayloadNotFoundError);
      await rejectsWith(store.pin(cid), PayloadNotFoundError);
    });

    it('refuses blocks that do not hash to their CID, whatever the node (or a proxy) sends', async () => {
      const proxy = await corruptingProxy(kubo.url);
      const logger = capturingLogger();
      const proxied = new KuboStore({ url: proxy.url, offline: true, logger });
      try {
        const data = bytes(300_000, 'corrupted on the way');
        const { cid } = await proxied.put(data);
        assert.deepEqual(await proxied.get(cid), data);
        proxy.corrupt = true;
        const refused = await rejectsWith(proxied.get(cid), PayloadIntegrityError);
        assert.equal(refused.cid, cid);
        assert.equal(refused.problem, 'hash-mismatch');
        assert.ok(logger.lines.some((line) => line.level === 'warn' && line.fields?.cid === cid));
      } finally {
        await proxied.close();
        await proxy.close();
      }
    });

    it('pointed at the gateway instead of the RPC API: a StoreRequestError that says so, never "not found"', async () => {
      const gateway = readFileSync(join(kubo.repo, 'gateway'), 'utf8').trim();
      const wrong = new KuboStore({ url: gateway, offline: true });
      try {
        const { cid } = await store.put(bytes(100, 'behind the gateway'));
        for (const call of [() => wrong.get(cid), () => wrong.has(cid), () => wrong.put(bytes(10, 'x'))]) {
          const refused = await rejectsWith(call(), StoreRequestError);
          assert.equal(refused.status, 404);
          assert.match(refused.hint ?? '', /RPC API/);
        }
      } finally {
        await wrong.close();
      }
    });

    it('many blocks at once raise no MaxListenersExceededWarning, in either store', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      try {
        const data = bytes(6 * MiB, 'many blocks');
        const { cid } = await embedded.put(data);
        assert.deepEqual(await embedded.get(cid), data);
        await store.put(data);
        assert.deepEqual(await store.get(cid), data);
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', onWarning);
      }
      assert.deepEqual(
        warnings.map((warning) => `${warning.name}: ${warning.message}`),
        [],
      );
    });

    it('moves an EmbeddedStore into Kubo with a CAR file: every CID stays valid', { timeout: 60_000 }, async () => {
      const source = new EmbeddedStore({ dataDir: join(work, 'car-source'), durable: false });
      try {
        const payloads = [bytes(3, 'car-0'), bytes(5, 'car-1'), bytes(700_000, 'car-2')];
        const v0 = await Promise.all(payloads.map((data) => source.put(data)));
        const v1 = await Promise.all(payloads.map((data) => source.put(data, { cid: { version: 1 } })));
        const stored = [...v0, ...v1].map((put) => put.cid);
        for (const cid of stored) assert.equal(await store.has(cid), false, `${cid} must not be in Kubo before the import`);
        const roots = await store.importCar(source.exportCar());
        assert.deepEqual([...roots].sort(), [...new Set(stored)].sort());
        for (const [index, cid] of stored.entries()) {
          assert.deepEqual(await store.get(cid), payloads[index % payloads.length], cid);
          assert.equal((await store.stat(cid)).pinned, true);
        }
        // The command-line way of docs/offchain.md gives the same result.
        const file = join(work, 'export.car');
        const chunks: Uint8Array[] = [];
        for await (const chunk of source.exportCar({ roots: [v1[2]!.cid] })) chunks.push(chunk);
        writeFileSync(file, Buffer.concat(chunks));
        assert.match(await kubo.ipfs(['dag', 'import', '--stats', file]), /Imported \d+ blocks/);
      } finally {
        await source.close();
      }
    });

    it(
      'with API.Authorizations: the right token works, a wrong one is a StoreRequestError that shows no secret',
      { timeout: 90_000 },
      async () => {
        const token = 'kubo-secret-token-8d1f';
        await kubo.stop();
        await kubo.ipfs([
          'config',
          '--json',
          'API.Authorizations',
          JSON.stringify({ tests: { AuthSecret: `bearer:${token}`, AllowedPaths: ['/api/v0'] } }),
        ]);
        await kubo.start();
        const authorised = new KuboStore({ url: kubo.url, offline: true, credentials: { type: 'bearer', token } });
        const wrongToken = 'not-the-token-77aa';
        const refusedStore = new KuboStore({ url: kubo.url, offline: true, credentials: { type: 'bearer', token: wrongToken } });
        try {
          const { cid } = await authorised.put(bytes(100, 'authorised'));
          assert.equal(await authorised.has(cid), true);
          const refused = await rejectsWith(refusedStore.get(cid), StoreRequestError);
          assert.ok(refused.status === 401 || refused.status === 403, `status ${refused.status}`);
          assert.match(refused.hint ?? '', /credentials/);
          for (const text of [refused.message, refused.stack ?? '', JSON.stringify(refused), String(refused.hint)]) {
            assert.ok(!text.includes(wrongToken), `the token leaked: ${text}`);
          }
        } finally {
          await authorised.close();
          await refusedStore.close();
          await kubo.stop();
          await kubo.ipfs(['config', '--json', 'API.Authorizations', '{}']);
          await kubo.start();
        }
      },
    );

    it(
      'daemon stopped: every call is a StoreUnavailableError saying what to do; after a restart the payloads are back',
      { timeout: 90_000 },
      async () => {
        const data = bytes(2000, 'survives a restart');
        const { cid } = await store.put(data);
        await kubo.stop();
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['put', () => store.put(bytes(10, 'while down'))],
          ['get', () => store.get(cid)],
          ['has', () => store.has(cid)],
          ['stat', () => store.stat(cid)],
          ['pin', () => store.pin(cid)],
          ['unpin', () => store.unpin(cid)],
        ];
        for (const [name, call] of calls) {
          const down = await rejectsWith(call(), StoreUnavailableError);
          assert.match(down.message, new RegExp(kubo.url.replace(/[.]/g, '\\.')), name);
          assert.match(down.hint ?? '', /ipfs daemon/, name);
        }
        await kubo.start();
        assert.deepEqual(await store.get(cid), data);
      },
    );
  });
});
