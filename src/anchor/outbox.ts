/**
 * The anchorer's durable outbox: every record with its envelope, its payload bytes until the store has them, the
 * batches closed over the records and what the ledger confirmed. One LMDB environment (`outbox.mdb`) with synchronous
 * commits: a write's promise resolves once it is on disk, and the writes of one event-loop turn share one commit
 * (LMDB's write batching), so many concurrent appends pay for one fsync.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { AnchorMode, LedgerLocation, RecordEnvelope } from './types.js';

/** A record as the outbox keeps it. */
export interface OutboxRecord {
  envelope: RecordEnvelope;
  mode: AnchorMode;
  /** Per-record mode: where the ledger anchored it. */
  anchored?: LedgerLocation;
}

/** A closed batch: the batch-mode records `firstSeq..lastSeq` of its stream, in order, as the leaves of one tree. */
export interface OutboxBatch {
  /** 1, 2, ... per stream. */
  number: number;
  batchId: string;
  firstSeq: number;
  lastSeq: number;
  root: string;
  treeSize: number;
  prevRoot: string;
  prevBatchId: string | null;
  /** Set once the ledger confirmed the batch. */
  anchored?: LedgerLocation;
}

/** What a stream is, and how far batching has got. */
export interface OutboxStream {
  tenant: string;
  name: string;
  /** Fixed by the stream's first record: a stream anchors per batch or per record, never both. */
  mode: AnchorMode;
  /** The first sequence number not yet in a batch (or anchored alone). */
  nextUnbatchedSeq: number;
}

/** `[stream, seq]`; batches are keyed by their last record's seq, so the batch of a record is one range lookup. */
type RecordKey = [string, number];

export class Outbox {
  private constructor(
    private readonly root: RootDatabase,
    private readonly records: Database<OutboxRecord, RecordKey>,
    private readonly payloads: Database<Buffer, RecordKey>,
    private readonly batches: Database<OutboxBatch, RecordKey>,
    private readonly streams: Database<OutboxStream, string>,
    private readonly keys: Database<number, [string, string]>,
    readonly path: string,
  ) {}

  /** Loads LMDB on first use (a native addon: nobody who imports the SDK without anchoring should pay for it). */
  static async open(path: string, durable: boolean): Promise<Outbox> {
    const { open } = await import('lmdb');
    const root = open({ path, overlappingSync: false, noSync: !durable, maxDbs: 8 });
    return new Outbox(
      root,
      root.openDB<OutboxRecord, RecordKey>('records', {}),
      root.openDB<Buffer, RecordKey>('payloads', { encoding: 'binary' }),
      root.openDB<OutboxBatch, RecordKey>('batches', {}),
      root.openDB<OutboxStream, string>('streams', {}),
      root.openDB<number, [string, string]>('idempotency-keys', {}),
      path,
    );
  }

