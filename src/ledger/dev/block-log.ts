import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';
import { LedgerTamperedError } from './errors.js';

/**
 * The hash-chained block log. A block is stored as two lines of JSON text, `<header>\n<data>`:
 *
 *   header  {"number":7,"previousHash":"<hex>","dataHash":"<hex>"}      (exactly this form, nothing else)
 *   data    {"transactions":[<envelope>,...],"validationCodes":[0,11,...]}   (block 0: also "config")
 *
 * `dataHash` is the SHA-256 of the data line's bytes, the block's hash is the SHA-256 of the header line's bytes, and
 * each header names the hash of the block before it (block 0: 64 zeros) — a Fabric block header, in JSON. Validation
 * codes are part of the hashed data (Fabric keeps them in unhashed metadata): a flipped code is detected too.
 * Envelopes are serialised once, when the transaction is endorsed, and copied into the block as they are.
 */

export const ZERO_HASH = '0'.repeat(64);
/** Version of the folder layout and block format; written into block 0. 2: private data in its own file (private.mdb). */
export const FORMAT = 2;

/** The height of the transaction that last wrote a key: block number and index in the block (Fabric's version). */
export interface Version {
  block: number;
  tx: number;
}

export interface ReadEntry {
  key: string;
  version: Version | null;
}

export interface RangeEntry {
  start: string;
  end: string;
  /** What the range returned at endorsement; re-run at commit (phantom reads). */
  reads: ReadEntry[];
}

export interface WriteEntry {
  key: string;
  /** Base64 of the value; absent for a delete. */
  value?: string;
  isDelete: boolean;
}

export interface MetadataWriteEntry {
  key: string;
  /** Base64 of the key-level endorsement policy (a validation parameter), or null to remove it. */
  validationParameter: string | null;
}

/** Private data as a block holds it: only hashes (the values stay in the private store, as on a Fabric peer). */
export interface CollectionRWSet {
  collection: string;
  reads: Array<{ keyHash: string; version: Version | null }>;
  writes: Array<{ keyHash: string; valueHash: string | null }>;
}

export interface RWSet {
  reads: ReadEntry[];
  ranges: RangeEntry[];
  writes: WriteEntry[];
  metadataWrites: MetadataWriteEntry[];
  collections: CollectionRWSet[];
}

/** One endorsed transaction as it goes into a block. */
export interface Envelope {
  txId: string;
  timestamp: { seconds: number; nanos: number };
  channel: string;
  chaincode: string;
  /** MSP ID of the client. */
  creator: string;
  /** MSP IDs of the peers that endorsed it. */
  endorsers: string[];
  function: string;
  args: string[];
  response: { status: number; payload: string };
  rwset: RWSet;
  event: { name: string; payload: string } | null;
}

export interface ChannelConfig {
  format: number;
  channel: string;
  chaincode: string;
  createdAt: string;
}

export interface BlockHeader {
  number: number;
  previousHash: string;
  dataHash: string;
}

export interface BlockData {
  config?: ChannelConfig;
  transactions: Envelope[];
  validationCodes: number[];
}

export interface StoredBlock {
  header: BlockHeader;
  /** SHA-256 of the header line. */
  hash: string;
  data: BlockData;
}

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

function headerLine(header: BlockHeader): string {
  return `{"number":${header.number},"previousHash":"${header.previousHash}","dataHash":"${header.dataHash}"}`;
}

/** Serialises an envelope once; the block copies the text. Keys in a fixed order, so the text is deterministic. */
export function encodeEnvelope(envelope: Envelope): string {
  return JSON.stringify(envelope);
}

/** Builds block `number` from serialised envelopes and their validation codes. */
export function buildBlock(
  number: number,
  previousHash: string,
  envelopes: readonly string[],
  validationCodes: readonly number[],
  config?: ChannelConfig,
): { bytes: Buffer; header: BlockHeader; hash: string } {
  const data =
    `{${config ? `"config":${JSON.stringify(config)},` : ''}"transactions":[${envelopes.join(',')}],` +
    `"validationCodes":[${validationCodes.join(',')}]}`;
  const header: BlockHeader = { number, previousHash, dataHash: sha256(data) };
  const line = headerLine(header);
  return { bytes: Buffer.from(`${line}\n${data}`, 'utf8'), header, hash: sha256(line) };
}

type Check = (value: unknown) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString: Check = (value) => typeof value === 'string';
const isCount: Check = (value) => Number.isSafeInteger(value) && (value as number) >= 0;
const isVersion: Check = (value) => value === null || (isObject(value) && isCount(value.block) && isCount(value.tx));
const arrayOf =
  (item: Check): Check =>
  (value) =>
    Array.isArray(value) && value.every(item);
const nullable =
  (check: Check): Check =>
  (value) =>
    value === null || check(value);
/** An object whose named fields pass their checks (other fields are ignored; optional ones may be absent). */
const shape =
  (fields: Record<string, Check>, optional: readonly string[] = []): Check =>
  (value) =>
    isObject(value) &&
    Object.entries(fields).every(([name, check]) => (optional.includes(name) && value[name] === undefined) || check(value[name]));

