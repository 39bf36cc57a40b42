/** The anchorer's data directory: one anchorer per directory. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TwinLedgerError } from '../core/errors.js';
import { type LockFile, acquireLockFile } from '../core/lock-file.js';

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
