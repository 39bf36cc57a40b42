/** The anchorer's data directory: one anchorer per directory, and the defaults it opens there. */
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TwinLedgerError } from '../core/errors.js';
import { type LockFile, acquireLockFile } from '../core/lock-file.js';
import type { Logger } from '../core/logger.js';
import type { Ledger } from '../ledger/types.js';
import type { PayloadStore } from '../offchain/types.js';

/** Data directories open in this process (the lock file tells processes apart, not anchorers of one process). */
const openDirectories = new Set<string>();

/** Creates the directory and takes its lock (`anchorer.lock`), or says who holds it. */
export async function lockDataDir(dataDir: string): Promise<LockFile> {
  await mkdir(dataDir, { recursive: true });
  const errors = lockErrors(dataDir);
  if (openDirectories.has(dataDir)) throw errors.held(process.pid);
  openDirectories.add(dataDir);
  try {
    return await acquireLockFile(join(dataDir, 'anchorer.lock'), errors);
  } catch (error) {
    openDirectories.delete(dataDir);
    throw error;
  }
}

export async function unlockDataDir(dataDir: string, lock: LockFile): Promise<void> {
  try {
    await lock.release();
  } finally {
    openDirectories.delete(dataDir);
  }
}

function lockErrors(dataDir: string) {
  const oneProcess = 'One Anchorer per data directory: stop the other process, or give this one another dataDir.';
  const locked = (detail: string, hint = oneProcess) => new TwinLedgerError(detail, { code: 'anchor.locked', hint });
  return {
    held: (pid: number) =>
      locked(
        pid === process.pid ? `this process has an anchorer in ${dataDir} open` : `process ${pid} has the anchorer in ${dataDir} open`,
      ),
    starting: (pid: number) => locked(`process ${pid} is opening the anchorer in ${dataDir}`),
    interrupted: (path: string, marker: string) =>
      locked(`a takeover of the stale lock ${path} was interrupted`, `If no process uses ${dataDir}, delete ${path} and ${marker}.`),
    busy: (path: string) => locked(`could not lock ${path}: it keeps changing`),
  };
}

export async function openDevLedger(directory: string, logger: Logger): Promise<Ledger> {
  const { DevLedger } = await import('../ledger/dev/index.js');
  return DevLedger.open({ directory, logger });
}

export async function openEmbeddedStore(dataDir: string, logger: Logger): Promise<PayloadStore> {
  const { EmbeddedStore } = await import('../offchain/embedded.js');
  // A new store gets the lmdb layout (durable per put at little cost: the puts of an upload round share one commit);
  // one written before keeps the layout it has.
  const existing = await access(join(dataDir, 'twinledger-offchain.json')).then(
    () => true,
    () => false,
  );
  const store = new EmbeddedStore({ dataDir, logger, ...(existing ? {} : { layout: 'lmdb' as const }) });
  await store.open();
  return store;
}
