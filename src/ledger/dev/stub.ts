import { createHash } from 'node:crypto';
import type { Transaction } from 'lmdb';
import type { RangeEntry } from './block-log.js';
import { DevLedgerError } from './errors.js';
import type { PrivateStore } from './private-store.js';
import { Simulation } from './simulation.js';
import { type KV, type KeyModification, LongLike, type Page, type QueryResult, queryResult } from './query-results.js';
import type { StateStore } from './state-store.js';

/**
 * A `ChaincodeStub` with a Fabric peer's simulation semantics, for one endorsement of one transaction:
 *
 * - reads see committed state only, as of one snapshot (an LMDB read transaction held for the whole simulation, as a
 *   peer holds its state lock): never the transaction's own writes;
 * - what the transaction reads, queries and writes is recorded in its `simulation` (simulation.ts: read versions for
 *   MVCC, range queries for phantom reads — a page of a paginated query up to its last key —, writes one per key,
 *   paginated and private range queries only in read-only transactions, the last `setEvent`);
 * - range queries in Fabric's key order (UTF-8 bytes), composite keys apart from simple keys;
 * - private data goes to explicit collections `<MSP ID>PrivateCollection`: only member clients may read or write
 *   (memberOnlyRead / memberOnlyWrite), a peer outside the collection holds none of it (only the hashes).
 *
 * What a LevelDB-backed peer refuses is refused here too (rich queries). What the dev ledger cannot do says so:
 * calling another chaincode, signed proposals, private key-level policies.
 */

const COMPOSITE_NS = '\u0000';
const MIN_RUNE = '\u0000';
const MAX_RUNE = '\u{10ffff}';
const EMPTY_KEY_SUBSTITUTE = '\u0001';

export interface StubInput {
  store: StateStore;
  /** LMDB read transaction: the committed state this simulation sees. */
  snapshot: Transaction;
  privateStore: PrivateStore;
  /** Read transaction of the private data store, taken with `snapshot`. */
  privateSnapshot: Transaction;
  channel: string;
  chaincode: string;
  txId: string;
  timestamp: { seconds: number; nanos: number };
  creator: { mspId: string; certificate: string };
  /** The endorsing peer's organisation (`CORE_PEER_LOCALMSPID`). */
  peerMspId: string;
  /** Function name, then its arguments. */
  args: readonly string[];
  transient: ReadonlyMap<string, Uint8Array>;
  /** Collection name → member MSP IDs. */
  collections: ReadonlyMap<string, readonly string[]>;
  binding: string;
}

/** What the stub answers the chaincode when a call is refused; the chaincode sees the message, as from a peer. */
const stubError = (message: string): DevLedgerError => new DevLedgerError(message, { code: 'ledger.dev.stub' });

function checkKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string' || key.length === 0) throw stubError(`${what} must not be an empty string`);
  if (/\p{Cs}/u.test(key)) {
    throw stubError(`${what} ${JSON.stringify(key)} is not valid UTF-8`);
  }
  return key;
}

function checkSimpleKeys(...keys: string[]): void {
  for (const key of keys) {
    if (key.startsWith(COMPOSITE_NS)) throw stubError(`first character of the key [${key}] contains a null character which is not allowed`);
  }
}

function toBuffer(value: unknown, what: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw stubError(`${what} must be a Uint8Array or a string`);
}

export class DevStub {
  /** What this simulation read and wrote. */
  readonly simulation: Simulation;

  constructor(private readonly input: StubInput) {
    this.simulation = new Simulation(input.txId, stubError);
  }

  // ---- the proposal ---------------------------------------------------------------------------------

