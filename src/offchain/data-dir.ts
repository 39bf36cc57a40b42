/**
 * The data directory of an `EmbeddedStore`: opening and locking it, its format file, block flushes and pins.
 *
 * Layout of the data directory (format 1, in `twinledger-offchain.json`):
 * - `blocks/` — the blocks, as blockstore-fs writes them (`<last 2 chars>/<BASE32 multihash>.data`);
 * - `pins/`   — one file per pinned CID (name: the CID's bytes in base32, content: the CID text);
 * - `repo.lock` — held by the process that has the store open.
 */
import { mkdir, readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { base32 } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import { TwinLedgerError } from '../core/errors.js';
import { replaceFile, syncFile, syncFolder } from '../core/files.js';
import { type LockFile, acquireLockFile } from '../core/lock-file.js';
import type { Logger } from '../core/logger.js';
import { cidText } from './cid.js';
import type { FetchBlock } from './dag.js';
import { StoreUnavailableError } from './errors.js';
import { type LoadedEmbeddedModules, loadEmbeddedModules } from './modules.js';

const FORMAT_FILE = 'twinledger-offchain.json';
const FORMAT = { format: 'twinledger-offchain', version: 1 } as const;
/** Blocks flushed in parallel. */
const FLUSH_CONCURRENCY = 16;

/** Data directories open in this process (the lock file cannot tell two stores of one process apart). */
const openDirectories = new Set<string>();

/** An open data directory: its block store, folders and lock. */
export interface DataDirectory {
  modules: LoadedEmbeddedModules;
  blocks: InstanceType<LoadedEmbeddedModules['FsBlockstore']>;
  sharding: InstanceType<LoadedEmbeddedModules['NextToLast']>;
  blocksDir: string;
  pinsDir: string;
  lock: LockFile;
  key: string;
}

export function unavailable(detail: string, hint: string, cause?: unknown): StoreUnavailableError {
  return new StoreUnavailableError('embedded', detail, hint, cause);
}

/** A file-system failure as the store's error (typed errors pass through). */
export function fsFailure(what: string, dir: string, error: unknown): Error {
  if (error instanceof TwinLedgerError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? /\b(E[A-Z]+)\b/.exec(text)?.[1];
  const hint =
    code === 'ENOSPC'
      ? 'The disk is full: free space (or run gc() to remove unpinned payloads).'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? `This process may not write ${dir}: fix its permissions or choose another dataDir.`
        : `Check that ${dir} is on a working, writable disk.`;
  return unavailable(`${what} failed (${code ?? text})`, hint, error);
}

/** Opens (creates, locks, checks) a data directory. */
export async function openDataDirectory(dir: string): Promise<DataDirectory> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw fsFailure('creating the data directory', dir, error);
  }
  const key = await realpath(dir);
  if (openDirectories.has(key)) {
    throw unavailable(
      `${dir} is already open in this process`,
      'Share one EmbeddedStore per data directory, or close() the other one first.',
    );
  }
  openDirectories.add(key);
  let lock: LockFile | undefined;
  try {
    const oneProcess = 'Only one process may use a data directory at a time: stop the other one, or choose another dataDir.';
    lock = await acquireLockFile(join(dir, 'repo.lock'), {
      held: (pid) => unavailable(`process ${pid} has ${dir} open`, oneProcess),
      starting: (pid) => unavailable(`process ${pid} is opening ${dir}`, oneProcess),
      interrupted: (path, marker) =>
        unavailable(
          `a takeover of the stale lock ${path} was interrupted (${marker} is left behind)`,
          `If no process uses ${dir}, delete ${path} and ${marker}, then open the store again.`,
        ),
      busy: (path) => unavailable(`could not lock ${path}: it keeps changing`, oneProcess),
    }).catch((error: unknown) => {
      throw fsFailure('locking the data directory', dir, error);
    });
    await checkFormat(dir);
    const blocksDir = join(dir, 'blocks');
    const pinsDir = join(dir, 'pins');
    await mkdir(blocksDir, { recursive: true });
    await mkdir(pinsDir, { recursive: true });
    const modules = await loadEmbeddedModules();
    const sharding = new modules.NextToLast();
    const blocks = new modules.FsBlockstore(blocksDir, { shardingStrategy: sharding, createIfMissing: true });
    await blocks.open();
    return { modules, blocks, sharding, blocksDir, pinsDir, lock, key };
  } catch (error) {
    openDirectories.delete(key);
    await lock?.release();
    throw fsFailure('opening the data directory', dir, error);
  }
}

