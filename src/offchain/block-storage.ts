/**
 * Where an `EmbeddedStore` keeps its blocks and pins: one file each (`files`, blockstore-fs) or one LMDB environment
 * (`lmdb`). Internal; the store above it knows no file paths.
 */
import type { CID } from 'multiformats/cid';
import { TwinLedgerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { StoreUnavailableError } from './errors.js';

/** How an `EmbeddedStore` lays out its blocks: `files` (one file per block) or `lmdb` (one LMDB environment). */
export type BlockLayout = 'files' | 'lmdb';

export const BLOCK_LAYOUTS: readonly BlockLayout[] = ['files', 'lmdb'];

export interface BlockStorage {
  readonly layout: BlockLayout;
  /** What error messages name (a folder or a file). */
  readonly location: string;
  /** Stores a block under its multihash: on disk once `commit()` of its put (durable storage) or `flush()` returns. */
  put(cid: CID, bytes: Uint8Array, signal: AbortSignal): Promise<void>;
  /** The stored bytes as they are (unchecked), or undefined when there is no such block. */
  read(cid: CID, signal: AbortSignal): Promise<Uint8Array | undefined>;
  has(cid: CID, signal: AbortSignal): Promise<boolean>;
  delete(cid: CID, signal: AbortSignal): Promise<void>;
  /** Every stored block, as a CID with its multihash (codec and version are not kept). */
  keys(signal: AbortSignal): AsyncIterable<CID>;
  /**
   * Stores a payload that is a single block, with its pin when `pin`: committed like a put's blocks (durable storage:
   * on disk when it resolves); a crash never leaves the pin without the block.
   */
  putRoot(cid: CID, bytes: Uint8Array, pin: boolean, signal: AbortSignal): Promise<void>;
  /** After a put's blocks are all `put()`: makes them durable (durable storage) or remembers them for `flush()`. */
  commit(written: CID[]): Promise<void>;
  /** Makes everything written so far durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
  pins: PinStorage;
}

export interface PinStorage {
  write(root: CID): Promise<void>;
  /** Idempotent. */
  remove(root: CID): Promise<void>;
  has(root: CID): Promise<boolean>;
  list(logger: Logger): Promise<CID[]>;
}

export function unavailable(detail: string, hint: string, cause?: unknown): StoreUnavailableError {
  return new StoreUnavailableError('embedded', detail, hint, cause);
}

/** A file-system (or LMDB) failure as the store's error (typed errors pass through). */
export function fsFailure(what: string, dir: string, error: unknown): Error {
  if (error instanceof TwinLedgerError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? /\b(E[A-Z]+)\b/.exec(text)?.[1];
  const hint =
    code === 'ENOSPC' || text.includes('MDB_MAP_FULL')
      ? 'The disk is full: free space (or run gc() to remove unpinned payloads).'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? `This process may not write ${dir}: fix its permissions or choose another dataDir.`
        : `Check that ${dir} is on a working, writable disk.`;
  return unavailable(`${what} failed (${code ?? text})`, hint, error);
}
