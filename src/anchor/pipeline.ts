/**
 * The anchorer's background work, per stream and in order: upload each payload to the store, close batches (by
 * leaves, bytes or age) over uploaded records, anchor each closed batch (or each record, in per-record mode) until the
 * ledger confirms. Every step is recorded in the outbox before the next one starts, so a crash between any two steps is
 * resumed on the next open; every ledger call is idempotent (batch IDs derive from the content).
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import { ExponentialBackoff } from '../core/retry.js';
import { ChaincodeError } from '../ledger/errors.js';
import { type Committed, GENESIS_ROOT, type Ledger } from '../ledger/types.js';
import { merkleRoot } from '../merkle/index.js';
import type { CidOptions, PayloadStore } from '../offchain/types.js';
import { OutboxStateError, PayloadCidMismatchError } from './errors.js';
import { envelopeLeafHash } from './envelope.js';
import { batchMeta, recordKey, recordMeta } from './meta.js';
import type { Outbox, OutboxBatch, OutboxStream } from './outbox.js';
import type { LedgerLocation } from './types.js';

export interface BatchLimits {
  maxLeaves: number;
  maxWaitMs: number;
  maxBytes: number;
}

export interface PipelineOptions {
  outbox: Outbox;
  ledger: Ledger;
  store: PayloadStore;
  cid: CidOptions;
  batch: BatchLimits;
  uploadConcurrency: number;
  retry: { initialDelayMs: number; maxDelayMs: number };
  logger: Logger;
  /** Called after records were anchored (a batch or one record), with the number of records. */
  onAnchored(stream: string, records: number): void;
}

/** A record of the backlog, as the pipeline tracks it in memory (the outbox has the rest). */
export interface PendingRecord {
  seq: number;
  /** Its outbox write committed (until then it is neither uploaded nor batched). */
  durable: boolean;
  size: number;
  appendedAt: number;
  /** The envelope's leaf hash (hex) and payload CID, kept so that uploading and closing read no envelope back. */
  leafHash: string;
  payloadCid: string;
  uploaded: boolean;
  /** When the store confirmed it (ms since the epoch); batches close `maxWaitMs` after their first record's upload. */
  uploadedAt?: number;
}

/** Records per upload round at most: each round ends with one store flush and one outbox commit. */
const UPLOAD_ROUND_RECORDS = 2_048;

interface UploadItem {
  work: StreamWork;
  record: PendingRecord;
}

export interface PipelineError {
  at: string;
  stream: string;
  phase: 'upload' | 'close' | 'anchor';
  message: string;
}

/** What the pipeline holds for one stream: records not yet in a batch, batches not yet anchored. */
export interface StreamWork {
  stream: string;
  info: OutboxStream;
  pending: PendingRecord[];
  unanchored: OutboxBatch[];
  lastBatch: OutboxBatch | undefined;
  /** A stream the ledger refused for good (another writer, a conflicting batch): nothing more is anchored. */
  halted?: string;
}

export class Pipeline {
  readonly streams = new Map<string, StreamWork>();
  lastError: PipelineError | undefined;
  private wake: (() => void) | undefined;
  private stopping = false;
  private draining = false;
  /** When each failed step (by key) may run again, and how often it failed in a row. */
  private delays = new Map<string, number>();
  private attempts = new Map<string, number>();
  private readonly backoffPolicy: ExponentialBackoff;
  private running: Promise<void> | undefined;

  constructor(private readonly options: PipelineOptions) {
    // Background work never gives up: the policy's delays, for as many attempts as it takes.
    this.backoffPolicy = new ExponentialBackoff({ ...options.retry, maxAttempts: Number.MAX_SAFE_INTEGER, jitter: 'equal' });
  }

  start(): void {
    this.running ??= Promise.all([this.loop(), this.uploadLoop()]).then(() => undefined);
  }

