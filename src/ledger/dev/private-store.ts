import { type Database, type RootDatabase, type Transaction, open } from 'lmdb';
import { LedgerTamperedError } from './errors.js';
import {
  type PrivateChange,
  type PrivateRow,
  decodePrivateRow,
  decodeStored,
  malformedBytes,
  encodePrivateRow,
  privateKey,
  splitPrivateKey,
} from './state-store.js';

/**
 * Private data, in an LMDB environment of its own (`private.mdb`), never in the file that holds the block log: a Fabric
 * peer keeps private data in its private data store, apart from its block files, and blocks carry only hashes.
 *
 * Two environments cannot share a transaction, so a block's private writes are committed first, together with an undo
 * record (the rows they replace, and the block's number); then the block and its public writes are committed. A crash
 * in between leaves private rows of a block that is not in the log: the next writable open puts the replaced rows
 * back (`rollBack`), and a read-only verification reads the rows as they were (`entries`). Once the block is in the
 * log, the undo record is stale and the next block with private writes replaces it.
 *
 * DBs: `rows` (collection ‖ 0x00 ‖ key → version ‖ value), `undo` (same keys → 0x00 absent | 0x01 ‖ previous row) and
 * `meta` (`undoBlock` → the block number the undo record belongs to). Rows, undo entries and the block number that
 * cannot be decoded are a `LedgerTamperedError`.
 */

const UNDO_BLOCK = 'undoBlock';

export class PrivateStore {
  readonly rows: Database<Buffer, Buffer>;
  private readonly undo: Database<Buffer, Buffer>;
  private readonly meta: Database<number, string>;

  private constructor(
    readonly root: RootDatabase,
    /** The ledger's folder, named by the `LedgerTamperedError` of a row that cannot be decoded. */
    readonly directory: string,
  ) {
    this.rows = root.openDB<Buffer, Buffer>('rows', { encoding: 'binary', keyEncoding: 'binary' });
    this.undo = root.openDB<Buffer, Buffer>('undo', { encoding: 'binary', keyEncoding: 'binary' });
    this.meta = root.openDB<number, string>({ name: 'meta' });
  }

  /** Opens `path`, the private data of the ledger in `directory` (read-only: for verifying a ledger another process may have open). */
  static open(path: string, directory: string, readOnly = false): PrivateStore {
    return new PrivateStore(
      readOnly ? open({ path, readOnly: true, maxDbs: 4 }) : open({ path, overlappingSync: false, noSync: false, maxDbs: 4 }),
      directory,
    );
  }

  close(): Promise<void> {
    return this.root.close();
  }

  /** A snapshot for one simulation (release it with `done()`). */
  snapshot(): Transaction {
    return this.root.useReadTransaction();
  }

  isEmpty(): boolean {
    return this.rows.getCount() === 0;
  }

  get(collection: string, key: string, transaction?: Transaction): PrivateRow | undefined {
    const bytes = this.rows.get(privateKey(collection, key), transaction ? { transaction } : undefined);
    return bytes ? this.row(`${collection}/${key}`, bytes) : undefined;
  }

  /** Keys of `collection` in [start, end) in byte order; `end` undefined = no upper bound. */
  *range(
    collection: string,
    start: string,
    end: string | undefined,
    transaction?: Transaction,
  ): Generator<{ key: string; row: PrivateRow }> {
    const options = {
      start: privateKey(collection, start),
      end: end === undefined ? Buffer.concat([Buffer.from(collection, 'utf8'), Buffer.from([1])]) : privateKey(collection, end),
      ...(transaction ? { transaction } : {}),
    };
    for (const { key: id, value } of this.rows.getRange(options)) {
      const { key } = this.split(id);
      yield { key, row: this.row(`${collection}/${key}`, value) };
    }
  }

  /** `collection ‖ 0x00 ‖ key` of a stored row. */
  split(id: Buffer): { collection: string; key: string } {
    return decodeStored(
      () => splitPrivateKey(id),
      (problem, cause) =>
        new LedgerTamperedError(this.directory, `the key of a private row (${id.toString('hex')}) is damaged: ${problem}`, { cause }),
    );
  }

