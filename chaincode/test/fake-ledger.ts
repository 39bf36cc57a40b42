/**
 * A Map-backed stand-in for a peer: committed world state, private data collections, key history,
 * key-level endorsement policies, and per-transaction stubs with Fabric's semantics (a transaction reads
 * committed state only, never its own writes; only the last setEvent counts). Enough of
 * `ChaincodeStub` for the contract and for fabric-shim's `ChaincodeFromContract` dispatcher.
 * `commitBlock` validates several transactions endorsed against the same state the way the peer does
 * (key-level policies first, then MVCC read versions).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from 'fabric-contract-api';
import { type ChaincodeStub, type ClientIdentity, KeyEndorsementPolicy } from 'fabric-shim';

const NS = '\u0000';
const MAX_RUNE = '\u{10ffff}';

export interface Timestamp {
  seconds: number;
  nanos: number;
}

export interface Write {
  kind: 'put' | 'delete' | 'private-put' | 'validation';
  collection?: string;
  key: string;
  value?: Buffer;
}

export interface TxOptions {
  /** MSP ID of the submitting client. */
  mspId: string;
  /** MSP ID of the peer running the chaincode (CORE_PEER_LOCALMSPID); defaults to the client's. */
  peerMspId?: string | null;
  txId?: string;
  timestamp?: Timestamp;
  transient?: Record<string, string>;
  /** Function name and arguments, for dispatch through ChaincodeFromContract. */
  args?: string[];
  /** PEM certificate of the creator (needed only by fabric-shim's ClientIdentity). */
  certificate?: string;
}

interface HistoryEntry {
  txId: string;
  timestamp: Timestamp;
  isDelete: boolean;
  value: Buffer;
}

let txCounter = 0;

export function nextTxId(): string {
  txCounter += 1;
  return txCounter.toString(16).padStart(64, 'a');
}

function iterator<T>(items: T[]) {
  let index = 0;
  const it = {
    closed: false,
    async next(): Promise<{ value: T; done: boolean }> {
      if (index < items.length) return { value: items[index++] as T, done: false };
      return { value: undefined as unknown as T, done: true };
    },
    async close(): Promise<void> {
      it.closed = true;
    },
  };
  return it;
}

/** Promise of an iterator that is also async-iterable, like the shim's. */
function queryResult<T>(items: T[]) {
  const promise = Promise.resolve(iterator(items)) as Promise<ReturnType<typeof iterator<T>>> & AsyncIterable<T>;
  promise[Symbol.asyncIterator] = async function* () {
    yield* items;
  };
  return promise;
}

/** Fabric transaction validation codes the fake peer produces. */
export const VALIDATION = { VALID: 0, ENDORSEMENT_POLICY_FAILURE: 10, MVCC_READ_CONFLICT: 11 } as const;

export class FakeStub {
  readonly writes: Write[] = [];
  /** Public keys read, with the committed version seen (0 = absent), for MVCC validation. */
  readonly reads = new Map<string, number>();
  readonly events: Array<{ name: string; payload: Buffer }> = [];
  readonly txId: string;
  readonly timestamp: Timestamp;

  constructor(
    readonly world: FakeWorld,
    readonly options: TxOptions,
  ) {
    this.txId = options.txId ?? nextTxId();
    this.timestamp = options.timestamp ?? { seconds: 1_714_557_600, nanos: 123_456_789 };
  }

