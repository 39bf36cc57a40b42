/**
 * The data directory of an `EmbeddedStore`: opening and locking it, and its format file.
 *
 * Layout of the data directory (in `twinledger-offchain.json`: `{ format, version: 1 }` for the `files` layout,
 * `{ format, version: 2, layout: 'lmdb' }` for the `lmdb` layout):
 * - `files`: `blocks/` and `pins/` (see file-blocks.ts);
 * - `lmdb`: `blocks.mdb`, blocks and pins in one LMDB environment (see lmdb-blocks.ts);
 * - `repo.lock` — held by the process that has the store open.
 */
import { mkdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from '../core/files.js';
import { type LockFile, acquireLockFile } from '../core/lock-file.js';
import { type BlockLayout, type BlockStorage, BLOCK_LAYOUTS, fsFailure, unavailable } from './block-storage.js';
import type { FetchBlock } from './dag.js';
import { openFileBlocks } from './file-blocks.js';
import { LMDB_BLOCKS_FILE, openLmdbBlocks } from './lmdb-blocks.js';
import { type LoadedEmbeddedModules, loadEmbeddedModules } from './modules.js';

export { fsFailure, unavailable } from './block-storage.js';

const FORMAT_FILE = 'twinledger-offchain.json';
const FORMAT = { format: 'twinledger-offchain', version: 1 } as const;

/** Data directories open in this process (the lock file cannot tell two stores of one process apart). */
const openDirectories = new Set<string>();

/** An open data directory: its blocks and pins, and its lock. */
export interface DataDirectory {
  modules: LoadedEmbeddedModules;
  blocks: BlockStorage;
  lock: LockFile;
  key: string;
}

export interface OpenDataDirectoryOptions {
  /** The layout asked for: a new directory gets it (default `files`), an existing one must have it. */
  layout: BlockLayout | undefined;
  /** Blocks and pins on disk before put/pin/unpin return (the `files` layout; `lmdb` always is). */
  durable: boolean;
}

/** Opens (creates, locks, checks) a data directory. */
export async function openDataDirectory(dir: string, options: OpenDataDirectoryOptions): Promise<DataDirectory> {
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
    const layout = await checkFormat(dir, options.layout);
    const modules = await loadEmbeddedModules();
    const blocks =
      layout === 'lmdb'
        ? await openLmdbBlocks(join(dir, LMDB_BLOCKS_FILE), options.durable)
        : await openFileBlocks(dir, modules, options.durable);
    return { modules, blocks, lock, key };
  } catch (error) {
    openDirectories.delete(key);
    await lock?.release();
    throw fsFailure('opening the data directory', dir, error);
  }
}

/** Closes the block storage and releases the lock and the directory. */
export async function closeDataDirectory(store: DataDirectory): Promise<void> {
  try {
    await store.blocks.close();
    await store.lock.release();
  } finally {
    openDirectories.delete(store.key);
  }
}

/** Checks (or writes, for a new directory) the format file; returns the directory's layout. */
async function checkFormat(dir: string, wanted: BlockLayout | undefined): Promise<BlockLayout> {
  const file = join(dir, FORMAT_FILE);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) {
    const layout = wanted ?? 'files';
    // The lmdb layout is format version 2, so that a TwinLedger that knows only files refuses it instead of finding it empty.
    await replaceFile(file, `${JSON.stringify(layout === 'files' ? FORMAT : { ...FORMAT, version: 2, layout })}\n`);
    return layout;
  }
  let found: unknown;
  try {
    found = JSON.parse(text);
  } catch {
    found = undefined;
  }
  const { format, version, layout = 'files' } = (found ?? {}) as { format?: unknown; version?: unknown; layout?: unknown };
  const known = (version === 1 && layout === 'files') || (version === 2 && layout === 'lmdb');
  if (format !== FORMAT.format || !known || !BLOCK_LAYOUTS.includes(layout as BlockLayout)) {
    throw unavailable(
      `${file} does not describe a data directory of this version (format ${FORMAT.format} 1 with files, 2 with lmdb)`,
      'Use the TwinLedger version that wrote this directory, or another dataDir.',
    );
  }
  if (wanted !== undefined && wanted !== layout) {
    throw unavailable(
      `${dir} has the '${String(layout)}' block layout, not '${wanted}'`,
      `Open it with layout: '${String(layout)}' (or without layout), or give the '${wanted}' layout a new dataDir.`,
    );
  }
  return layout as BlockLayout;
}

/** The stored bytes of a block, unchecked (readPayload and VerifiedBlocks check them). */
export function blockFetcher(store: DataDirectory): FetchBlock {
  return (cid, signal) => store.blocks.read(cid, signal);
}
