/**
 * Reading UnixFS file DAGs block by block, with every block checked against its CID before anything uses it: the
 * payload itself (`readPayload`), its size (`payloadSize`), and all its blocks (`walkDag`, for CAR export, pinning and
 * garbage collection). Both stores use it, each with its own way of fetching one block.
 *
 * ipfs-unixfs-exporter does the UnixFS decoding. It is loaded on first use, as the stores' other IPFS packages are,
 * so that importing `twinledger/offchain` (or the root) stays cheap.
 */
import type { CID } from 'multiformats/cid';
import type * as Exporter from 'ipfs-unixfs-exporter';
import type { UnixFSEntry } from 'ipfs-unixfs-exporter';
import { TwinLedgerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { blockKey, cidText, hashMatches, RAW_CODE } from './cid.js';
import { PayloadFormatError, PayloadIntegrityError, PayloadNotFoundError, PayloadSizeLimitError, type PayloadStoreKind } from './errors.js';

type ExporterModule = typeof Exporter;

let exporterModule: Promise<ExporterModule> | undefined;

export function loadExporter(): Promise<ExporterModule> {
  exporterModule ??= import('ipfs-unixfs-exporter');
  return exporterModule;
}

const IDENTITY_HASH = 0x00;
/** Blocks fetched ahead while a payload is read. */
const READ_CONCURRENCY = 8;

/** Fetches one block; resolves `undefined` when the store does not have it. */
export type FetchBlock = (cid: CID, signal: AbortSignal) => Promise<Uint8Array | undefined>;

/** Exporter errors that mean "the DAG is not a UnixFS file we can read" (the blocks themselves hashed fine). */
const FORMAT_ERRORS = new Set(['NotUnixFSError', 'NoResolverError', 'OverReadError', 'UnderReadError', 'InvalidParametersError']);

/**
 * A read-only block store for the exporter that checks each block against its CID: a block that does not match is a
 * `PayloadIntegrityError`, a missing root a `PayloadNotFoundError`, a missing descendant a `PayloadIntegrityError`.
 */
export class VerifiedBlocks {
  constructor(
    private readonly root: CID,
    private readonly fetch: FetchBlock,
    private readonly store: PayloadStoreKind,
    private readonly signal: AbortSignal,
  ) {}

  async read(cid: CID, signal: AbortSignal = this.signal): Promise<Uint8Array> {
    signal.throwIfAborted();
    if (cid.multihash.code === IDENTITY_HASH) return cid.multihash.digest;
    const bytes = await this.fetch(cid, signal);
    if (bytes === undefined) {
      if (blockKey(cid) === blockKey(this.root)) {
        throw new PayloadNotFoundError(cidText(this.root), this.store);
      }
      throw new PayloadIntegrityError(cidText(this.root), cidText(cid), 'missing-block', this.store);
    }
    if (!(await hashMatches(cid, bytes))) {
      throw new PayloadIntegrityError(cidText(this.root), cidText(cid), 'hash-mismatch', this.store);
    }
    return bytes;
  }

  /** The exporter's block store interface. */
  async *get(cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    yield await this.read(cid, options?.signal ?? this.signal);
  }
}

function formatError(root: CID, error: unknown, signal: AbortSignal): unknown {
  if (error instanceof TwinLedgerError || signal.aborted) return error;
  const name = error instanceof Error ? error.name : '';
  if (FORMAT_ERRORS.has(name) || !(error instanceof Error) || error.name === 'Error') {
    return new PayloadFormatError(cidText(root), error instanceof Error ? error.message : String(error));
  }
  return error;
}

async function rootEntry(root: CID, blocks: VerifiedBlocks, signal: AbortSignal): Promise<{ entry: UnixFSEntry; size: number }> {
  const { exporter } = await loadExporter();
  let entry: UnixFSEntry;
  try {
    entry = await exporter(root, blocks, { signal });
  } catch (error) {
    throw formatError(root, error, signal);
  }
  if (entry.type === 'directory') throw new PayloadFormatError(cidText(root), 'it is a UnixFS directory, not a file');
  if (entry.type === 'object') throw new PayloadFormatError(cidText(root), 'it is structured data, not a file');
  if (entry.type !== 'file' && entry.type !== 'raw' && entry.type !== 'identity') {
    throw new PayloadFormatError(cidText(root), 'unknown entry type');
  }
  return { entry, size: Number(entry.size) };
}

/** The payload's size in bytes, from its root block (checked). */
export async function payloadSize(root: CID, fetch: FetchBlock, store: PayloadStoreKind, signal: AbortSignal): Promise<number> {
  return (await rootEntry(root, new VerifiedBlocks(root, fetch, store, signal), signal)).size;
}

/**
 * The payload's bytes, every block checked. Refuses a payload over `maxBytes` after reading only its root block;
 * fills one buffer of the payload's size (no other copy is kept).
 */
export async function readPayload(
  root: CID,
  fetch: FetchBlock,
  store: PayloadStoreKind,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Uint8Array> {
  // Ends the exporter's read-ahead when this read stops early (an error, the size check, the caller's signal).
  const stop = new AbortController();
  const inner = AbortSignal.any([signal, stop.signal]);
  const blocks = new VerifiedBlocks(root, fetch, store, inner);
  try {
    const { entry, size } = await rootEntry(root, blocks, inner);
    if (size > maxBytes) throw new PayloadSizeLimitError(cidText(root), size, maxBytes);
    if (entry.type === 'object' || entry.type === 'directory') throw new PayloadFormatError(cidText(root), 'not a file');
    const out = new Uint8Array(size);
    let offset = 0;
    for await (const chunk of entry.content({ signal: inner, blockReadConcurrency: READ_CONCURRENCY })) {
      if (offset + chunk.byteLength > size)
        throw new PayloadFormatError(cidText(root), 'its blocks hold more bytes than its root declares');
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    if (offset !== size) throw new PayloadFormatError(cidText(root), `its blocks hold ${offset} bytes, its root declares ${size}`);
    return out;
  } catch (error) {
    throw formatError(root, error, inner);
  } finally {
    stop.abort();
  }
}

/** What `dagBlocks` does with a raw leaf: read (and check) it, only check that the store has it, or neither. */
export type LeafMode = 'read' | 'exists' | 'skip';

export interface DagBlocksOptions {
  fetch: FetchBlock;
  /** Whether the store has a block, for `leaves: 'exists'`. */
  exists: (cid: CID, signal: AbortSignal) => Promise<boolean>;
  store: PayloadStoreKind;
  leaves: LeafMode;
  signal: AbortSignal;
  /** Blocks seen so far (by `blockKey`); share the set between DAGs to yield each block once. */
  visited: Set<string>;
}

export interface DagBlock {
  cid: CID;
  /** Undefined for raw leaves that were not read (`leaves` other than `'read'`). */
  bytes: Uint8Array | undefined;
}

/**
 * Every block of the DAG under `root`, each once, root first (depth first, in link order, as `ipfs dag export`).
 * dag-pb nodes are always read and checked: they hold the links.
 */
export async function* dagBlocks(root: CID, options: DagBlocksOptions): AsyncGenerator<DagBlock> {
  const { exporter } = await loadExporter();
  const blocks = new VerifiedBlocks(root, options.fetch, options.store, options.signal);
  const stack: CID[] = [root];
  for (let cid = stack.pop(); cid !== undefined; cid = stack.pop()) {
    const key = blockKey(cid);
    if (options.visited.has(key)) continue;
    options.signal.throwIfAborted();
    if (cid.code === RAW_CODE && options.leaves !== 'read' && cid !== root) {
      if (options.leaves === 'exists' && cid.multihash.code !== IDENTITY_HASH && !(await options.exists(cid, options.signal))) {
        throw new PayloadIntegrityError(cidText(root), cidText(cid), 'missing-block', options.store);
      }
      options.visited.add(key);
      yield { cid, bytes: undefined };
      continue;
    }
    const bytes = await blocks.read(cid);
    options.visited.add(key);
    yield { cid, bytes };
    if (cid.code === RAW_CODE) continue;
    let entry: UnixFSEntry;
    try {
      entry = await exporter(cid, { get: oneBlock(bytes) }, { signal: options.signal });
    } catch (error) {
      throw formatError(root, error, options.signal);
    }
    if (entry.type === 'file' || entry.type === 'directory') {
      for (const link of [...entry.node.Links].reverse()) stack.push(link.Hash);
    }
  }
}

function oneBlock(bytes: Uint8Array): () => Generator<Uint8Array> {
  return function* () {
    yield bytes;
  };
}

/** `readPayload`, with a warning in the store's log when a block fails its check (the store was changed or damaged). */
export async function readCheckedPayload(
  root: CID,
  fetch: FetchBlock,
  store: PayloadStoreKind,
  maxBytes: number,
  signal: AbortSignal,
  logger: Logger,
): Promise<Uint8Array> {
  try {
    return await readPayload(root, fetch, store, maxBytes, signal);
  } catch (error) {
    if (error instanceof PayloadIntegrityError) {
      logger.warn('offchain integrity check failed', { store, cid: error.cid, block: error.block, problem: error.problem });
    }
    throw error;
  }
}