  // ---- identity and proposal -----------------------------------------------------------------------
  getTxID(): string {
    return this.txId;
  }
  getChannelID(): string {
    return 'twinledger';
  }
  getTxTimestamp(): { seconds: { toString(): string }; nanos: number } {
    // The real shim hands out a Long; anything with toString() behaves the same for the contract.
    const seconds = this.timestamp.seconds;
    return { seconds: { toString: () => String(seconds) }, nanos: this.timestamp.nanos };
  }
  getDateTimestamp(): Date {
    return new Date(this.timestamp.seconds * 1000 + Math.floor(this.timestamp.nanos / 1e6));
  }
  getMspID(): string {
    const peer = this.options.peerMspId === undefined ? this.options.mspId : this.options.peerMspId;
    if (peer === null) throw new Error('CORE_PEER_LOCALMSPID is unset in chaincode process');
    return peer;
  }
  getCreator(): { mspid: string; idBytes: Uint8Array } {
    if (!this.options.certificate) throw new Error('FakeStub: no certificate given for getCreator()');
    return { mspid: this.options.mspId, idBytes: Buffer.from(this.options.certificate) };
  }
  getTransient(): Map<string, Uint8Array> {
    return new Map(Object.entries(this.options.transient ?? {}).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
  }
  getBufferArgs(): Buffer[] {
    return (this.options.args ?? []).map((arg) => Buffer.from(arg, 'utf8'));
  }
  getArgs(): string[] {
    return this.options.args ?? [];
  }
  getStringArgs(): string[] {
    return this.getArgs();
  }
  getFunctionAndParameters(): { fcn: string; params: string[] } {
    const [fcn = '', ...params] = this.getArgs();
    return { fcn, params };
  }

  // ---- public state ---------------------------------------------------------------------------------
  async getState(key: string): Promise<Uint8Array> {
    if (!this.reads.has(key)) this.reads.set(key, this.world.versions.get(key) ?? 0);
    return this.world.state.get(key) ?? Buffer.alloc(0);
  }
  async putState(key: string, value: Uint8Array): Promise<void> {
    this.writes.push({ kind: 'put', key, value: Buffer.from(value) });
  }
  async deleteState(key: string): Promise<void> {
    this.writes.push({ kind: 'delete', key });
  }
  async setStateValidationParameter(key: string, ep: Uint8Array): Promise<void> {
    this.writes.push({ kind: 'validation', key, value: Buffer.from(ep) });
  }
  async getStateValidationParameter(key: string): Promise<Uint8Array> {
    return this.world.validation.get(key) ?? Buffer.alloc(0);
  }
  getStateByRange(startKey: string, endKey: string) {
    return queryResult(this.world.range(startKey, endKey === '' ? MAX_RUNE : endKey));
  }
  getStateByPartialCompositeKey(objectType: string, attributes: string[]) {
    const prefix = this.createCompositeKey(objectType, attributes);
    return queryResult(this.world.range(prefix, prefix + MAX_RUNE));
  }
  getHistoryForKey(key: string) {
    const entries = [...(this.world.history.get(key) ?? [])].reverse(); // Fabric 2.x: newest first
    return queryResult(entries.map((e) => ({ txId: e.txId, timestamp: e.timestamp, isDelete: e.isDelete, value: e.value })));
  }

  // ---- composite keys -------------------------------------------------------------------------------
  createCompositeKey(objectType: string, attributes: string[]): string {
    for (const part of [objectType, ...attributes]) {
      if (typeof part !== 'string' || part.length === 0) throw new Error('object type or attribute not a non-zero length string');
    }
    return `${NS}${objectType}${NS}${attributes.map((a) => `${a}${NS}`).join('')}`;
  }
  splitCompositeKey(key: string): { objectType: string | null; attributes: string[] } {
    if (!key.startsWith(NS)) return { objectType: null, attributes: [] };
    const [objectType = null, ...attributes] = key.slice(1, -1).split(NS);
    return { objectType, attributes };
  }

  // ---- private data ---------------------------------------------------------------------------------
  async getPrivateData(collection: string, key: string): Promise<Uint8Array> {
    const members = this.world.collectionMembers.get(collection);
    if (!members) throw new Error(`collection ${collection} could not be found`);
    if (!members.includes(this.getMspID())) {
      throw new Error(
        `tx creator does not have read access permission on privatedata in chaincodeName:twinledger collectionName: ${collection}`,
      );
    }
    return this.world.privateData.get(collection)?.get(key) ?? Buffer.alloc(0);
  }
  async putPrivateData(collection: string, key: string, value: Uint8Array): Promise<void> {
    if (!this.world.collectionMembers.has(collection)) throw new Error(`collection ${collection} could not be found`);
    this.writes.push({ kind: 'private-put', collection, key, value: Buffer.from(value) });
  }

  // ---- events ---------------------------------------------------------------------------------------
  setEvent(name: string, payload: Uint8Array): void {
    this.events.push({ name, payload: Buffer.from(payload) });
  }
}

export class FakeWorld {
  readonly state = new Map<string, Buffer>();
  /** Committed version of each public key (incremented by every write). */
  readonly versions = new Map<string, number>();
  readonly validation = new Map<string, Buffer>();
  readonly privateData = new Map<string, Map<string, Buffer>>();
  readonly history = new Map<string, HistoryEntry[]>();
  /** Committed chaincode events, in commit order (the last setEvent of each transaction). */
  readonly committedEvents: Array<{ txId: string; name: string; payload: Buffer }> = [];
  /** Collection name → member MSP IDs, read from the shipped collections_config.json. */
  readonly collectionMembers = new Map<string, string[]>(
    (
      JSON.parse(readFileSync(join(__dirname, '..', '..', 'collections_config.json'), 'utf8')) as Array<{ name: string; policy: string }>
    ).map((c) => [c.name, [...c.policy.matchAll(/'([^'.]+)\.member'/g)].map((m) => m[1] as string)]),
  );

  stub(options: TxOptions): FakeStub {
    return new FakeStub(this, options);
  }

  /** Keys in [start, end), sorted, as the peer's range queries return them. */
  range(start: string, end: string): Array<{ namespace: string; key: string; value: Buffer }> {
    return [...this.state.keys()]
      .filter((key) => key >= start && key < end)
      .sort()
      .map((key) => ({ namespace: 'twinledger', key, value: this.state.get(key) as Buffer }));
  }

  /**
   * Applies a successful transaction's writes, as the committing peer would. Like the peer's validation, a write
   * to a public key that carries a key-level endorsement policy (committed by an earlier transaction) needs an
   * endorsement by every organisation the policy lists; otherwise the whole transaction is invalid
   * (`ENDORSEMENT_POLICY_FAILURE`) and nothing is applied. `endorsers` are the MSP IDs of the endorsing peers;
   * by default the peer that ran `stub` (see `TxOptions.peerMspId`). The chaincode-level policy is not modelled.
   */
  commit(stub: FakeStub, endorsers: readonly string[] = [stub.options.peerMspId ?? stub.options.mspId]): void {
    const missing = this.policyFailure(stub, endorsers);
    if (missing) throw new Error(`ENDORSEMENT_POLICY_FAILURE: ${missing}`);
    this.apply(stub);
  }

  /**
   * Validates and commits transactions that were all endorsed against the current state, as one block, in order,
   * and returns each one's validation code. As on a Fabric 2.5 peer, key-level policies are checked first: a
   * transaction that writes a key whose validation parameter an earlier valid transaction of the same block set is
   * `ENDORSEMENT_POLICY_FAILURE` — so of two transactions that create the same key (and its policy) in one block
   * the later one fails that way, not with a read conflict. Then a transaction that read a key changed since is
   * `MVCC_READ_CONFLICT`.
   */
  commitBlock(stubs: readonly FakeStub[]): number[] {
    const policiesSetInBlock = new Set<string>();
    return stubs.map((stub) => {
      const touched = stub.writes.filter((write) => write.kind !== 'private-put').map((write) => write.key);
      if (touched.some((key) => policiesSetInBlock.has(key)) || this.policyFailure(stub, [stub.options.peerMspId ?? stub.options.mspId])) {
        return VALIDATION.ENDORSEMENT_POLICY_FAILURE;
      }
      for (const [key, version] of stub.reads) if ((this.versions.get(key) ?? 0) !== version) return VALIDATION.MVCC_READ_CONFLICT;
      this.apply(stub);
      for (const write of stub.writes) if (write.kind === 'validation') policiesSetInBlock.add(write.key);
      return VALIDATION.VALID;
    });
  }

  /** What is missing for the key-level policies of the keys `stub` writes, or undefined when they are met. */
  private policyFailure(stub: FakeStub, endorsers: readonly string[]): string | undefined {
    for (const write of stub.writes) {
      if (write.kind === 'private-put') continue;
      const parameter = this.validation.get(write.key);
      if (!parameter || parameter.length === 0) continue;
      const missing = new KeyEndorsementPolicy(parameter).listOrgs().filter((org: string) => !endorsers.includes(org));
      if (missing.length > 0) {
        return (
          `transaction ${stub.txId} writes ${JSON.stringify(write.key)}, whose key-level policy ` +
          `needs ${missing.join(', ')}; endorsed by ${endorsers.join(', ') || 'nobody'}`
        );
      }
    }
    return undefined;
  }

  private apply(stub: FakeStub): void {
    for (const write of stub.writes) {
      if (write.kind === 'put' || write.kind === 'delete') {
        if (write.kind === 'put') this.state.set(write.key, write.value as Buffer);
        else this.state.delete(write.key);
        this.versions.set(write.key, (this.versions.get(write.key) ?? 0) + 1);
        const entries = this.history.get(write.key) ?? [];
        entries.push({
          txId: stub.txId,
          timestamp: stub.timestamp,
          isDelete: write.kind === 'delete',
          value: write.value ?? Buffer.alloc(0),
        });
        this.history.set(write.key, entries);
      } else if (write.kind === 'validation') {
        this.validation.set(write.key, write.value as Buffer);
      } else {
        const collection = write.collection as string;
        const data = this.privateData.get(collection) ?? new Map<string, Buffer>();
        data.set(write.key, write.value as Buffer);
        this.privateData.set(collection, data);
      }
    }
    const event = stub.events.at(-1);
    if (event) this.committedEvents.push({ txId: stub.txId, ...event });
  }
}

/** A transaction context for calling contract functions directly. */
export function contextFor(stub: FakeStub): Context {
  const ctx = new Context();
  ctx.stub = stub as unknown as ChaincodeStub;
  const mspId = stub.options.mspId;
  ctx.clientIdentity = {
    getMSPID: () => mspId,
    getID: () => `x509::/CN=user@${mspId}::/CN=ca.${mspId}`,
    getIDBytes: () => Buffer.alloc(0),
    getAttributeValue: () => null,
    assertAttributeValue: () => false,
  } as unknown as ClientIdentity;
  return ctx;
}

/** A throw-away self-signed EC P-256 certificate (what Fabric CAs issue), for fabric-shim's ClientIdentity. */
export function testCertificate(commonName: string): string {
  return execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-subj',
      `/CN=${commonName}/O=TwinLedger test`,
      '-days',
      '1',
      '-outform',
      'PEM',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
