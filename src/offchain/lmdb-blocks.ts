/**
 * The `lmdb` block layout: every block in one LMDB environment (`blocks.mdb`), keyed by its multihash bytes (one
 * block for CIDv0 and CIDv1 of the same bytes), and the pins in a second database of it (key: the CID's bytes,
 * value: the CID text). Commits are synchronous (`noSync: false, overlappingSync: false`): a write's promise resolves
 * once it is on disk, and the writes of concurrent puts share one commit (lmdb-js batches them into one
 * transaction), so a durable put costs a share of one fsync and `flush()` has nothing to do. LMDB is a native addon,
 * loaded on first use.
 */
import type { Database, RootDatabase } from 'lmdb';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import type { Logger } from '../core/logger.js';
import { type BlockStorage, type PinStorage, fsFailure } from './block-storage.js';
import { cidText } from './cid.js';

/** The environment's file in the data directory. */
export const LMDB_BLOCKS_FILE = 'blocks.mdb';

/** The codec of the CIDs `keys()` yields: the keys keep only the multihash. */
const RAW = 0x55;

export async function openLmdbBlocks(path: string): Promise<BlockStorage> {
  const { open } = await import('lmdb');
  const root: RootDatabase = open({ path, overlappingSync: false, noSync: false, maxDbs: 4 });
  let blocks: Database<Buffer, Buffer>;
  let pinned: Database<string, Buffer>;
  try {
    blocks = root.openDB<Buffer, Buffer>('blocks', { encoding: 'binary', keyEncoding: 'binary' });
    pinned = root.openDB<string, Buffer>('pins', { encoding: 'string', keyEncoding: 'binary' });
  } catch (error) {
    await root.close();
    throw error;
  }

  /** A failure of LMDB as the store's error; runs `action` synchronously or asynchronously. */
  const guarded = async <T>(what: string, action: () => T | Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      throw fsFailure(what, path, error);
    }
  };

  const pins: PinStorage = {
    write: (cid) => guarded('writing a pin', async () => void (await pinned.put(buffer(cid.bytes), cidText(cid)))),
    remove: (cid) => guarded('removing a pin', async () => void (await pinned.remove(buffer(cid.bytes)))),
    has: (cid) => guarded('reading a pin', () => pinned.doesExist(buffer(cid.bytes))),
    list: (logger: Logger) =>
      guarded('listing pins', () => {
        const roots: CID[] = [];
        for (const key of pinned.getKeys()) {
          try {
            roots.push(CID.decode(key));
          } catch {
            logger.warn('offchain: ignoring a pin that names no CID', { file: path });
          }
        }
        return roots;
      }),
  };

  return {
    layout: 'lmdb',
    location: path,
    put: (cid, bytes, signal) =>
      guarded('writing blocks', async () => {
        signal.throwIfAborted();
        await blocks.put(buffer(cid.multihash.bytes), buffer(bytes));
      }),
    read: (cid, signal) =>
      guarded('reading a block', () => {
        signal.throwIfAborted();
        // `get` copies the value out of the map: the caller may keep it.
        return blocks.get(buffer(cid.multihash.bytes));
      }),
    has: (cid, signal) =>
      guarded('reading a block', () => {
        signal.throwIfAborted();
        return blocks.doesExist(buffer(cid.multihash.bytes));
      }),
    delete: (cid, signal) =>
      guarded('deleting a block', async () => {
        signal.throwIfAborted();
        await blocks.remove(buffer(cid.multihash.bytes));
      }),
    async *keys(signal) {
      const keys = await guarded('listing blocks', () => [...blocks.getKeys()]);
      for (const key of keys) {
        signal.throwIfAborted();
        yield CID.createV1(RAW, Digest.decode(key));
      }
    },
    commit: async () => undefined,
    flush: () => guarded('flushing blocks', async () => void (await root.flushed)),
    close: () => root.close(),
    pins,
  };
}

function buffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
