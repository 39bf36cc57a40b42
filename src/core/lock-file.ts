/**
 * Lock files: one process per folder (a relay's state, a dev ledger, an embedded store). The lock holds the owner's
 * pid, so a lock left behind by a process that is gone is recognised as stale and taken over.
 */
import { createHash, randomUUID } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { replaceFile, syncFolder } from './files.js';

export interface LockFileOptions {
  /** Written into the lock; default `process.pid`. */
  pid?: number;
  /** Whether a process runs; default `process.kill(pid, 0)`. */
  isAlive?: (pid: number) => boolean;
}

export interface LockFile {
  readonly path: string;
  /** Removes the lock file if it is still this lock. */
  release(): Promise<void>;
}

export interface LockFileErrors {
  /** A live process `pid` holds the lock. */
  held(pid: number): Error;
  /** A live process `pid` is taking over a stale lock right now. */
  starting(pid: number): Error;
  /** A takeover marker was left behind by a process that died in the middle of a takeover. */
  interrupted(path: string, marker: string): Error;
  /** The lock file kept changing under us. */
  busy(path: string): Error;
}

/**
 * Takes the lock file `path`: a file holding `<pid>\n<token>\n`, created whole or not at all (written to a
 * temporary file, then hard-linked to the lock name, which fails if the lock exists). A lock whose pid is
 * dead, or is the caller's own pid (a container restarted with the same pid; the caller keeps users of one
 * process apart itself), is stale. Replacing a stale lock is reserved to whoever creates
 * `<path>.takeover-<hash of that lock>` exclusively, and the holder replaces the lock only if it is still
 * that stale lock, with an atomic rename: of several processes starting together exactly one takes it over; the
 * others find the winner's live lock.
 */
export async function acquireLockFile(path: string, options: LockFileOptions & LockFileErrors): Promise<LockFile> {
  const pid = options.pid ?? process.pid;
  const alive = options.isAlive ?? isAlive;
  const content = `${pid}\n${randomUUID()}\n`;
  const held: LockFile = {
    path,
    release: async () => {
      const current = await readFile(path, 'utf8').catch(() => undefined);
      if (current === content) await rm(path, { force: true });
    },
  };
  const live = (other: number) => Number.isInteger(other) && other > 0 && other !== pid && alive(other);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (await createExclusive(path, content)) return held;
    const stale = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (stale === undefined) continue; // released meanwhile: try again
    const owner = Number(stale.split('\n')[0]?.trim());
    if (live(owner)) throw options.held(owner);
    // Left behind by a process that is gone: only the holder of this lock's takeover marker may replace it.
    const marker = `${path}.takeover-${createHash('sha256').update(stale).digest('hex').slice(0, 16)}`;
    if (!(await createExclusive(marker, `${pid}\n`))) {
      const claim = await readFile(marker, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (claim === undefined) continue; // that takeover just finished: look at the lock again
      const holder = Number(claim.trim());
      if (live(holder)) throw options.starting(holder);
      throw options.interrupted(path, marker);
    }
    try {
      // Nobody else may replace this stale lock now; it is still there unless a takeover finished before ours began.
      if ((await readFile(path, 'utf8').catch(() => undefined)) !== stale) continue;
      await replaceFile(path, content);
      return held;
    } finally {
      await rm(marker, { force: true });
    }
  }
  throw options.busy(path);
}

/** Creates `path` with `content`, whole or not at all; false when it exists. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${randomUUID()}.tmp`;
  await writeFile(temp, content, { flush: true });
  try {
    await link(temp, path);
    await syncFolder(dirname(path));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

/** Whether a process with this ID exists (signal 0: nothing is sent; EPERM means it exists under another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
