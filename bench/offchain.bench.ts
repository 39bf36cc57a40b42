/**
 * Off-chain payload stores on the same bytes: EmbeddedStore (a data directory of this process; `durable: true`, its
 * default, flushes every block and pin to the disk before `put()` returns; `durable: false` on lines of its own)
 * beside KuboStore on a real Kubo daemon (test/support/kubo.ts: a repository of its own, `ipfs daemon --offline`, the
 * RPC API on loopback; KuboStore with `offline: true`). For 1 KiB payloads (many) and 1 MiB payloads (fewer): put
 * MB/s and puts/s, get MB/s and gets/s, one call at a time, default CID options (CIDv0, 256 KiB chunks: a 1 MiB
 * payload is 4 leaves and a root), every put pinned (both stores' default). MB = 10^6 bytes of payload.
 *
 * Every round makes fresh random payloads (all distinct, so no put finds its blocks already stored) and puts the same
 * ones into each store, the stores in an order that rotates from round to round, then gets them all back. After each
 * pass, untimed, the CIDs of the stores are compared with one another and, after each get pass, the bytes read with
 * the bytes put: a difference ends the bench with an error. Each figure is the median of BENCH_OFFCHAIN_ROUNDS
 * rounds; the rounds' MB/s are printed beside it. Embedded data directories and Kubo's repository are both in the OS
 * temp dir (TMPDIR), removed at the end. Without Kubo (KUBO_BIN, or ipfs on PATH) prints a skip line for it and
 * measures the embedded store only. Prints one JSON line per store and payload size, and a summary.
 *
 *   BENCH_OFFCHAIN_ROUNDS (5)  BENCH_OFFCHAIN_1KIB_PAYLOADS (1000)  BENCH_OFFCHAIN_1MIB_PAYLOADS (64)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore, KuboStore, type PayloadStore } from '../src/offchain/index.js';
import { type Kubo, kuboProblem, startKubo } from '../test/support/kubo.js';

const ROUNDS = Number(process.env.BENCH_OFFCHAIN_ROUNDS ?? 5);
const SIZES = [
  { payload: '1KiB', payloadBytes: 1024, payloads: Number(process.env.BENCH_OFFCHAIN_1KIB_PAYLOADS ?? 1000) },
  { payload: '1MiB', payloadBytes: 1024 * 1024, payloads: Number(process.env.BENCH_OFFCHAIN_1MIB_PAYLOADS ?? 64) },
];
/** Payloads of each size put and read back per store before the rounds, untimed (first connection, JIT). */
const WARMUP = 4;

function emit(line: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench: 'offchain', ...line }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const mb = (value: number) => Number(value.toPrecision(3));
const ops = (value: number) => Number(value.toFixed(1));
const ratio = (value: number) => Number(value.toFixed(3));

interface Measured {
  /** `embedded`, `embedded-nondurable` or `kubo`: the `name` of its lines. */
  name: string;
  store: PayloadStore;
  /** Fields of its lines that describe the store. */
  details: Record<string, unknown>;
}

/** Puts every payload, one at a time; the CIDs in order. */
async function putAll(store: PayloadStore, payloads: Buffer[]): Promise<{ seconds: number; cids: string[] }> {
  const cids: string[] = [];
  globalThis.gc?.();
  const started = performance.now();
  for (const payload of payloads) cids.push((await store.put(payload)).cid);
  return { seconds: (performance.now() - started) / 1000, cids };
}

/** Gets every payload, one at a time, then (untimed) checks the bytes read against those put. */
async function getAll(name: string, store: PayloadStore, cids: string[], payloads: Buffer[]): Promise<number> {
  const read: Uint8Array[] = [];
  globalThis.gc?.();
  const started = performance.now();
  for (const cid of cids) read.push(await store.get(cid));
  const seconds = (performance.now() - started) / 1000;
  const wrong = payloads.findIndex((payload, index) => !payload.equals(read[index] ?? new Uint8Array()));
  if (wrong !== -1) throw new Error(`${name}: get(${cids[wrong]}) returned other bytes than payload ${wrong} put`);
  return seconds;
}

const problem = kuboProblem();
const root = mkdtempSync(join(tmpdir(), 'twinledger-offchain-bench-'));
const starting: Promise<Kubo> | undefined = problem === undefined ? startKubo() : undefined;
const stores: Measured[] = [];
let cleaning: Promise<void> | undefined;
/** Closes the stores, stops the daemon (also one still starting) and removes the temp dirs; once. */
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const { store } of stores) await store.close().catch(() => undefined);
    await starting?.then(
      (kubo) => kubo.dispose(),
      () => undefined,
    );
    rmSync(root, { recursive: true, force: true });
  })());
process.once('SIGINT', () => {
  void cleanup().finally(() => process.exit(130));
});