const isReadEntry = shape({ key: isString, version: isVersion });
/** The fields of an envelope DevLedger reads back (verification, `getBlock`, events), each in the form it writes them. */
const ENVELOPE_FIELDS: Record<string, Check> = {
  txId: isString,
  timestamp: shape({ seconds: Number.isSafeInteger, nanos: isCount }),
  channel: isString,
  chaincode: isString,
  creator: isString,
  endorsers: arrayOf(isString),
  function: isString,
  args: arrayOf(isString),
  response: shape({ status: Number.isSafeInteger, payload: isString }),
  rwset: shape({
    reads: arrayOf(isReadEntry),
    ranges: arrayOf(shape({ start: isString, end: isString, reads: arrayOf(isReadEntry) })),
    writes: arrayOf(shape({ key: isString, value: isString, isDelete: (value) => typeof value === 'boolean' }, ['value'])),
    metadataWrites: arrayOf(shape({ key: isString, validationParameter: nullable(isString) })),
    collections: arrayOf(
      shape({
        collection: isString,
        reads: arrayOf(shape({ keyHash: isString, version: isVersion })),
        writes: arrayOf(shape({ keyHash: isString, valueHash: nullable(isString) })),
      }),
    ),
  }),
  event: nullable(shape({ name: isString, payload: isString })),
};
const isConfig = shape({ format: Number.isSafeInteger, channel: isString, chaincode: isString, createdAt: isString });

/** What is wrong with the form of a block's data, or `undefined`. */
function dataProblem(data: unknown): string | undefined {
  if (!isObject(data)) return 'its data is not a JSON object';
  if (data.config !== undefined && !isConfig(data.config)) return 'its channel configuration is not in the form DevLedger writes';
  if (
    !Array.isArray(data.transactions) ||
    !Array.isArray(data.validationCodes) ||
    data.transactions.length !== data.validationCodes.length
  ) {
    return 'its data does not list one validation code per transaction';
  }
  const code = data.validationCodes.findIndex((value) => !(isCount(value) && (value as number) <= 255));
  if (code >= 0) return `the validation code of transaction ${code} is not a code`;
  for (const [index, envelope] of data.transactions.entries()) {
    if (!isObject(envelope)) return `transaction ${index} is not a JSON object`;
    const field = Object.keys(ENVELOPE_FIELDS).find((name) => !(ENVELOPE_FIELDS[name] as Check)(envelope[name]));
    if (field !== undefined) return `the field ${field} of transaction ${index} is not in the form DevLedger writes`;
  }
  return undefined;
}

/**
 * Parses a stored block and checks it against itself: the header in its exact form, the data hash, the block number,
 * and the data in the form DevLedger writes (every field of every transaction that is read back). Throws a
 * `LedgerTamperedError` naming the ledger's folder and the block.
 */
export function decodeBlock(bytes: Uint8Array, expectedNumber: number, directory: string): StoredBlock {
  const damaged = (what: string, cause?: unknown) =>
    new LedgerTamperedError(directory, `block ${expectedNumber} is damaged: ${what}`, { blockNumber: BigInt(expectedNumber), cause });
  const text = Buffer.from(bytes).toString('utf8');
  const newline = text.indexOf('\n');
  if (newline < 0) throw damaged('it is not a header line and a data line');
  const line = text.slice(0, newline);
  const dataText = text.slice(newline + 1);
  let header: unknown;
  try {
    header = JSON.parse(line);
  } catch (error) {
    throw damaged('its header is not JSON', error);
  }
  if (
    !isObject(header) ||
    !isCount(header.number) ||
    !isString(header.previousHash) ||
    !isString(header.dataHash) ||
    headerLine(header as unknown as BlockHeader) !== line
  ) {
    throw damaged('its header is not in the form DevLedger writes');
  }
  const checked = header as unknown as BlockHeader;
  if (checked.number !== expectedNumber) throw damaged(`its header says block ${String(checked.number)}`);
  if (sha256(dataText) !== checked.dataHash) throw damaged(`its data does not hash to the dataHash in its header (${checked.dataHash})`);
  let data: unknown;
  try {
    data = JSON.parse(dataText);
  } catch (error) {
    throw damaged('its data is not JSON', error);
  }
  const problem = dataProblem(data);
  if (problem !== undefined) throw damaged(problem);
  return { header: checked, hash: sha256(line), data: data as BlockData };
}

/** The block log in the ledger's LMDB environment: block number → block bytes. Writes happen inside the commit transaction. */
export class BlockLog {
  constructor(private readonly db: Database<Buffer, number>) {}

  /** Whether the log has no block yet (a new ledger). The height comes from verifying the chain, block by block. */
  isEmpty(): boolean {
    for (const _key of this.db.getKeys({ limit: 1 })) return false;
    return true;
  }

  /** One past the highest stored block number (0 for an empty log); `verifyLedger` checks that none is missing. */
  height(): number {
    for (const key of this.db.getKeys({ reverse: true, limit: 1 })) return key + 1;
    return 0;
  }

  get(number: number): Buffer | undefined {
    return this.db.get(number);
  }

  /** Puts a block; call inside the LMDB write transaction that commits its writes. */
  put(number: number, bytes: Buffer): void {
    void this.db.put(number, bytes);
  }

  /** Every stored block number in order, with its bytes. */
  *entries(): Generator<{ number: number; bytes: Buffer }> {
    for (const { key, value } of this.db.getRange()) yield { number: key, bytes: value };
  }
}
