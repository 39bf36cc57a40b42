/**
 * The `files` block layout: `blocks/` as blockstore-fs writes it (`<next-to-last 2 chars>/<BASE32 multihash>.data`)
 * and `pins/` with one file per pinned CID (name: the CID's bytes in base32, content: the CID text). A durable put
 * pays an fsync per block file, its folders and the pin file.
 */
import { access, mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { base32 } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import { replaceFile, syncFile, syncFolder } from '../core/files.js';
import type { Logger } from '../core/logger.js';
import { type BlockStorage, type PinStorage, fsFailure } from './block-storage.js';
import { cidText } from './cid.js';
import type { LoadedEmbeddedModules } from './modules.js';

/** Blocks flushed in parallel. */
const FLUSH_CONCURRENCY = 16;

export async function openFileBlocks(dir: string, modules: LoadedEmbeddedModules, durable: boolean): Promise<BlockStorage> {
  const blocksDir = join(dir, 'blocks');
  const pinsDir = join(dir, 'pins');
  await mkdir(blocksDir, { recursive: true });
  await mkdir(pinsDir, { recursive: true });
  const sharding = new modules.NextToLast();
  const blocks = new modules.FsBlockstore(blocksDir, { shardingStrategy: sharding, createIfMissing: true });
  await blocks.open();
  /** With `durable: false`: what was written since the last `flush()`. */
  let unflushed = { blocks: [] as CID[], pins: new Set<string>(), pinsFolder: false };

  const blockFile = (cid: CID) => {
    const { dir: folder, file } = sharding.encode(cid);
    return { folder: join(blocksDir, folder), path: join(blocksDir, folder, file) };
  };
  const pinFile = (cid: CID) => join(pinsDir, base32.encode(cid.bytes));

  /** fsync of the block files `written` and of their folders. */
  const flushBlocks = async (written: CID[]) => {
    const folders = new Set<string>();
    const files = written.map((cid) => {
      const { folder, path } = blockFile(cid);
      folders.add(folder);
      return path;
    });
    try {
      for (let start = 0; start < files.length; start += FLUSH_CONCURRENCY) {
        await Promise.all(files.slice(start, start + FLUSH_CONCURRENCY).map(syncFile));
      }
      for (const folder of folders) await syncFolder(folder);
      await syncFolder(blocksDir);
    } catch (error) {
      throw fsFailure('flushing blocks', blocksDir, error);
    }
  };

  const pins: PinStorage = {
    async write(root) {
      const file = pinFile(root);
      try {
        await replaceFile(file, `${cidText(root)}\n`, { durable });
      } catch (error) {
        throw fsFailure('writing a pin', pinsDir, error);
      }
      if (!durable) unflushed.pins.add(file);
    },
    async remove(root) {
      try {
        await unlink(pinFile(root));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw fsFailure('removing a pin', pinsDir, error);
      }
      if (durable) await syncFolder(pinsDir);
      else unflushed.pinsFolder = true;
    },
    has: (root) =>
      access(pinFile(root)).then(
        () => true,
        () => false,
      ),
    async list(logger: Logger) {
      const names = await readdir(pinsDir).catch((error: unknown) => {
        throw fsFailure('listing pins', pinsDir, error);
      });
      const roots: CID[] = [];
      for (const name of names) {
        if (!/^b[a-z2-7]+$/.test(name)) continue; // temporary files of a pin being written
        try {
          roots.push(CID.decode(base32.decode(name)));
        } catch {
          logger.warn('offchain: ignoring a file in pins/ that names no CID', { file: join(pinsDir, name) });
        }
      }
      return roots;
    },
  };

  const commit = async (written: CID[]): Promise<void> => {
    if (durable) await flushBlocks(written);
    else unflushed.blocks.push(...written);
  };

  return {
    layout: 'files',
    location: blocksDir,
    async put(cid, bytes, signal) {
      await blocks.put(cid, bytes, { signal });
    },
    async putRoot(cid, bytes, pin, signal) {
      await blocks.put(cid, bytes, { signal });
      await commit([cid]);
      if (pin) await pins.write(cid);
    },
    /**
     * Reads a block file directly (by blockstore-fs's layout): blockstore-fs reports every read failure as "not
     * found", and a permission or disk error must not look like a missing payload.
     */
    async read(cid, signal) {
      try {
        return await readFile(blockFile(cid).path, { signal });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        if (signal.aborted) throw error;
        throw fsFailure('reading a block', blocksDir, error);
      }
    },
    has: (cid, signal) => blocks.has(cid, { signal }),
    async delete(cid, signal) {
      await blocks.delete(cid, { signal });
    },
    async *keys(signal) {
      for await (const { cid } of blocks.getAll({ signal })) yield cid;
    },
    commit,
    async flush() {
      const pending = unflushed;
      unflushed = { blocks: [], pins: new Set(), pinsFolder: false };
      try {
        await flushBlocks(pending.blocks);
        for (const pin of pending.pins) {
          await syncFile(pin).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') throw fsFailure('flushing pins', pinsDir, error);
          });
        }
        if (pending.pins.size > 0 || pending.pinsFolder) await syncFolder(pinsDir);
      } catch (error) {
        // Nothing was lost from the list: the next flush() tries again.
        unflushed.blocks.unshift(...pending.blocks);
        for (const pin of pending.pins) unflushed.pins.add(pin);
        unflushed.pinsFolder ||= pending.pinsFolder;
        throw error;
      }
    },
    close: () => blocks.close(),
    pins,
  };
}