  /** New work arrived. */
  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    this.uploadWake?.();
  }

  /** With `drain`, closes every open batch and anchors everything before it stops (as long as the ledger answers). */
  async stop(drain: boolean): Promise<void> {
    this.draining = drain;
    if (!drain) this.stopping = true;
    this.notify();
    await this.running;
  }

  /** Records appended and not yet anchored, in this stream. */
  backlogOf(work: StreamWork): number {
    return work.pending.length + work.unanchored.reduce((sum, batch) => sum + batch.treeSize, 0);
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.stopping) return;
      const progressed = await this.step();
      if (this.draining && !this.hasWork()) return;
      if (!progressed) await this.idle();
    }
  }

  private hasWork(): boolean {
    for (const work of this.streams.values()) {
      if (work.halted === undefined && (work.pending.length > 0 || work.unanchored.length > 0)) return true;
    }
    return false;
  }

  /** Waits for new work, the next batch deadline or the next retry, whichever comes first. */
  private async idle(): Promise<void> {
    let wait = 1_000;
    const now = Date.now();
    for (const work of this.streams.values()) {
      const oldest = work.pending[0];
      if (oldest !== undefined && work.info.mode === 'batch')
        wait = Math.min(wait, Math.max(1, oldest.appendedAt + this.options.batch.maxWaitMs - now));
    }
    for (const until of this.delays.values()) wait = Math.min(wait, Math.max(1, until - now));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, wait);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One pass over all streams; true when something moved. */
  private async step(): Promise<boolean> {
    let progressed = false;
    const tasks: Array<Promise<boolean>> = [];
    for (const work of this.streams.values()) {
      if (work.halted !== undefined) continue;
      tasks.push(this.advance(work));
    }
    for (const moved of await Promise.all(tasks)) progressed ||= moved;
    return progressed;
  }

  private backingOff(key: string): boolean {
    const until = this.delays.get(key);
    return until !== undefined && until > Date.now();
  }

  private failed(key: string, work: StreamWork, phase: PipelineError['phase'], error: unknown): void {
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    const delay = this.backoffPolicy.nextDelayMs(attempt, error) ?? this.options.retry.maxDelayMs;
    this.attempts.set(key, attempt);
    this.delays.set(key, Date.now() + delay);
    const message = error instanceof Error ? error.message : String(error);
    this.lastError = { at: new Date().toISOString(), stream: work.stream, phase, message };
    this.options.logger.warn(`anchor ${phase} failed; retrying`, { stream: work.stream, attempt, delayMs: delay, error: message });
  }

  private succeeded(key: string): void {
    this.delays.delete(key);
    this.attempts.delete(key);
  }

  /**
   * Uploads payloads in rounds, across streams: up to `UPLOAD_ROUND_RECORDS` records, `uploadConcurrency` puts in
   * flight, then one `flush()` of the store (where it has one), then one outbox commit that drops the local copies. So a
   * record counts as uploaded only once the store holds it durably, at the cost of one flush and one commit per round.
   */
  private async uploadLoop(): Promise<void> {
    while (!this.stopping) {
      const round = this.uploadRound();
      if (round.length === 0) {
        if (this.draining && !this.hasWork()) return;
        await new Promise<void>((resolve) => {
          this.uploadWake = resolve;
          setTimeout(resolve, 100);
        });
        this.uploadWake = undefined;
        continue;
      }
      const { done, failure } = await this.putAll(round);
      try {
        if (done.length > 0) {
          await this.options.store.flush?.();
          await this.options.outbox.markUploaded(done.map(({ work, record }) => [work.stream, record.seq]));
          const now = Date.now();
          for (const { record } of done) {
            record.uploaded = true;
            record.uploadedAt = now;
          }
        }
        if (failure !== undefined) throw failure;
        this.succeeded('upload');
      } catch (error) {
        this.failed('upload', round[0]!.work, 'upload', error);
        await this.backoff('upload');
      }
      this.notify();
    }
  }

  /** Puts a round's payloads, `uploadConcurrency` at a time; what was stored, and the first failure. */
  private async putAll(round: UploadItem[]): Promise<{ done: UploadItem[]; failure: unknown }> {
    const stored = new Array<boolean>(round.length).fill(false);
    let failure: unknown;
    let next = 0;
    const worker = async () => {
      while (next < round.length && failure === undefined && !this.stopping) {
        const index = next++;
        const { work, record } = round[index]!;
        try {
          await this.put(work, record);
          stored[index] = true;
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.uploadConcurrency, round.length) }, worker));
    return { done: round.filter((_, index) => stored[index]), failure };
  }

  private uploadWake: (() => void) | undefined;

  /** The next uploads, shared round-robin between the streams (from a rotating start), so a busy stream never starves another. */
  private uploadRound(): UploadItem[] {
    const streams = [...this.streams.values()].filter((work) => work.halted === undefined);
    const start = streams.length === 0 ? 0 : this.roundStart++ % streams.length;
    const limit = UPLOAD_ROUND_RECORDS;
    const queues = [...streams.slice(start), ...streams.slice(0, start)].map((work) => {
      const waiting: PendingRecord[] = [];
      for (const record of work.pending) {
        if (!record.durable || waiting.length >= limit) break;
        if (!record.uploaded) waiting.push(record);
      }
      return { work, waiting };
    });
    const round: UploadItem[] = [];
    for (let depth = 0; round.length < limit; depth += 1) {
      let added = false;
      for (const { work, waiting } of queues) {
        const record = waiting[depth];
        if (record === undefined || round.length >= limit) continue;
        round.push({ work, record });
        added = true;
      }
      if (!added) break;
    }
    return round;
  }

  private roundStart = 0;

  private async backoff(key: string): Promise<void> {
    const until = this.delays.get(key) ?? 0;
    while (!this.stopping && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, Math.min(50, until - Date.now())));
  }

  private async put(work: StreamWork, record: PendingRecord): Promise<void> {
    const { outbox, store, cid } = this.options;
    const bytes = outbox.payload(work.stream, record.seq);
    if (bytes === undefined) throw new OutboxStateError(`the payload of record ${work.stream} #${record.seq} is missing from the outbox`);
    const put = await store.put(bytes, { cid, pin: true });
    if (put.cid !== record.payloadCid) throw new PayloadCidMismatchError(`${work.stream} #${record.seq}`, record.payloadCid, put.cid);
  }

  /** Closes what is due and anchors the oldest unanchored batch or record of one stream. */
  private async advance(work: StreamWork): Promise<boolean> {
    let moved = false;
    if (work.info.mode === 'batch') {
      if (!this.backingOff(`close:${work.stream}`)) {
        try {
          while (await this.closeDue(work)) moved = true;
          this.succeeded(`close:${work.stream}`);
        } catch (error) {
          this.failed(`close:${work.stream}`, work, 'close', error);
        }
      }
      const batch = work.unanchored[0];
      if (batch !== undefined && !this.backingOff(`anchor:${work.stream}`)) {
        try {
          await this.anchorBatch(work, batch);
          this.succeeded(`anchor:${work.stream}`);
          moved = true;
        } catch (error) {
          this.anchorFailed(work, error);
        }
      }
    } else {
      const record = work.pending[0];
      if (record?.uploaded && !this.backingOff(`anchor:${work.stream}`)) {
        try {
          await this.anchorRecord(work, record);
          this.succeeded(`anchor:${work.stream}`);
          moved = true;
        } catch (error) {
          this.anchorFailed(work, error);
        }
      }
    }
    return moved;
  }

  private anchorFailed(work: StreamWork, error: unknown): void {
    if (error instanceof ChaincodeError && error.reason !== 'UNKNOWN') {
      work.halted = error.message;
      this.lastError = { at: new Date().toISOString(), stream: work.stream, phase: 'anchor', message: error.message };
      this.options.logger.error('anchoring of a stream stopped: the ledger refused it', { stream: work.stream, error: error.message });
      this.options.onAnchored(work.stream, 0); // wakes proof() waiters, which report the halt
      return;
    }
    this.failed(`anchor:${work.stream}`, work, 'anchor', error);
  }

  /** Closes the next batch when it is due; true when one was closed. */
  private async closeDue(work: StreamWork): Promise<boolean> {
    const { maxLeaves, maxBytes, maxWaitMs } = this.options.batch;
    let count = 0;
    let bytes = 0;
    for (const record of work.pending) {
      if (!record.uploaded || count >= maxLeaves || (count > 0 && bytes + record.size > maxBytes)) break;
      count += 1;
      bytes += record.size;
    }
    if (count === 0) return false;
    const next = work.pending[count];
    const full = count >= maxLeaves || bytes >= maxBytes || (next?.uploaded === true && bytes + next.size > maxBytes);
    // Age counts from the upload, not the append: when uploads lag behind, a batch still collects maxWaitMs worth of them.
    const first = work.pending[0]!;
    const due = Date.now() - (first.uploadedAt ?? first.appendedAt) >= maxWaitMs;
    if (!full && !due && !this.draining) return false;
    const firstSeq = first.seq;
    const last = work.pending[count - 1]!.seq;
    const root = Buffer.from(merkleRoot(work.pending.slice(0, count).map((record) => record.leafHash))).toString('hex');
    const previous = work.lastBatch ?? (await this.ledgerHead(work));
    const batch: OutboxBatch = {
      number: (work.lastBatch?.number ?? 0) + 1,
      batchId: batchIdOf(work.stream, firstSeq, root),
      firstSeq,
      lastSeq: last,
      root,
      treeSize: count,
      prevRoot: previous?.root ?? GENESIS_ROOT,
      prevBatchId: previous?.batchId ?? null,
    };
    await this.options.outbox.closeBatch(work.stream, batch);
    work.pending.splice(0, count);
    work.unanchored.push(batch);
    work.lastBatch = batch;
    work.info = { ...work.info, nextUnbatchedSeq: last + 1 };
    return true;
  }

  /** The stream's head on the ledger, for the first batch of an outbox stream (the ledger stream may exist already). */
  private async ledgerHead(work: StreamWork): Promise<{ root: string; batchId: string | null } | undefined> {
    const head = await this.options.ledger.getHead(work.stream);
    return head.seq === 0 ? undefined : { root: head.root, batchId: head.batchId };
  }

  private async anchorBatch(work: StreamWork, batch: OutboxBatch): Promise<void> {
    const { ledger, outbox } = this.options;
    let location: LedgerLocation;
    try {
      const anchored = await ledger.anchorBatch({
        stream: work.stream,
        batchId: batch.batchId,
        root: batch.root,
        treeSize: batch.treeSize,
        prevRoot: batch.prevRoot,
        meta: { ...batchMeta(batch.firstSeq, batch.lastSeq, batch.prevBatchId) },
      });
      location = { txId: anchored.txId, timestamp: anchored.timestamp, batchSeq: anchored.seq, ...blockOf(anchored) };
    } catch (error) {
      // A reply lost after the commit: the batch is on the ledger, and the head moved past it.
      if (!(error instanceof ChaincodeError && error.reason === 'CHAIN_MISMATCH')) throw error;
      const held = await ledger.getBatch(work.stream, batch.batchId);
      if (held === undefined || held.root !== batch.root || held.treeSize !== batch.treeSize) throw error;
      location = { txId: held.txId, timestamp: held.timestamp, batchSeq: held.seq };
    }
    await outbox.markBatchAnchored(work.stream, batch, location);
    batch.anchored = location;
    work.unanchored.shift();
    this.options.onAnchored(work.stream, batch.treeSize);
  }

  private async anchorRecord(work: StreamWork, record: PendingRecord): Promise<void> {
    const { ledger, outbox } = this.options;
    const stored = outbox.record(work.stream, record.seq);
    if (stored === undefined) return;
    const anchored = await ledger.anchorRecord({
      key: recordKey(work.stream, record.seq),
      sha256: envelopeLeafHash(stored.envelope),
      cid: stored.envelope.payloadCid,
      meta: { ...recordMeta(work.stream, record.seq) },
    });
    await outbox.markRecordAnchored(work.stream, record.seq, { txId: anchored.txId, timestamp: anchored.timestamp, ...blockOf(anchored) });
    work.pending.shift();
    work.info = { ...work.info, nextUnbatchedSeq: record.seq + 1 };
    this.options.onAnchored(work.stream, 1);
  }
}

/** The block the ledger reported, if it did (a batch found on the ledger after a lost reply has none). */
function blockOf(committed: Committed): { block?: string } {
  return committed.block === undefined ? {} : { block: committed.block };
}

/** A batch ID derived from the content: the same batch closed again after a crash gets the same ID. */
export function batchIdOf(stream: string, firstSeq: number, root: string): string {
  const digest = createHash('sha256').update(`${stream}\n${firstSeq}\n${root}`).digest('hex');
  return `${firstSeq}-${digest.slice(0, 24)}`;
}