  /** Stores a new record, its payload and its idempotency key (if any) in one commit; resolves once all are durable. */
  async append(
    stream: string,
    info: Omit<OutboxStream, 'nextUnbatchedSeq'>,
    record: OutboxRecord,
    payload: Uint8Array,
    idempotencyKey?: string,
  ): Promise<void> {
    const key: RecordKey = [stream, record.envelope.seq];
    await this.root.transaction(() => {
      if (this.streams.get(stream) === undefined) this.streams.put(stream, { ...info, nextUnbatchedSeq: 1 });
      this.records.put(key, record);
      this.payloads.put(key, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
      if (idempotencyKey !== undefined) this.keys.put([stream, idempotencyKey], record.envelope.seq);
    });
  }

  /** The sequence number of the record a stream appended with this idempotency key, if any. */
  seqOfKey(stream: string, idempotencyKey: string): number | undefined {
    return this.keys.get([stream, idempotencyKey]);
  }

  streamNames(): string[] {
    return [...this.streams.getKeys()];
  }

  stream(stream: string): OutboxStream | undefined {
    return this.streams.get(stream);
  }

  /** The highest sequence number of a stream, 0 when it has none. */
  lastSeq(stream: string): number {
    for (const key of this.records.getKeys({ start: [stream, Number.MAX_SAFE_INTEGER], end: [stream, 0], reverse: true, limit: 1 })) {
      return key[1];
    }
    return 0;
  }

  record(stream: string, seq: number): OutboxRecord | undefined {
    return this.records.get([stream, seq]);
  }

  /** Records `from..to` (inclusive) of a stream, in order. */
  *recordRange(stream: string, from: number, to = Number.MAX_SAFE_INTEGER): Iterable<OutboxRecord> {
    for (const { value } of this.records.getRange({ start: [stream, from], end: [stream, to + 1] })) yield value;
  }

  payload(stream: string, seq: number): Buffer | undefined {
    return this.payloads.get([stream, seq]);
  }

  /** Whether the store has the record's payload: the outbox drops its copy once the store confirmed it. */
  uploaded(stream: string, seq: number): boolean {
    return !this.payloads.doesExist([stream, seq]);
  }

  /** The store holds these payloads durably: drop the local copies, in one commit. */
  async markUploaded(records: ReadonlyArray<[string, number]>): Promise<void> {
    await this.root.transaction(() => {
      for (const key of records) this.payloads.remove(key);
    });
  }

  /** Per-record mode: the ledger anchored the record. */
  async markRecordAnchored(stream: string, seq: number, anchored: LedgerLocation): Promise<void> {
    const key: RecordKey = [stream, seq];
    await this.root.transaction(() => {
      const record = this.records.get(key);
      if (record !== undefined) this.records.put(key, { ...record, anchored });
      const info = this.streams.get(stream);
      if (info !== undefined) this.advance(stream, info, seq + 1);
    });
  }

  /** Closes a batch: stores it and moves the stream's batching position past it, in one commit. */
  async closeBatch(stream: string, batch: OutboxBatch): Promise<void> {
    await this.root.transaction(() => {
      this.batches.put([stream, batch.lastSeq], batch);
      const info = this.streams.get(stream);
      if (info !== undefined) this.advance(stream, info, batch.lastSeq + 1);
    });
  }

  private advance(stream: string, info: OutboxStream, next: number): void {
    if (next > info.nextUnbatchedSeq) this.streams.put(stream, { ...info, nextUnbatchedSeq: next });
  }

  async markBatchAnchored(stream: string, batch: OutboxBatch, anchored: LedgerLocation): Promise<void> {
    const key: RecordKey = [stream, batch.lastSeq];
    await this.root.transaction(() => {
      const batch = this.batches.get(key);
      if (batch !== undefined) this.batches.put(key, { ...batch, anchored });
    });
  }

  /** The stream's batches whose last record is `fromSeq` or later, in order. */
  *batchRange(stream: string, fromSeq = 1): Iterable<OutboxBatch> {
    for (const { value } of this.batches.getRange({ start: [stream, fromSeq], end: [stream, Number.MAX_SAFE_INTEGER] })) yield value;
  }

  /** The stream's closed batches the ledger has not confirmed yet, in order (batches are anchored in order). */
  unanchoredBatches(stream: string): OutboxBatch[] {
    const found: OutboxBatch[] = [];
    for (const { value } of this.batches.getRange({ start: [stream, Number.MAX_SAFE_INTEGER], end: [stream, 0], reverse: true })) {
      if (value.anchored !== undefined) break;
      found.unshift(value);
    }
    return found;
  }

  lastBatch(stream: string): OutboxBatch | undefined {
    for (const { value } of this.batches.getRange({
      start: [stream, Number.MAX_SAFE_INTEGER],
      end: [stream, 0],
      reverse: true,
      limit: 1,
    })) {
      return value;
    }
    return undefined;
  }

  /** The batch holding record `seq`, if it is closed: the first batch whose last record is `seq` or later. */
  batchOf(stream: string, seq: number): OutboxBatch | undefined {
    for (const batch of this.batchRange(stream, seq)) return batch.firstSeq <= seq ? batch : undefined;
    return undefined;
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