  /** A stored row of `name` (`collection/key`); `blockNumber`, when known, is the block whose write it should be. */
  row(name: string, bytes: Buffer, blockNumber?: number): PrivateRow {
    return decodeStored(
      () => decodePrivateRow(bytes),
      (problem, cause) =>
        new LedgerTamperedError(this.directory, `private row ${JSON.stringify(name)} is damaged: ${problem}`, {
          key: name,
          blockNumber: blockNumber === undefined ? undefined : BigInt(blockNumber),
          cause,
        }),
    );
  }

  /** Commits block `block`'s private writes (durably, before the block itself), with what they replace. */
  async commit(block: number, changes: Iterable<PrivateChange>): Promise<void> {
    await this.root.transaction(() => {
      for (const key of [...this.undo.getKeys()]) void this.undo.remove(key);
      void this.meta.put(UNDO_BLOCK, block);
      for (const { collection, key, row } of changes) {
        const id = privateKey(collection, key);
        const previous = this.rows.get(id);
        void this.undo.put(id, previous ? Buffer.concat([Buffer.from([1]), previous]) : Buffer.from([0]));
        if (row) void this.rows.put(id, encodePrivateRow(row));
        else void this.rows.remove(id);
      }
    });
  }

  /**
   * The rows that private writes of a block not in the log (block number ≥ `height`) replaced, by row key (hex); undefined
   * when every committed private write belongs to a block of the log.
   */
  private uncommitted(height: number, transaction?: Transaction): Map<string, Buffer | undefined> | undefined {
    const options = transaction ? { transaction } : undefined;
    const block = decodeStored(
      () => {
        const value: unknown = this.meta.get(UNDO_BLOCK, options);
        if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
          throw malformedBytes(`it is not a block number (a ${typeof value})`);
        }
        return value as number | undefined;
      },
      (problem, cause) =>
        new LedgerTamperedError(this.directory, `the block number of the private undo record is damaged: ${problem}`, { cause }),
    );
    if (block === undefined || block < height) return undefined;
    const previous = new Map<string, Buffer | undefined>();
    for (const { key, value } of this.undo.getRange(options ?? {})) {
      // 0x00: the key was absent; 0x01 ‖ row: the row it had.
      const row = decodeStored(
        () => {
          if (value.length === 1 && value[0] === 0) return undefined;
          if (value[0] !== 1) throw malformedBytes('it is neither 0x00 (absent) nor 0x01 ‖ the previous row');
          const row = value.subarray(1);
          decodePrivateRow(row); // in the form of a row
          return row;
        },
        (problem, cause) =>
          new LedgerTamperedError(
            this.directory,
            `the private undo record of block ${block} (key ${key.toString('hex')}) is damaged: ${problem}`,
            {
              blockNumber: BigInt(block),
              cause,
            },
          ),
      );
      previous.set(key.toString('hex'), row);
    }
    return previous;
  }

  /** Puts back what the private writes of a block that is not in the log replaced; resolves with the rows restored. */
  async rollBack(height: number): Promise<number> {
    const previous = this.uncommitted(height);
    if (!previous) return 0;
    await this.root.transaction(() => {
      for (const [id, row] of previous) {
        if (row) void this.rows.put(Buffer.from(id, 'hex'), row);
        else void this.rows.remove(Buffer.from(id, 'hex'));
      }
      for (const key of [...this.undo.getKeys()]) void this.undo.remove(key);
      void this.meta.remove(UNDO_BLOCK);
    });
    return previous.size;
  }

  /**
   * Every private row as of a block log of `height` blocks, undecoded (`id` = collection ‖ 0x00 ‖ key): rows of a later
   * block are read as the rows they replaced. Decode them with `split` and `row`.
   */
  *entries(height: number, transaction?: Transaction): Generator<{ id: Buffer; bytes: Buffer }> {
    const previous = this.uncommitted(height, transaction);
    for (const { key, value } of this.rows.getRange(transaction ? { transaction } : {})) {
      const id = key.toString('hex');
      const bytes = previous?.has(id) ? previous.get(id) : value;
      previous?.delete(id);
      if (bytes) yield { id: key, bytes };
    }
    // Rows the uncommitted block deleted.
    for (const [id, bytes] of previous ?? []) {
      if (bytes) yield { id: Buffer.from(id, 'hex'), bytes };
    }
  }
}