  getArgs(): string[] {
    return [...this.input.args];
  }
  getStringArgs(): string[] {
    return this.getArgs();
  }
  getBufferArgs(): Buffer[] {
    return this.input.args.map((arg) => Buffer.from(arg, 'utf8'));
  }
  getFunctionAndParameters(): { fcn: string; params: string[] } {
    const [fcn = '', ...params] = this.input.args;
    return { fcn, params };
  }
  getTxID(): string {
    return this.input.txId;
  }
  getChannelID(): string {
    return this.input.channel;
  }
  getCreator(): { mspid: string; idBytes: Uint8Array } {
    return { mspid: this.input.creator.mspId, idBytes: Buffer.from(this.input.creator.certificate, 'utf8') };
  }
  getMspID(): string {
    return this.input.peerMspId;
  }
  getTransient(): Map<string, Uint8Array> {
    return new Map([...this.input.transient].map(([name, value]) => [name, Buffer.from(value)]));
  }
  getTxTimestamp(): { seconds: LongLike; nanos: number } {
    return { seconds: new LongLike(this.input.timestamp.seconds), nanos: this.input.timestamp.nanos };
  }
  getDateTimestamp(): Date {
    return new Date(this.input.timestamp.seconds * 1000 + Math.floor(this.input.timestamp.nanos / 1e6));
  }
  getBinding(): string {
    return this.input.binding;
  }
  getSignedProposal(): never {
    throw stubError('getSignedProposal is not available on the DevLedger: it has no signed proposals (no PKI)');
  }
  invokeChaincode(chaincodeName: string): Promise<never> {
    return Promise.reject(
      stubError(`invokeChaincode(${JSON.stringify(chaincodeName)}) is not supported: the DevLedger runs one chaincode`),
    );
  }

  // ---- public state ---------------------------------------------------------------------------------

  async getState(key: string): Promise<Uint8Array> {
    checkKey(key);
    const row = this.input.store.getState(key, this.input.snapshot);
    this.simulation.read(key, row?.version ?? null);
    return row ? Buffer.from(row.value) : Buffer.alloc(0);
  }

  async putState(key: string, value: Uint8Array): Promise<void> {
    checkKey(key);
    const bytes = toBuffer(value, 'value');
    // An empty value is a delete on a Fabric peer (the write set cannot tell them apart).
    this.simulation.write(key, bytes.length === 0 ? null : bytes);
  }

  async deleteState(key: string): Promise<void> {
    checkKey(key);
    this.simulation.write(key, null);
  }

  async setStateValidationParameter(key: string, ep: Uint8Array): Promise<void> {
    checkKey(key);
    const bytes = toBuffer(ep, 'ep');
    this.simulation.validationParameter(key, bytes.length === 0 ? null : bytes);
  }

  async getStateValidationParameter(key: string): Promise<Uint8Array> {
    checkKey(key);
    const row = this.input.store.getState(key, this.input.snapshot);
    this.simulation.read(key, row?.version ?? null);
    return row?.validationParameter ? Buffer.from(row.validationParameter) : Buffer.alloc(0);
  }

  getStateByRange(startKey: string, endKey: string): QueryResult<KV> {
    return queryResult(() => {
      checkSimpleKeys(startKey, endKey);
      return this.rangeQuery(startKey || EMPTY_KEY_SUBSTITUTE, endKey || undefined).results;
    });
  }

  getStateByPartialCompositeKey(objectType: string, attributes: string[]): QueryResult<KV> {
    return queryResult(() => {
      const prefix = this.createCompositeKey(objectType, attributes);
      return this.rangeQuery(prefix, prefix + MAX_RUNE).results;
    });
  }

  async getStateByRangeWithPagination(startKey: string, endKey: string, pageSize: number, bookmark = ''): Promise<Page> {
    checkSimpleKeys(startKey, endKey);
    return this.page(bookmark || startKey || EMPTY_KEY_SUBSTITUTE, endKey || undefined, pageSize);
  }

  async getStateByPartialCompositeKeyWithPagination(
    objectType: string,
    attributes: string[],
    pageSize: number,
    bookmark = '',
  ): Promise<Page> {
    const prefix = this.createCompositeKey(objectType, attributes);
    return this.page(bookmark || prefix, prefix + MAX_RUNE, pageSize);
  }

