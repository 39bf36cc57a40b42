/**
 * `EmbeddedStore`: payloads in a data directory of this process, with Kubo's CIDs and no network. The directory's
 * layout, lock and durability are in data-dir.ts.
 */
import { resolve } from 'node:path';
import type { CID } from 'multiformats/cid';
import { raceAbort } from '../core/abort.js';
import { TwinLedgerError, ValidationError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { type CallOptions, durationMs, integerOption } from '../core/options.js';
import { CallScope } from './call.js';
import { DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS, MAX_BYTES_LIMIT } from './defaults.js';
import { type ResolvedCidOptions, blockKey, cidText, parseCid, resolveCidOptions, validateCidOptions } from './cid.js';
import { type DagBlocksOptions, dagBlocks, payloadSize, readCheckedPayload } from './dag.js';
import { type BlockLayout, BLOCK_LAYOUTS, fsFailure } from './block-storage.js';
import { type DataDirectory, blockFetcher, closeDataDirectory, openDataDirectory } from './data-dir.js';
import { Gate } from './gate.js';
import { singleRawBlockCid } from './compute-cid.js';
import { unixfsImportOptions } from './modules.js';
import { checkSource, readSource, type SourceProgress } from './source.js';
import type { CidOptions, PayloadGetOptions, PayloadStat, PayloadStore, PayloadSource, PayloadPutOptions, StoredPayload } from './types.js';

export interface EmbeddedStoreOptions {
  /** The data directory; created when missing. One open store per directory (a lock file enforces it). */
  dataDir: string;
  /** How payloads become CIDs; default Kubo's `ipfs add` defaults (see `CidOptions`). */
  cid?: CidOptions;
  /** Default deadline of each call. Default 30 000 ms. */
  timeoutMs?: number;
  /** Default size limit of `get()`. Default 67 108 864 (64 MiB). */
  maxBytes?: number;
  /**
   * Flush blocks and pins to the disk before `put()`, `pin()` and `unpin()` return, so that a crash or power loss
   * does not lose what they confirmed. Default true; false is faster (for tests, caches, and callers that `flush()`
   * once per group of puts). In the `lmdb` layout a durable put costs a share of one commit's fsync.
   */
  durable?: boolean;
  /**
   * How a new data directory keeps its blocks and pins: `'files'` (default), one file per block and per pin, or
   * `'lmdb'`, one LMDB environment (`blocks.mdb`) where the writes of concurrent puts share one commit and one fsync,
   * several times faster for many small payloads. An existing directory keeps the layout it was created with: leave
   * this out to open either; a different one is refused (`StoreUnavailableError`). CIDs do not depend on it.
   */
  layout?: 'files' | 'lmdb';
  logger?: Logger;
}

export interface ExportCarOptions extends CallOptions {
  /** The payloads to export. Default: every pinned payload. */
  roots?: string[];
}

export interface GcResult {
  /** Blocks deleted: no pinned payload uses them. */
  removedBlocks: number;
  /** Blocks kept. */
  keptBlocks: number;
}

/** Blocks written (and flushed) in parallel during a put. */
const WRITE_CONCURRENCY = 16;

/**
 * Payloads in a local data directory: an in-process UnixFS importer and exporter over a block storage (one file per
 * block, or one LMDB environment: `layout`), no libp2p and no network. For the same bytes and `CidOptions` it produces exactly the CID Kubo's `ipfs add` gives, so
 * `exportCar()` moves the payloads to a Kubo node (`ipfs dag import`) with every CID still valid. `get()` checks
 * every block against its CID. The directory is opened (and locked) on first use or by `open()`; `close()` is final.
 */
export class EmbeddedStore implements PayloadStore {
  /** The data directory, absolute. */
  readonly dataDir: string;
  private readonly cid: CidOptions;
  private readonly maxBytes: number;
  private readonly durable: boolean;
  private readonly layout: BlockLayout | undefined;
  private readonly logger: Logger;
  private readonly scope: CallScope;
  private readonly gate = new Gate();
  private opened: Promise<DataDirectory> | undefined;
  private closed: Promise<void> | undefined;

  constructor(options: EmbeddedStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object with dataDir');
    if (typeof options.dataDir !== 'string' || options.dataDir.trim() === '') {
      throw new ValidationError('dataDir', 'must be a directory path', 'e.g. ./data/payloads');
    }
    if (options.durable !== undefined && typeof options.durable !== 'boolean') {
      throw new ValidationError('durable', 'must be a boolean');
    }
    if (options.layout !== undefined && !BLOCK_LAYOUTS.includes(options.layout)) {
      throw new ValidationError('layout', `must be one of ${BLOCK_LAYOUTS.map((layout) => `'${layout}'`).join(', ')}`);
    }
    this.dataDir = resolve(options.dataDir);
    this.cid = validateCidOptions('cid', options.cid);
    this.maxBytes = integerOption('maxBytes', options.maxBytes, { min: 0, max: MAX_BYTES_LIMIT }, DEFAULT_MAX_BYTES);
    this.durable = options.durable ?? true;
    this.layout = options.layout;
    this.logger = options.logger ?? silentLogger;
    this.scope = new CallScope('EmbeddedStore', durationMs('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS));
  }

  /** Opens the data directory now (otherwise the first call does): surfaces a locked or unwritable directory early. */
  async open(options?: CallOptions): Promise<void> {
    await this.scope.run('open', options, async () => {
      await this.ready();
    });
  }

  async put(payload: PayloadSource, options?: PayloadPutOptions): Promise<StoredPayload> {
    const source = checkSource(payload);
    const cidOptions = resolveCidOptions(this.cid, validateCidOptions('options.cid', options?.cid));
    if (options?.pin !== undefined && typeof options.pin !== 'boolean') throw new ValidationError('options.pin', 'must be a boolean');
    return this.scope.run('put', options, async (signal) => {
      const store = await this.ready();
      const release = await this.gate.enterShared(signal);
      try {
        const started = performance.now();
        const progress: SourceProgress = { bytes: 0, failure: undefined };
        const pin = options?.pin ?? true;
        let root = await this.putSingleBlock(store, source, cidOptions, pin, signal);
        if (root !== undefined) {
          progress.bytes = (source as Uint8Array).byteLength;
        } else {
          root = await this.importPayload(store, readSource(source, progress, signal), cidOptions, progress, signal);
          if (pin) await store.blocks.pins.write(root);
        }
        const result = { cid: cidText(root), size: progress.bytes };
        this.logger.debug('offchain put', { store: 'embedded', ...result, ms: Math.round(performance.now() - started) });
        return result;
      } finally {
        release();
      }
    });
  }

  async get(cid: string, options?: PayloadGetOptions): Promise<Uint8Array> {
    const root = parseCid('cid', cid);
    const maxBytes = integerOption('options.maxBytes', options?.maxBytes, { min: 0, max: MAX_BYTES_LIMIT }, this.maxBytes);
    return this.scope.run(`get ${cidText(root)}`, options, async (signal) => {
      const store = await this.ready();
      return readCheckedPayload(root, blockFetcher(store), 'embedded', maxBytes, signal, this.logger);
    });
  }

  async has(cid: string, options?: CallOptions): Promise<boolean> {
    const root = parseCid('cid', cid);
    return this.scope.run(`has ${cidText(root)}`, options, async (signal) => {
      const store = await this.ready();
      return root.multihash.code === 0 || store.blocks.has(root, signal);
    });
  }

  async pin(cid: string, options?: CallOptions): Promise<void> {
    const root = parseCid('cid', cid);
    await this.scope.run(`pin ${cidText(root)}`, options, async (signal) => {
      const store = await this.ready();
      const release = await this.gate.enterShared(signal);
      try {
        // Like Kubo's recursive pin: only a payload whose blocks are all here can be pinned.
        for await (const _ of dagBlocks(root, this.walkOptions(store, 'exists', signal))) void _;
        await store.blocks.pins.write(root);
      } finally {
        release();
      }
    });
  }

  async unpin(cid: string, options?: CallOptions): Promise<void> {
    const root = parseCid('cid', cid);
    await this.scope.run(`unpin ${cidText(root)}`, options, async () => {
      const store = await this.ready();
      await store.blocks.pins.remove(root);
    });
  }

  async stat(cid: string, options?: CallOptions): Promise<PayloadStat> {
    const root = parseCid('cid', cid);
    return this.scope.run(`stat ${cidText(root)}`, options, async (signal) => {
      const store = await this.ready();
      const size = await payloadSize(root, blockFetcher(store), 'embedded', signal);
      const pinned = await store.blocks.pins.has(root);
      return { cid: cidText(root), size, pinned };
    });
  }

  /** The CIDs of the pinned payloads, sorted. */
  async pins(options?: CallOptions): Promise<string[]> {
    return this.scope.run('pins', options, async () => (await (await this.ready()).blocks.pins.list(this.logger)).map(cidText).sort());
  }

  /**
   * A CAR file (CARv1) with the payloads `roots` (default: every pinned payload) and all their blocks, root first,
   * each block checked against its CID on the way out. Import it into Kubo with `ipfs dag import` (or
   * `KuboStore.importCar()`): the payloads keep their CIDs there. `timeoutMs` bounds the whole export; write the
   * chunks somewhere (e.g. `pipeline(Readable.from(store.exportCar()), createWriteStream('payloads.car'))`).
   * Payloads that are not pinned can be removed by a `gc()` running meanwhile.
   */
  async *exportCar(options: ExportCarOptions = {}): AsyncGenerator<Uint8Array> {
    if (options.roots !== undefined && !Array.isArray(options.roots))
      throw new ValidationError('options.roots', 'must be an array of CIDs');
    const requested = options.roots?.map((root, index) => parseCid(`options.roots[${index}]`, root));
    const call = this.scope.begin('exportCar', options);
    try {
      const store = await raceAbort(this.ready(), call.signal, call.ended);
      const roots = requested ?? (await store.blocks.pins.list(this.logger));
      const { car } = store.modules;
      const header = car.createWriter(new ArrayBuffer(car.headerLength({ roots })), { roots });
      yield car.close(header);
      const visited = new Set<string>();
      for (const root of roots) {
        for await (const { cid, bytes } of dagBlocks(root, this.walkOptions(store, 'read', call.signal, visited))) {
          if (bytes === undefined) continue;
          yield concat(varint(cid.bytes.byteLength + bytes.byteLength), cid.bytes);
          yield bytes;
        }
      }
    } catch (error) {
      if (call.signal.aborted) throw call.ended();
      throw error;
    } finally {
      call.done();
    }
  }

  /**
   * Deletes the blocks no pinned payload uses (those of unpinned payloads, of puts with `pin: false`). Waits for
   * puts and pins in progress and holds new ones back while it runs. Reads every pinned payload's dag-pb nodes; if
   * one fails its check, nothing is deleted.
   */
  async gc(options?: CallOptions): Promise<GcResult> {
    return this.scope.run('gc', options, async (signal) => {
      const store = await this.ready();
      const release = await this.gate.enterExclusive(signal);
      try {
        const keep = new Set<string>();
        for (const root of await store.blocks.pins.list(this.logger)) {
          for await (const _ of dagBlocks(root, this.walkOptions(store, 'skip', signal, keep))) void _;
        }
        let removedBlocks = 0;
        let keptBlocks = 0;
        for await (const cid of store.blocks.keys(signal)) {
          if (keep.has(blockKey(cid))) {
            keptBlocks += 1;
          } else {
            await store.blocks.delete(cid, signal);
            removedBlocks += 1;
          }
        }
        this.logger.info('offchain gc', { store: 'embedded', removedBlocks, keptBlocks });
        return { removedBlocks, keptBlocks };
      } finally {
        release();
      }
    });
  }

  /**
   * Makes everything `put`, `pin` and `unpin` wrote so far durable (`files` layout: fsync of the block and pin files
   * and their folders). Needed only with `durable: false` in the `files` layout, where it lets a caller pay for one
   * flush per group of puts instead of one per put; otherwise there is nothing to do.
   */
  async flush(options?: CallOptions): Promise<void> {
    await this.scope.run('flush', options, async () => {
      await (await this.ready()).blocks.flush();
    });
  }

  /** Ends calls in progress (`ClientClosedError`), waits for them to unwind and releases the data directory. Final. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.scope.close();
      await this.scope.settled();
      const store = await this.opened?.catch(() => undefined);
      if (store === undefined) return;
      await closeDataDirectory(store);
    })();
    return this.closed;
  }

  private ready(): Promise<DataDirectory> {
    if (this.opened === undefined) {
      const opening = openDataDirectory(this.dataDir, { layout: this.layout, durable: this.durable });
      this.opened = opening;
      // A failed open (a locked or unwritable directory) may succeed later: the next call tries again.
      opening.catch(() => {
        if (this.opened === opening) this.opened = undefined;
      });
    }
    return this.opened;
  }

  /**
   * A payload that is one raw block is stored as that block (and its pin), without the importer: same CID, a fraction
   * of the work. Undefined for any other payload.
   */
  private async putSingleBlock(
    store: DataDirectory,
    source: PayloadSource,
    cid: ResolvedCidOptions,
    pin: boolean,
    signal: AbortSignal,
  ): Promise<CID | undefined> {
    if (!(source instanceof Uint8Array)) return undefined;
    const root = await singleRawBlockCid(source, cid);
    if (root === undefined) return undefined;
    try {
      await store.blocks.putRoot(root, source, pin, signal);
    } catch (error) {
      if (signal.aborted || error instanceof TwinLedgerError) throw error;
      throw fsFailure('writing blocks', store.blocks.location, error);
    }
    return root;
  }

  /** Imports the payload's blocks and commits them (durable, or remembered for `flush()`); resolves with the root CID. */
  private async importPayload(
    store: DataDirectory,
    content: AsyncIterable<Uint8Array>,
    cid: ResolvedCidOptions,
    progress: SourceProgress,
    signal: AbortSignal,
  ): Promise<CID> {
    const written: CID[] = [];
    const target = {
      put: async (key: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> => {
        signal.throwIfAborted();
        await store.blocks.put(key, await blockBytes(bytes), signal);
        written.push(key);
        return key;
      },
    };
    let root: CID;
    try {
      const result = await store.modules.importFile({ content }, target, unixfsImportOptions(store.modules, cid, WRITE_CONCURRENCY));
      root = result.cid;
    } catch (error) {
      if (progress.failure !== undefined) throw progress.failure;
      if (signal.aborted) throw error;
      throw fsFailure('writing blocks', store.blocks.location, error);
    }
    await store.blocks.commit(written);
    return root;
  }

  private walkOptions(
    store: DataDirectory,
    leaves: DagBlocksOptions['leaves'],
    signal: AbortSignal,
    visited = new Set<string>(),
  ): DagBlocksOptions {
    return {
      fetch: blockFetcher(store),
      exists: (cid, abort) => store.blocks.has(cid, abort),
      store: 'embedded',
      leaves,
      signal,
      visited,
    };
  }
}

/** The importer hands over each block as one Uint8Array; the blockstore interface also allows chunks. */
async function blockBytes(bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  if (bytes instanceof Uint8Array) return bytes;
  const chunks: Uint8Array[] = [];
  for await (const chunk of bytes) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Unsigned LEB128, as CAR files frame their sections. */
function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  const out = new Uint8Array(first.byteLength + second.byteLength);
  out.set(first, 0);
  out.set(second, first.byteLength);
  return out;
}