try {
  stores.push(
    { name: 'embedded', store: new EmbeddedStore({ dataDir: join(root, 'durable') }), details: { durable: true } },
    {
      name: 'embedded-nondurable',
      store: new EmbeddedStore({ dataDir: join(root, 'nondurable'), durable: false }),
      details: { durable: false },
    },
  );
  if (starting === undefined) {
    emit({ name: 'kubo', skipped: problem });
  } else {
    const kubo = await starting;
    const version = await kubo.ipfs(['version', '--number']);
    const config = JSON.parse(readFileSync(join(kubo.repo, 'config'), 'utf8')) as {
      Datastore?: { Spec?: { mounts?: Array<{ type?: string; sync?: boolean }> } };
    };
    // Whether Kubo flushes its block files: compare with the embedded line of the same durability.
    const flatfsSync = config.Datastore?.Spec?.mounts?.find((mount) => mount.type === 'flatfs')?.sync;
    stores.push({ name: 'kubo', store: new KuboStore({ url: kubo.url, offline: true }), details: { offline: true, version, flatfsSync } });
  }

  for (const { name, store } of stores) {
    for (const { payloadBytes } of SIZES) {
      const payloads = Array.from({ length: WARMUP }, () => randomBytes(payloadBytes));
      const { cids } = await putAll(store, payloads);
      await getAll(name, store, cids, payloads);
    }
  }

  /** Seconds per round, by store name and payload label. */
  const seconds = new Map<string, { put: number[]; get: number[] }>();
  const timesOf = (name: string, payload: string) => {
    const key = `${name}/${payload}`;
    const known = seconds.get(key) ?? { put: [], get: [] };
    seconds.set(key, known);
    return known;
  };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const { payload, payloadBytes, payloads: count } of SIZES) {
      const payloads = Array.from({ length: count }, () => randomBytes(payloadBytes));
      let reference: { name: string; cids: string[] } | undefined;
      // Rotate the order, so that no store always runs first (or last) on these bytes.
      const order = stores.map((_, index) => stores[(index + round) % stores.length] as Measured);
      for (const { name, store } of order) {
        const put = await putAll(store, payloads);
        reference ??= { name, cids: put.cids };
        const differs = put.cids.findIndex((cid, index) => cid !== reference?.cids[index]);
        if (differs !== -1) {
          throw new Error(`payload ${differs}: ${name} gave CID ${put.cids[differs]}, ${reference.name} ${reference.cids[differs]}`);
        }
        const times = timesOf(name, payload);
        times.put.push(put.seconds);
        times.get.push(await getAll(name, store, put.cids, payloads));
      }
    }
  }

  const figures = new Map<string, { putMBPerSec: number; getMBPerSec: number }>();
  for (const { payload, payloadBytes, payloads } of SIZES) {
    const bytes = payloads * payloadBytes;
    for (const { name, details } of stores) {
      const times = timesOf(name, payload);
      const putMBPerSec = median(times.put.map((value) => bytes / value / 1e6));
      const getMBPerSec = median(times.get.map((value) => bytes / value / 1e6));
      figures.set(`${name}/${payload}`, { putMBPerSec, getMBPerSec });
      emit({
        name,
        ...details,
        payload,
        payloadBytes,
        payloads,
        rounds: ROUNDS,
        putMBPerSec: mb(putMBPerSec),
        putsPerSec: ops(median(times.put.map((value) => payloads / value))),
        getMBPerSec: mb(getMBPerSec),
        getsPerSec: ops(median(times.get.map((value) => payloads / value))),
        roundsPutMBPerSec: times.put.map((value) => mb(bytes / value / 1e6)),
        roundsGetMBPerSec: times.get.map((value) => mb(bytes / value / 1e6)),
        verified: true,
      });
    }
  }

  const mbPerSec: Record<string, Record<string, { put: number; get: number }>> = {};
  const vsKubo: Record<string, Record<string, { put: number; get: number }>> = {};
  for (const { payload } of SIZES) {
    const rates: Record<string, { put: number; get: number }> = {};
    const ratios: Record<string, { put: number; get: number }> = {};
    const kubo = figures.get(`kubo/${payload}`);
    for (const { name } of stores) {
      const figure = figures.get(`${name}/${payload}`) ?? { putMBPerSec: 0, getMBPerSec: 0 };
      rates[name] = { put: mb(figure.putMBPerSec), get: mb(figure.getMBPerSec) };
      if (kubo !== undefined && name !== 'kubo') {
        ratios[name] = { put: ratio(figure.putMBPerSec / kubo.putMBPerSec), get: ratio(figure.getMBPerSec / kubo.getMBPerSec) };
      }
    }
    mbPerSec[payload] = rates;
    if (kubo !== undefined) vsKubo[payload] = ratios;
  }
  emit({
    name: 'summary',
    rounds: ROUNDS,
    payloads: Object.fromEntries(SIZES.map(({ payload, payloads }) => [payload, payloads])),
    mbPerSec,
    ...(starting === undefined ? { kuboSkipped: problem } : { vsKubo }),
  });
} finally {
  await cleanup();
}