/** Closes the block store and releases the lock and the directory. */
export async function closeDataDirectory(store: DataDirectory): Promise<void> {
  try {
    await store.blocks.close();
    await store.lock.release();
  } finally {
    openDirectories.delete(store.key);
  }
}

async function checkFormat(dir: string): Promise<void> {
  const file = join(dir, FORMAT_FILE);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) {
    await replaceFile(file, `${JSON.stringify(FORMAT)}\n`);
    return;
  }
  let found: unknown;
  try {
    found = JSON.parse(text);
  } catch {
    found = undefined;
  }
  const { format, version } = (found ?? {}) as { format?: unknown; version?: unknown };
  if (format !== FORMAT.format || version !== FORMAT.version) {
    throw unavailable(
      `${file} does not describe a data directory of this version (format ${FORMAT.format} ${FORMAT.version})`,
      'Use the TwinLedger version that wrote this directory, or another dataDir.',
    );
  }
}

/** fsync of the block files `written` and of their folders. */
export async function flushBlocks(store: DataDirectory, written: CID[]): Promise<void> {
  const folders = new Set<string>();
  const files = written.map((cid) => {
    const { dir, file } = store.sharding.encode(cid);
    folders.add(join(store.blocksDir, dir));
    return join(store.blocksDir, dir, file);
  });
  try {
    for (let start = 0; start < files.length; start += FLUSH_CONCURRENCY) {
      await Promise.all(files.slice(start, start + FLUSH_CONCURRENCY).map(syncFile));
    }
    for (const folder of folders) await syncFolder(folder);
    await syncFolder(store.blocksDir);
  } catch (error) {
    throw fsFailure('flushing blocks', store.blocksDir, error);
  }
}

export function pinFile(store: DataDirectory, cid: CID): string {
  return join(store.pinsDir, base32.encode(cid.bytes));
}

export async function writePin(store: DataDirectory, root: CID, durable: boolean): Promise<void> {
  try {
    await replaceFile(pinFile(store, root), `${cidText(root)}\n`, { durable });
  } catch (error) {
    throw fsFailure('writing a pin', store.pinsDir, error);
  }
}

export async function pinnedRoots(store: DataDirectory, logger: Logger): Promise<CID[]> {
  const names = await readdir(store.pinsDir).catch((error: unknown) => {
    throw fsFailure('listing pins', store.pinsDir, error);
  });
  const roots: CID[] = [];
  for (const name of names) {
    if (!/^b[a-z2-7]+$/.test(name)) continue; // temporary files of a pin being written
    try {
      roots.push(CID.decode(base32.decode(name)));
    } catch {
      logger.warn('offchain: ignoring a file in pins/ that names no CID', { file: join(store.pinsDir, name) });
    }
  }
  return roots;
}

/**
 * Reads a block file directly (by blockstore-fs's layout): blockstore-fs reports every read failure as "not
 * found", and a permission or disk error must not look like a missing payload.
 */
export function blockFetcher(store: DataDirectory): FetchBlock {
  return async (cid, signal) => {
    const { dir, file } = store.sharding.encode(cid);
    const path = join(store.blocksDir, dir, file);
    try {
      return await readFile(path, { signal });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (signal.aborted) throw error;
      throw fsFailure('reading a block', store.blocksDir, error);
    }
  };
}