  getQueryResult(): Promise<never> {
    return Promise.reject(stubError('ExecuteQuery not supported for leveldb'));
  }
  getQueryResultWithPagination(): Promise<never> {
    return this.getQueryResult();
  }

  /** Every committed change of the key, newest first. Not validated at commit (as on a peer). */
  getHistoryForKey(key: string): QueryResult<KeyModification> {
    return queryResult(() =>
      this.input.store.keyHistory(checkKey(key), this.input.snapshot).map((row) => ({
        isDelete: row.isDelete,
        value: Buffer.from(row.value),
        timestamp: { seconds: new LongLike(row.timestamp.seconds), nanos: row.timestamp.nanos },
        txId: row.txId,
      })),
    );
  }

  // ---- composite keys -------------------------------------------------------------------------------

  createCompositeKey(objectType: string, attributes: string[]): string {
    const check = (part: unknown) => {
      if (typeof part !== 'string' || part.length === 0) throw stubError('object type or attribute not a non-zero length string');
    };
    check(objectType);
    if (!Array.isArray(attributes)) throw stubError('attributes must be an array');
    attributes.forEach(check);
    return `${COMPOSITE_NS}${objectType}${MIN_RUNE}${attributes.map((attribute) => `${attribute}${MIN_RUNE}`).join('')}`;
  }

  splitCompositeKey(compositeKey: string): { objectType: string | null; attributes: string[] } {
    if (!compositeKey || compositeKey.length <= 1 || !compositeKey.startsWith(COMPOSITE_NS)) return { objectType: null, attributes: [] };
    const parts = compositeKey.substring(1).split(MIN_RUNE);
    parts.pop();
    const [objectType = null, ...attributes] = parts;
    return { objectType, attributes };
  }

  // ---- private data ---------------------------------------------------------------------------------

  async getPrivateData(collection: string, key: string): Promise<Uint8Array> {
    checkKey(key);
    this.requireMember(collection, 'read');
    const row = this.input.privateStore.get(collection, key, this.input.privateSnapshot);
    if (row && !this.peerHolds(collection)) {
      // A peer outside the collection has the hash of the value (with its version), not the value.
      throw stubError(
        `private data matching public hash version is not available. Public hash version = {BlockNum: ${row.version.block}, ` +
          `TxNum: ${row.version.tx}}, Private data version = <nil>`,
      );
    }
    this.simulation.privateRead(collection, key, row?.version ?? null);
    return row ? Buffer.from(row.value) : Buffer.alloc(0);
  }

  /** The hash of a private value: readable by non-members too (it is in the block). */
  async getPrivateDataHash(collection: string, key: string): Promise<Uint8Array> {
    checkKey(key);
    this.requireCollection(collection);
    const row = this.input.privateStore.get(collection, key, this.input.privateSnapshot);
    this.simulation.privateRead(collection, key, row?.version ?? null);
    return row ? createHash('sha256').update(row.value).digest() : Buffer.alloc(0);
  }

  async putPrivateData(collection: string, key: string, value: Uint8Array): Promise<void> {
    checkKey(key);
    this.requireMember(collection, 'write');
    const bytes = toBuffer(value, 'value');
    if (bytes.length === 0) throw stubError('value must not be empty; use deletePrivateData to remove a key');
    this.simulation.privateWrite(collection, key, bytes);
  }

  async deletePrivateData(collection: string, key: string): Promise<void> {
    checkKey(key);
    this.requireMember(collection, 'write');
    this.simulation.privateWrite(collection, key, null);
  }

  /** On a peer a purge also removes the key's earlier versions; the dev ledger keeps no private history, so it deletes. */
  async purgePrivateData(collection: string, key: string): Promise<void> {
    return this.deletePrivateData(collection, key);
  }

