/** Durable file writes: what a crash may and may not undo. Shared by every module that keeps state in a folder. */
import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface ReplaceFileOptions {
  /**
   * fsync the file before the rename and, unless `syncFolder` is false, the folder after it: a crash or power loss
   * then keeps the new version. Default true. With false the replacement is still atomic (old or new, never a part),
   * but the old version may come back after a crash.
   */
  durable?: boolean;
  /** With `durable`: fsync the folder after the rename, without which a crash may undo the rename. Default true. */
  syncFolder?: boolean;
}

/** Replaces `path` with `text` so that it is always either the old or the new version: temporary file, rename. */
export async function replaceFile(path: string, text: string, options: ReplaceFileOptions = {}): Promise<void> {
  const durable = options.durable !== false;
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  if (durable) {
    const file = await open(temp, 'w');
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
  } else {
    await writeFile(temp, text, 'utf8');
  }
  await rename(temp, path);
  if (durable && options.syncFolder !== false) await syncFolder(dirname(path));
}

/** fsync of a folder: makes the creation, removal and renaming of its entries durable. */
export async function syncFolder(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Flushes a file that was written (by someone else, e.g. a library) to the disk. */
export async function syncFile(path: string): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
}
