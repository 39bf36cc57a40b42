import type { Database, RootDatabase, Transaction } from 'lmdb';
import type { Version } from './block-log.js';
import { DevLedgerError, LedgerTamperedError } from './errors.js';

/**
 * World state, key history and the transaction index, in the ledger's LMDB environment (the block log is its
 * neighbour, so one LMDB write transaction commits a block and all its public changes). Private data is kept apart, in
 * its own environment (private-store.ts), as a peer keeps it apart from its block files. Keys are the UTF-8 bytes of
 * Fabric's keys, so LMDB's byte order is Fabric's key order (composite keys, range queries).
 *
 * Rows are binary: `state` = version (block u32, tx u32) ‖ policy length u32 ‖ key-level policy ‖ value;
 * `history` (key = key length u16 ‖ key ‖ block u32 ‖ tx u32) = header length u32 ‖ JSON {txId, seconds, nanos,
 * isDelete} ‖ value; `transactions` (key = transaction ID) = block u32 ‖ index u32 ‖ validation code u8.
 *
 * The decoders check the bytes they read against these forms: stored bytes that are not in them (a truncated row, a
 * length past the end, a header that is not DevLedger's JSON) throw `malformedBytes()`, which `decodeStored` turns into a
 * `LedgerTamperedError` naming the folder, the key and, where the caller knows it, the block.
 */

export interface StateRow {
  value: Buffer;
  version: Version;
  /** Key-level endorsement policy (validation parameter), if any. */
  validationParameter: Buffer | undefined;
}

export interface PrivateRow {
  value: Buffer;
  version: Version;
}

export interface HistoryRow {
  txId: string;
  timestamp: { seconds: number; nanos: number };
  isDelete: boolean;
  value: Buffer;
  version: Version;
}

export interface TransactionLocation {
  block: number;
  index: number;
  validationCode: number;
}

/** A private write of a block: the new row, or `undefined` for a delete. */
export interface PrivateChange {
  collection: string;
  key: string;
  row: PrivateRow | undefined;
}

/** Every change a block makes, by valid transaction, in commit order (later entries win). */
export interface StateUpdates {
  state: Map<string, { row: StateRow } | { deleted: Version }>;
  /** By `privateId(collection, key)`. */
  private: Map<string, PrivateChange>;
  history: Array<{ key: string; row: HistoryRow }>;
  transactions: Array<{ txId: string; location: TransactionLocation }>;
}

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Fabric's key order: the byte order of the keys' UTF-8 (not JavaScript's UTF-16 order, which differs above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(utf8(a), utf8(b));
}

/** The id of a private key in `StateUpdates.private`. */
export const privateId = (collection: string, key: string): string => `${collection}\u0000${key}`;

/** Stored bytes that are not in the form DevLedger writes; the message says what is wrong with them (`decodeStored` wraps it). */
export function malformedBytes(problem: string): DevLedgerError {
  return new DevLedgerError(problem, { code: 'ledger.dev.malformed' });
}

function need(condition: boolean, problem: string): asserts condition {
  if (!condition) throw malformedBytes(problem);
}

/**
 * Runs a decoder of stored bytes. Whatever it throws (a `malformedBytes()`, or anything else the bytes made it throw) is
 * the `LedgerTamperedError` that `tampered` makes of the problem: never a raw RangeError or SyntaxError.
 */
export function decodeStored<T>(decode: () => T, tampered: (problem: string, cause: unknown) => LedgerTamperedError): T {
  try {
    return decode();
  } catch (error) {
    throw tampered(error instanceof Error ? error.message : String(error), error);
  }
}

export function encodeStateRow(row: StateRow): Buffer {
  const head = Buffer.allocUnsafe(12);
  head.writeUInt32BE(row.version.block, 0);
  head.writeUInt32BE(row.version.tx, 4);
  const policy = row.validationParameter ?? Buffer.alloc(0);
  head.writeUInt32BE(policy.length, 8);
  return Buffer.concat([head, policy, row.value]);
}

export function decodeStateRow(bytes: Buffer): StateRow {
  need(bytes.length >= 12, `it is ${bytes.length} bytes, shorter than its 12-byte header (version, policy length)`);
  const policyLength = bytes.readUInt32BE(8);
  need(12 + policyLength <= bytes.length, `its policy length ${policyLength} runs past its end (${bytes.length} bytes)`);
  return {
    version: { block: bytes.readUInt32BE(0), tx: bytes.readUInt32BE(4) },
    validationParameter: policyLength > 0 ? bytes.subarray(12, 12 + policyLength) : undefined,
    value: bytes.subarray(12 + policyLength),
  };
}