  getPrivateDataByRange(collection: string, startKey: string, endKey: string): QueryResult<KV> {
    return queryResult(() => {
      checkSimpleKeys(startKey, endKey);
      return this.privateRangeQuery(collection, startKey || EMPTY_KEY_SUBSTITUTE, endKey || undefined);
    });
  }

  getPrivateDataByPartialCompositeKey(collection: string, objectType: string, attributes: string[]): QueryResult<KV> {
    return queryResult(() => {
      const prefix = this.createCompositeKey(objectType, attributes);
      return this.privateRangeQuery(collection, prefix, prefix + MAX_RUNE);
    });
  }

  getPrivateDataQueryResult(): Promise<never> {
    return this.getQueryResult();
  }
  setPrivateDataValidationParameter(): Promise<never> {
    return Promise.reject(stubError('key-level endorsement policies on private data are not supported by the DevLedger'));
  }
  getPrivateDataValidationParameter(): Promise<never> {
    return this.setPrivateDataValidationParameter();
  }

  // ---- events ---------------------------------------------------------------------------------------

  setEvent(name: string, payload: Uint8Array): void {
    if (typeof name !== 'string' || name.length === 0) throw stubError('Event name must be a non-empty string');
    this.simulation.setEvent(name, toBuffer(payload ?? Buffer.alloc(0), 'payload'));
  }

  // ---- plumbing -------------------------------------------------------------------------------------

  /**
   * Runs a range query and records it for the phantom check: what it returned, and the range it covered — all of
   * [start, end) when read to the end, else [start, last key returned] (a page that stopped early).
   */
  private rangeQuery(
    start: string,
    end: string | undefined,
    limit = Number.POSITIVE_INFINITY,
  ): { results: KV[]; next: string | undefined } {
    const results: KV[] = [];
    const reads: RangeEntry['reads'] = [];
    let next: string | undefined;
    for (const { key, row } of this.input.store.range(start, end, this.input.snapshot)) {
      if (results.length === limit) {
        next = key;
        break;
      }
      results.push({ namespace: this.input.chaincode, key, value: Buffer.from(row.value) });
      reads.push({ key, version: row.version });
    }
    const last = results[results.length - 1]?.key;
    // `key + U+0000` is the first key after `key`: an exclusive end that includes the last key returned.
    this.simulation.range({ start, end: next !== undefined && last !== undefined ? `${last}\u0000` : (end ?? ''), reads });
    return { results, next };
  }

  private page(start: string, end: string | undefined, pageSize: number): Page {
    if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw stubError('pageSize must be a positive integer');
    this.simulation.beforePaginatedQuery();
    // The bookmark is the key the next page starts at.
    const { results, next } = this.rangeQuery(start, end, pageSize);
    return { iterator: queryResult(() => results), metadata: { fetchedRecordsCount: results.length, bookmark: next ?? '' } };
  }

  private privateRangeQuery(collection: string, start: string, end: string | undefined): KV[] {
    this.requireMember(collection, 'read');
    this.simulation.beforePrivateQuery();
    if (!this.peerHolds(collection)) return [];
    return [...this.input.privateStore.range(collection, start, end, this.input.privateSnapshot)].map(({ key, row }) => ({
      namespace: `${this.input.chaincode}$$p${collection}`,
      key,
      value: Buffer.from(row.value),
    }));
  }

  private requireCollection(collection: string): readonly string[] {
    const members = this.input.collections.get(collection);
    if (!members) {
      throw stubError(`collection ${collection} could not be found in the chaincode definition of ${this.input.chaincode}`);
    }
    return members;
  }

  private requireMember(collection: string, access: 'read' | 'write'): void {
    const members = this.requireCollection(collection);
    if (!members.includes(this.input.creator.mspId)) {
      throw stubError(
        `tx creator does not have ${access} access permission on privatedata in chaincodeName:${this.input.chaincode} collectionName: ${collection}`,
      );
    }
  }

  private peerHolds(collection: string): boolean {
    return this.input.collections.get(collection)?.includes(this.input.peerMspId) ?? false;
  }
}
