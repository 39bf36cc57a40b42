/**
 * The `lmdb` block layout: every block in one LMDB environment (`blocks.mdb`), keyed by its multihash bytes (one
 * block for CIDv0 and CIDv1 of the same bytes), and the pins in a second database of it (key: the CID's bytes,
 * value: the CID text). The writes of concurrent puts share one commit (lmdb-js batches them into one transaction),
 * and commits reach the disk in the background (`overlappingSync`): a write is visible when its promise resolves and
 * durable once `flushed` resolves. A durable store waits for that in `commit()` and for each pin, so a durable put
 * costs a share of one fsync; otherwise `flush()` waits for everything written so far. LMDB is a native addon, loaded
 * on first use.
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

export async function openLmdbBlocks(path: string, durable: boolean): Promise<BlockStorage> {
  const { open } = await import('lmdb');
  const root: RootDatabase = open({ path, overlappingSync: true, noSync: false, maxDbs: 4 });
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

  /** Waits until what was committed so far is on disk, when the store is durable. */
  const synced = async (): Promise<void> => {
    if (durable) await root.flushed;
  };

  const pins: PinStorage = {
    write: (cid) =>
      guarded('writing a pin', async () => {
        await pinned.put(buffer(cid.bytes), cidText(cid));
        await synced();
      }),
    remove: (cid) =>
      guarded('removing a pin', async () => {
        await pinned.remove(buffer(cid.bytes));
        await synced();
      }),
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
    putRoot: (cid, bytes, pin, signal) =>
      guarded('writing blocks', async () => {
        signal.throwIfAborted();
        // One transaction: the pin is never committed without its block.
        await root.transaction(() => {
          blocks.put(buffer(cid.multihash.bytes), buffer(bytes));
          if (pin) pinned.put(buffer(cid.bytes), cidText(cid));
        });
        await synced();
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
    commit: () => guarded('flushing blocks', synced),
    flush: () => guarded('flushing blocks', async () => void (await root.flushed)),
    close: () => root.close(),
    pins,
  };
}

function buffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
