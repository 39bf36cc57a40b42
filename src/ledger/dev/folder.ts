import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { type RootDatabase, open } from 'lmdb';
import { type LockFile, acquireLockFile } from '../../core/lock-file.js';
import type { Logger } from '../../core/logger.js';
import { BlockLog, type ChannelConfig, FORMAT, type StoredBlock, ZERO_HASH, buildBlock } from './block-log.js';
import { DevLedgerError, LedgerLockedError, LedgerTamperedError } from './errors.js';
import { PrivateStore } from './private-store.js';
import { StateStore } from './state-store.js';
import { type DevLedgerVerification, verifyLedger } from './verify.js';

/**
 * The dev ledger's folder:
 *
 *   ledger.mdb       LMDB: the block log, world state, key history, transaction index (one transaction per block)
 *   private.mdb      LMDB: private data and the undo record of the last block with private writes (private-store.ts)
 *   devledger.lock   the writer's lock file (`<pid>\n<token>\n`)
 *
 * Opening takes the lock, creates block 0 in a new folder, undoes the private writes of a block a crash kept out of
 * the log, and verifies the whole folder (verify.ts) before anything else runs.
 */

const LEDGER_FILE = 'ledger.mdb';
const PRIVATE_FILE = 'private.mdb';

export interface OpenedFolder {
  directory: string;
  lock: LockFile;
  root: RootDatabase;
  log: BlockLog;
  store: StateStore;
  privateStore: PrivateStore;
  config: ChannelConfig;
  last: StoredBlock;
  verification: DevLedgerVerification;
}

const openBlockLog = (root: RootDatabase) =>
  new BlockLog(root.openDB<Buffer, number>('blocks', { encoding: 'binary', keyEncoding: 'uint32' }));

/** Takes the folder (`directory`, resolved) for writing, creating a ledger of `channel` / `chaincode` in an empty one. */
export async function openFolder(
  directory: string,
  options: { channel: string; chaincode: string; logger: Logger },
): Promise<OpenedFolder> {
  let lock: LockFile | undefined;
  let root: RootDatabase | undefined;
  let privateStore: PrivateStore | undefined;
  try {
    lock = await acquireLockFile(join(directory, 'devledger.lock'), {
      held: (pid) => new LedgerLockedError(directory, pid),
      starting: (pid) => new LedgerLockedError(directory, pid, 'it is opening the ledger right now'),
      interrupted: (path, marker) =>
        new LedgerLockedError(
          directory,
          undefined,
          `a takeover of the stale lock ${path} was interrupted; if no DevLedger runs, delete ${marker}`,
        ),
      busy: (path) => new LedgerLockedError(directory, undefined, `${path} keeps changing`),
    });
    // overlappingSync off: a commit's promise resolves once the transaction is on disk (fsync), which is when a
    // transaction counts as committed here.
    root = open({ path: join(directory, LEDGER_FILE), overlappingSync: false, noSync: false, maxDbs: 8 });
    privateStore = PrivateStore.open(join(directory, PRIVATE_FILE), directory);
    const log = openBlockLog(root);
    const store = new StateStore(root, directory);
    if (log.isEmpty()) {
      if (store.state.getCount() > 0 || store.transactions.getCount() > 0 || !privateStore.isEmpty()) {
        throw new LedgerTamperedError(directory, 'the block log is empty but the state is not', { blockNumber: 0n });
      }
      const config: ChannelConfig = {
        format: FORMAT,
        channel: options.channel,
        chaincode: options.chaincode,
        createdAt: new Date().toISOString(),
      };
      const genesis = buildBlock(0, ZERO_HASH, [], [], config);
      await root.transaction(() => log.put(0, genesis.bytes));
    }
    // A crash between the two commits of a block left private writes of a block that is not in the log: undo them.
    const restored = await privateStore.rollBack(log.height());
    if (restored > 0) {
      options.logger.warn('dev ledger: undid the private writes of a block that was never committed', {
        directory,
        block: log.height(),
        rows: restored,
      });
    }
    const verified = verifyLedger(directory, log, store, privateStore);
    return {
      directory,
      lock,
      root,
      log,
      store,
      privateStore,
      config: verified.config,
      last: verified.last,
      verification: verified.summary,
    };
  } catch (error) {
    await privateStore?.close().catch(() => undefined);
    await root?.close().catch(() => undefined);
    await lock?.release().catch(() => undefined);
    throw error;
  }
}

/** Closes the stores and releases the lock. */
export async function closeFolder(folder: Pick<OpenedFolder, 'privateStore' | 'root' | 'lock'>): Promise<void> {
  try {
    await folder.privateStore.close();
    await folder.root.close();
  } finally {
    await folder.lock.release();
  }
}

/** Verifies the folder read-only (LMDB readers do not disturb a writer in another process). */
export async function verifyFolder(directory: string): Promise<DevLedgerVerification> {
  if (!existsSync(join(directory, PRIVATE_FILE))) {
    throw new LedgerTamperedError(directory, `${PRIVATE_FILE} (the private data) is missing`);
  }
  const root = open({ path: join(directory, LEDGER_FILE), readOnly: true, maxDbs: 8 });
  try {
    const privateStore = PrivateStore.open(join(directory, PRIVATE_FILE), directory, true);
    try {
      // Synchronous, the log and state read first, then the private data: private rows a writer committed meanwhile
      // belong to a block after the log read, and are read as the rows they replaced.
      return verifyLedger(directory, openBlockLog(root), new StateStore(root, directory), privateStore).summary;
    } finally {
      await privateStore.close();
    }
  } finally {
    await root.close();
  }
}

/** Creates `path` when missing and resolves it (symbolic links included): one name per folder. */
export function resolveFolder(path: string): string {
  mkdirSync(path, { recursive: true });
  return realpathSync(path);
}

/** Resolves an existing ledger folder for `DevLedger.verify`. */
export function existingFolder(path: string): string {
  if (!existsSync(join(path, LEDGER_FILE))) {
    throw new DevLedgerError(`there is no dev ledger in ${path}`, { code: 'ledger.dev.missing', hint: 'DevLedger.open() creates one.' });
  }
  return realpathSync(path);
}