export function encodePrivateRow(row: PrivateRow): Buffer {
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(row.version.block, 0);
  head.writeUInt32BE(row.version.tx, 4);
  return Buffer.concat([head, row.value]);
}

export function decodePrivateRow(bytes: Buffer): PrivateRow {
  need(bytes.length >= 8, `it is ${bytes.length} bytes, shorter than its 8-byte version`);
  return { version: { block: bytes.readUInt32BE(0), tx: bytes.readUInt32BE(4) }, value: bytes.subarray(8) };
}

export function privateKey(collection: string, key: string): Buffer {
  return Buffer.concat([utf8(collection), Buffer.from([0]), utf8(key)]);
}

export function splitPrivateKey(bytes: Buffer): { collection: string; key: string } {
  const zero = bytes.indexOf(0);
  need(zero > 0 && zero < bytes.length - 1, 'it is not collection ‖ 0x00 ‖ key');
  return { collection: bytes.subarray(0, zero).toString('utf8'), key: bytes.subarray(zero + 1).toString('utf8') };
}

function historyPrefix(key: string): Buffer {
  const bytes = utf8(key);
  const length = Buffer.allocUnsafe(2);
  length.writeUInt16BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

function historyKey(key: string, version: Version): Buffer {
  const suffix = Buffer.allocUnsafe(8);
  suffix.writeUInt32BE(version.block, 0);
  suffix.writeUInt32BE(version.tx, 4);
  return Buffer.concat([historyPrefix(key), suffix]);
}

/** The key and version of a history row, from its LMDB key (key length u16 ‖ key ‖ block u32 ‖ tx u32). */
export function decodeHistoryKey(keyBytes: Buffer): { key: string; version: Version } {
  need(keyBytes.length >= 10, `its key is ${keyBytes.length} bytes, shorter than key length, block and transaction`);
  const keyLength = keyBytes.readUInt16BE(0);
  need(keyBytes.length === 10 + keyLength, `its key names a key of ${keyLength} bytes but is ${keyBytes.length} bytes long`);
  return {
    key: keyBytes.subarray(2, 2 + keyLength).toString('utf8'),
    version: { block: keyBytes.readUInt32BE(2 + keyLength), tx: keyBytes.readUInt32BE(6 + keyLength) },
  };
}

/** A history row's value (header length u32 ‖ JSON header ‖ value), at `version`. */
export function decodeHistoryRow(bytes: Buffer, version: Version): HistoryRow {
  need(bytes.length >= 4, `it is ${bytes.length} bytes, shorter than its 4-byte header length`);
  const headerLength = bytes.readUInt32BE(0);
  need(4 + headerLength <= bytes.length, `its header length ${headerLength} runs past its end (${bytes.length} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8'));
  } catch {
    throw malformedBytes('its header is not JSON');
  }
  const { txId, seconds, nanos, isDelete } = (header ?? {}) as Record<string, unknown>;
  need(
    typeof txId === 'string' && Number.isSafeInteger(seconds) && Number.isSafeInteger(nanos) && typeof isDelete === 'boolean',
    'its header is not {txId, seconds, nanos, isDelete}',
  );
  return {
    txId,
    timestamp: { seconds: seconds as number, nanos: nanos as number },
    isDelete,
    value: bytes.subarray(4 + headerLength),
    version,
  };
}

function encodeHistoryRow(row: HistoryRow): Buffer {
  const header = utf8(
    JSON.stringify({ txId: row.txId, seconds: row.timestamp.seconds, nanos: row.timestamp.nanos, isDelete: row.isDelete }),
  );
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(header.length, 0);
  return Buffer.concat([length, header, row.value]);
}

function encodeLocation(location: TransactionLocation): Buffer {
  const bytes = Buffer.allocUnsafe(9);
  bytes.writeUInt32BE(location.block, 0);
  bytes.writeUInt32BE(location.index, 4);
  bytes.writeUInt8(location.validationCode, 8);
  return bytes;
}

export function decodeLocation(bytes: Buffer): TransactionLocation {
  need(bytes.length === 9, `it is ${bytes.length} bytes, not 9 (block, index, validation code)`);
  return { block: bytes.readUInt32BE(0), index: bytes.readUInt32BE(4), validationCode: bytes.readUInt8(8) };
}

/** One bound past every key that starts with `prefix` (Fabric's partial composite key ranges end at U+10FFFF). */
const MAX_SUFFIX = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export class StateStore {
  readonly state: Database<Buffer, Buffer>;
  readonly history: Database<Buffer, Buffer>;
  readonly transactions: Database<Buffer, string>;

  constructor(
    root: RootDatabase,
    /** The ledger's folder, named by the `LedgerTamperedError` of a row that cannot be decoded. */
    readonly directory: string,
  ) {
    this.state = root.openDB<Buffer, Buffer>('state', { encoding: 'binary', keyEncoding: 'binary' });
    this.history = root.openDB<Buffer, Buffer>('history', { encoding: 'binary', keyEncoding: 'binary' });
    this.transactions = root.openDB<Buffer, string>('transactions', { encoding: 'binary' });
  }

  getState(key: string, transaction?: Transaction): StateRow | undefined {
    const bytes = this.state.get(utf8(key), transaction ? { transaction } : undefined);
    return bytes ? this.stateRow(key, bytes) : undefined;
  }

  /** Keys in [start, end) in byte order; `end` undefined = no upper bound. */
  *range(start: string, end: string | undefined, transaction?: Transaction): Generator<{ key: string; row: StateRow }> {
    const options = { start: utf8(start), ...(end === undefined ? {} : { end: utf8(end) }), ...(transaction ? { transaction } : {}) };
    for (const { key, value } of this.state.getRange(options)) {
      const name = key.toString('utf8');
      yield { key: name, row: this.stateRow(name, value) };
    }
  }

  /** Every change of `key`, newest first (Fabric 2.x order). */
  keyHistory(key: string, transaction?: Transaction): HistoryRow[] {
    const prefix = historyPrefix(key);
    const rows: HistoryRow[] = [];
    const options = { start: Buffer.concat([prefix, MAX_SUFFIX]), end: prefix, reverse: true, ...(transaction ? { transaction } : {}) };
    for (const { key: bytes, value } of this.history.getRange(options)) {
      const { version } = decodeStored(
        () => decodeHistoryKey(bytes),
        (problem, cause) => this.tampered(`a history entry of ${JSON.stringify(key)} is damaged: ${problem}`, { key, cause }),
      );
      const row = decodeStored(
        () => decodeHistoryRow(value, version),
        (problem, cause) =>
          this.tampered(
            `the history entry of ${JSON.stringify(key)} at block ${version.block} transaction ${version.tx} is damaged: ${problem}`,
            {
              key,
              blockNumber: version.block,
              cause,
            },
          ),
      );
      rows.push(row);
    }
    return rows;
  }

  transaction(txId: string, transaction?: Transaction): TransactionLocation | undefined {
    const bytes = this.transactions.get(txId, transaction ? { transaction } : undefined);
    if (!bytes) return undefined;
    return decodeStored(
      () => decodeLocation(bytes),
      (problem, cause) => this.tampered(`the index entry of transaction ${txId} is damaged: ${problem}`, { cause }),
    );
  }

  private stateRow(key: string, bytes: Buffer): StateRow {
    return decodeStored(
      () => decodeStateRow(bytes),
      (problem, cause) => this.tampered(`state row ${JSON.stringify(key)} is damaged: ${problem}`, { key, cause }),
    );
  }

  private tampered(message: string, info: { key?: string; blockNumber?: number; cause: unknown }): LedgerTamperedError {
    return new LedgerTamperedError(this.directory, message, {
      key: info.key,
      cause: info.cause,
      blockNumber: info.blockNumber === undefined ? undefined : BigInt(info.blockNumber),
    });
  }

  /** Writes a block's public changes; call inside the LMDB write transaction that stores the block. */
  apply(updates: StateUpdates): void {
    for (const [key, change] of updates.state) {
      if ('row' in change) void this.state.put(utf8(key), encodeStateRow(change.row));
      else void this.state.remove(utf8(key));
    }
    for (const { key, row } of updates.history) void this.history.put(historyKey(key, row.version), encodeHistoryRow(row));
    for (const { txId, location } of updates.transactions) void this.transactions.put(txId, encodeLocation(location));
  }
}
