/**
 * `Anchorer`: appends twin records to a durable outbox and anchors them on the ledger in Merkle batches (or one by
 * one), with their payloads in the payload store. `append` resolves once the record and its payload are on the local
 * disk; everything after that happens in the background (pipeline.ts) and survives crashes.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { configFromEnv } from '../core/config.js';
import { TwinLedgerError, ValidationError } from '../core/errors.js';
import { requireText } from '../core/ids.js';
import type { LockFile } from '../core/lock-file.js';
import { type CallOptions, durationMs, integerOption, validateCallOptions } from '../core/options.js';
import type { Ledger } from '../ledger/types.js';
import { MerkleTree } from '../merkle/index.js';
import { cidText } from '../offchain/cid.js';
import { computeCid, singleRawBlockCidOf } from '../offchain/compute-cid.js';
import type { CidOptions, PayloadStore } from '../offchain/types.js';
import type { ResolvedCidOptions } from '../offchain/cid.js';
import { BacklogFullError, OutboxStateError, StreamHaltedError } from './errors.js';
import { builtEnvelopeLeafHash, envelopeBytes, envelopeLeafHash } from './envelope.js';
import { Outbox } from './outbox.js';
import { payloadBytes } from './payload.js';
import { openLedger, openStore } from './backends.js';
import { lockDataDir, unlockDataDir } from './data-dir.js';
import { type AnchorerOptions, STREAM_NAME, resolveOptions } from './options.js';
import { type PendingRecord, Pipeline, type PipelineError, type StreamWork } from './pipeline.js';
import { SaltPool } from './salt.js';
import { ChangeSignal, closedError } from './signals.js';
import {
  type AnchorMode,
  type AnchorProof,
  type AppendInput,
  type AppendOptions,
  type BatchProof,
  RECORD_KINDS,
  type Receipt,
  type RecordEnvelope,
  type RecordProof,
} from './types.js';

export interface StreamStatus {
  stream: string;
  mode: AnchorMode;
  /** Highest sequence number appended. */
  lastSeq: number;
  /** Records appended and not yet anchored. */
  backlog: number;
  /** The last batch the ledger confirmed (batch mode). */
  lastAnchoredBatch?: { batchId: string; root: string; lastSeq: number; txId: string; batchSeq?: number };
  /** Why the ledger refused the stream for good, if it did. */
  halted?: string;
}

export interface AnchorerStatus {
  backlog: number;
  maxBacklog: number;
  streams: StreamStatus[];
  lastError?: PipelineError;
}

export class Anchorer {
  private readonly streams: Map<string, StreamWork>;
  private readonly nextSeq = new Map<string, number>();
  private readonly anchoredSignal = new ChangeSignal();
  private readonly trees = new Map<string, MerkleTree>();
  private readonly salts = new SaltPool();
  /** Appends with an idempotency key whose outbox write is under way, by `stream\nkey`: a second one waits for it. */
  private readonly keyedAppends = new Map<string, Promise<Receipt>>();
  private backlog = 0;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly outbox: Outbox,
    private readonly pipeline: Pipeline,
    private readonly settings: {
      mode: AnchorMode;
      maxBacklog: number;
      instanceId: string | undefined;
      cid: CidOptions;
      resolvedCid: ResolvedCidOptions;
      timeoutMs: number;
    },
    private readonly owned: { ledger?: Ledger; store?: PayloadStore; lock: LockFile; dataDir: string },
    /** The ledger the records are anchored on: the one given, or the one the anchorer opened (and closes). */
    readonly ledger: Ledger,
    /** The payload store the payloads go to: the one given, or the one the anchorer opened (and closes). */
    readonly store: PayloadStore,
  ) {
    this.streams = pipeline.streams;
  }

  /**
   * The anchorer a deployment's environment describes (`configFromEnv`, e.g. after Cloud2Edge's env script): Fabric when
   * `TWINLEDGER_FABRIC_PEER` is set, Kubo when `TWINLEDGER_KUBO_URL` is set, the embedded dev ledger and store
   * otherwise; the data directory from `TWINLEDGER_DATA_DIR`, the logger from `TWINLEDGER_LOG_LEVEL`. `overrides` win.
   */
  static async fromEnv(
    overrides: AnchorerOptions = {},
    env: Readonly<Record<string, string | undefined>> = process.env,
  ): Promise<Anchorer> {
    if (typeof overrides !== 'object' || overrides === null)
      throw new ValidationError('overrides', 'must be an object of Anchorer options');
    const config = configFromEnv(env);
    const options: AnchorerOptions = { ...overrides };
    if (options.dataDir === undefined && config.dataDir !== undefined) options.dataDir = config.dataDir;
    if (options.logger === undefined && config.logger !== undefined) options.logger = config.logger;
    if (options.ledger === undefined && options.fabric === undefined && config.fabric !== undefined) options.fabric = config.fabric;
    if (options.store === undefined && options.kubo === undefined && config.kubo !== undefined) options.kubo = config.kubo;
    return Anchorer.open(options);
  }

  /** Opens the outbox in `dataDir` and resumes whatever a previous run left unfinished. */
  static async open(options: AnchorerOptions = {}): Promise<Anchorer> {
    const { settings, batch, retry, uploadConcurrency, logger, durable } = resolveOptions(options);
    const dataDir = resolve(options.dataDir ?? '.twinledger');
    const lock = await lockDataDir(dataDir);
    const owned: { ledger?: Ledger; store?: PayloadStore; lock: LockFile; dataDir: string } = { lock, dataDir };
    let outbox: Outbox | undefined;
    try {
      outbox = await Outbox.open(join(dataDir, 'outbox.mdb'), durable);
      const ledger = options.ledger ?? (owned.ledger = await openLedger(options.fabric, dataDir, logger));
      const store = options.store ?? (owned.store = await openStore(options.kubo, dataDir, logger));
      const anchorer: Anchorer = new Anchorer(
        outbox,
        new Pipeline({
          outbox,
          ledger,
          store,
          cid: settings.cid,
          batch,
          uploadConcurrency,
          retry,
          logger,
          onAnchored: (_stream, records) => anchorer.anchored(records),
        }),
        settings,
        owned,
        ledger,
        store,
      );
      anchorer.resume();
      return anchorer;
    } catch (error) {
      await outbox?.close();
      await owned.store?.close();
      await owned.ledger?.close();
      await unlockDataDir(dataDir, lock);
      throw error;
    }
  }

  /** Loads what the outbox holds that is not anchored yet, and starts the background work. */
  private resume(): void {
    for (const stream of this.outbox.streamNames()) {
      const info = this.outbox.stream(stream)!;
      const pending = [...this.outbox.recordRange(stream, info.nextUnbatchedSeq)].map((record) => ({
        seq: record.envelope.seq,
        durable: true,
        size: record.envelope.payloadSize,
        appendedAt: Date.parse(record.envelope.ts),
        leafHash: envelopeLeafHash(record.envelope),
        payloadCid: record.envelope.payloadCid,
        uploaded: this.outbox.uploaded(stream, record.envelope.seq),
      }));
      const unanchored = this.outbox.unanchoredBatches(stream);
      const work: StreamWork = { stream, info, pending, unanchored, lastBatch: this.outbox.lastBatch(stream) };
      this.streams.set(stream, work);
      this.nextSeq.set(stream, this.outbox.lastSeq(stream) + 1);
      this.backlog += this.pipeline.backlogOf(work);
    }
    this.pipeline.start();
  }

  /**
   * Appends a record. Resolves with its receipt once the record and its payload bytes are durable in the outbox;
   * uploading, batching and anchoring follow in the background. When the backlog is full it waits for room (or fails
   * with `BacklogFullError`, with `whenFull: 'fail'`).
   */
  async append(input: AppendInput, options: AppendOptions = {}): Promise<Receipt> {
    this.assertUsable('append');
    validateCallOptions(options);
    if (options.whenFull !== undefined && options.whenFull !== 'wait' && options.whenFull !== 'fail') {
      throw new ValidationError('options.whenFull', 'must be "wait" or "fail"');
    }
    const { tenant, thingId, kind, mode, stream, name, idempotencyKey } = this.checkInput(input);
    const earlier = idempotencyKey === undefined ? undefined : this.earlierAppend(stream, idempotencyKey);
    if (earlier !== undefined) return earlier;
    const { bytes, contentType } = payloadBytes(input.payload, input.contentType);
    if (this.backlog >= this.settings.maxBacklog) {
      if (options.whenFull === 'fail') throw new BacklogFullError(this.backlog, this.settings.maxBacklog);
      await this.anchoredSignal.until(
        'append (waiting for room in the backlog)',
        () => (this.backlog < this.settings.maxBacklog ? true : undefined),
        {
          signal: options.signal,
          timeoutMs: options.timeoutMs ?? this.settings.timeoutMs,
        },
      );
    }
    const payloadSha256 = createHash('sha256').update(bytes).digest();
    const single = singleRawBlockCidOf(bytes.byteLength, payloadSha256, this.settings.resolvedCid);
    const payloadCid = single !== undefined ? cidText(single) : await computeCid(bytes, this.settings.cid);
    this.assertUsable('append');
    // Awaits are over: a record with the same key may have been appended (or begun) meanwhile.
    const meanwhile = idempotencyKey === undefined ? undefined : this.earlierAppend(stream, idempotencyKey);
    if (meanwhile !== undefined) return meanwhile;
    // From here to the outbox write nothing awaits: sequence numbers are given in the order the writes are queued.
    const work = this.streamWork(stream, { tenant, name, mode });
    const seq = this.nextSeq.get(stream) ?? 1;
    this.nextSeq.set(stream, seq + 1);
    const envelope: RecordEnvelope = {
      v: 1,
      tenant,
      thingId,
      kind,
      seq,
      ts: new Date().toISOString(),
      payloadCid,
      payloadSha256: payloadSha256.toString('hex'),
      payloadSize: bytes.byteLength,
      contentType,
      salt: this.salts.next(),
    };
    const leafHash = builtEnvelopeLeafHash(envelope);
    const pending = { seq, durable: false, size: bytes.byteLength, appendedAt: Date.now(), leafHash, payloadCid, uploaded: false };
    work.pending.push(pending);
    this.backlog += 1;
    const written = this.outbox.append(stream, { tenant, name, mode }, { envelope, mode }, bytes, idempotencyKey);
    const receipt = this.finishAppend(written, pending, stream, mode, envelope, leafHash);
    if (idempotencyKey !== undefined) {
      const keyed = `${stream}\n${idempotencyKey}`;
      this.keyedAppends.set(keyed, receipt);
      const forget = () => this.keyedAppends.delete(keyed);
      receipt.then(forget, forget);
    }
    return receipt;
  }

  /** The receipt of an earlier append with this key (`duplicate: true`), once that one is durable; undefined if none. */
  private earlierAppend(stream: string, idempotencyKey: string): Promise<Receipt> | undefined {
    const inFlight = this.keyedAppends.get(`${stream}\n${idempotencyKey}`);
    if (inFlight !== undefined) return inFlight.then((receipt) => ({ ...receipt, duplicate: true }));
    const seq = this.outbox.seqOfKey(stream, idempotencyKey);
    if (seq === undefined) return undefined;
    const record = this.outbox.record(stream, seq);
    if (record === undefined)
      throw new OutboxStateError(`idempotency key of ${stream} names record #${seq}, which the outbox does not hold`);
    return Promise.resolve(this.receipt(stream, record.mode, record.envelope, envelopeLeafHash(record.envelope), true));
  }

  private async finishAppend(
    written: Promise<void>,
    pending: PendingRecord,
    stream: string,
    mode: AnchorMode,
    envelope: RecordEnvelope,
    leafHash: string,
  ): Promise<Receipt> {
    try {
      await written;
    } catch (error) {
      // The sequence has a hole in memory now: refuse further appends; a new open() starts from what is on disk.
      this.failure = new TwinLedgerError(`the outbox could not store a record: ${error instanceof Error ? error.message : String(error)}`, {
        code: 'anchor.outbox_write',
        hint: 'Check the disk of dataDir (space, permissions), then close() and open the Anchorer again: what was acknowledged is kept.',
        cause: error,
      });
      throw this.failure;
    }
    pending.durable = true;
    this.pipeline.notify();
    return this.receipt(stream, mode, envelope, leafHash, false);
  }

  /** The proof of record `seq` of `stream`, once it is anchored (waits until then). */
  async proof(stream: string, seq: number, options: CallOptions = {}): Promise<AnchorProof> {
    validateCallOptions(options);
    requireText('stream', stream);
    integerOption('seq', seq, { min: 1, max: Number.MAX_SAFE_INTEGER });
    const record = this.outbox.record(stream, seq);
    if (record === undefined) throw new ValidationError('seq', `stream ${stream} has no record ${seq}`);
    return this.anchoredSignal.until(`proof of ${stream} #${seq}`, () => this.proofIfAnchored(stream, seq), {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? this.settings.timeoutMs,
    });
  }

  status(): AnchorerStatus {
    const streams: StreamStatus[] = [];
    for (const work of this.streams.values()) {
      const anchored = this.lastAnchoredBatch(work);
      streams.push({
        stream: work.stream,
        mode: work.info.mode,
        lastSeq: (this.nextSeq.get(work.stream) ?? 1) - 1,
        backlog: this.pipeline.backlogOf(work),
        ...(anchored ? { lastAnchoredBatch: anchored } : {}),
        ...(work.halted !== undefined ? { halted: work.halted } : {}),
      });
    }
    const lastError = this.pipeline.lastError;
    return { backlog: this.backlog, maxBacklog: this.settings.maxBacklog, streams, ...(lastError ? { lastError } : {}) };
  }

  /**
   * Stops the background work and closes the outbox (and the ledger and store the anchorer opened itself). With
   * `drain`, first closes every open batch and waits until everything is anchored, up to `timeoutMs`. Nothing is lost
   * either way: what is not anchored yet is anchored after the next `open()`. Final.
   */
  close(options: { drain?: boolean; timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      const drainMs = durationMs('timeoutMs', options.timeoutMs, 30_000);
      if (options.drain === true) {
        let timer: NodeJS.Timeout | undefined;
        const stopped = this.pipeline.stop(true);
        await Promise.race([stopped, new Promise((resolve) => (timer = setTimeout(resolve, drainMs)))]);
        clearTimeout(timer);
      }
      await this.pipeline.stop(false);
      this.anchoredSignal.close(closedError('waiting for anchoring'));
      await this.outbox.close();
      await this.owned.store?.close();
      await this.owned.ledger?.close();
      await unlockDataDir(this.owned.dataDir, this.owned.lock);
    })();
    return this.closing;
  }

  private anchored(records: number): void {
    this.backlog -= records;
    this.anchoredSignal.notify();
  }

  private assertUsable(what: string): void {
    if (this.closing !== undefined) throw closedError(what)();
    if (this.failure !== undefined) throw this.failure;
  }

  private checkInput(input: AppendInput) {
    if (typeof input !== 'object' || input === null)
      throw new ValidationError('record', 'must be an object { tenant, thingId, kind, payload }');
    requireText('tenant', input.tenant);
    requireText('thingId', input.thingId);
    if (!RECORD_KINDS.includes(input.kind)) throw new ValidationError('kind', `must be one of ${RECORD_KINDS.join(', ')}`);
    if (!STREAM_NAME.test(input.tenant))
      throw new ValidationError('tenant', 'must be letters, digits and . _ ~ : + = -, to name a ledger stream');
    const name = input.stream ?? 'default';
    if (typeof name !== 'string' || !STREAM_NAME.test(name)) {
      throw new ValidationError('stream', 'must be letters, digits and . _ ~ : + = -, starting with a letter or digit');
    }
    const mode = input.anchor ?? this.settings.mode;
    if (mode !== 'batch' && mode !== 'record') throw new ValidationError('anchor', 'must be "batch" or "record"');
    const stream = `${input.tenant}/${name}${this.settings.instanceId === undefined ? '' : `@${this.settings.instanceId}`}`;
    const idempotencyKey = input.idempotencyKey;
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || idempotencyKey === '' || idempotencyKey.length > 512)) {
      throw new ValidationError('idempotencyKey', 'must be a string of 1 to 512 characters, e.g. a Kafka "topic/partition/offset"');
    }
    return { tenant: input.tenant, thingId: input.thingId, kind: input.kind, mode, stream, name, idempotencyKey };
  }

  private streamWork(stream: string, info: { tenant: string; name: string; mode: AnchorMode }): StreamWork {
    const existing = this.streams.get(stream);
    if (existing !== undefined) {
      if (existing.info.mode !== info.mode) {
        throw new ValidationError(
          'anchor',
          `stream ${stream} anchors ${existing.info.mode === 'batch' ? 'in batches' : 'record by record'}; use another stream name for ${info.mode} anchoring`,
        );
      }
      return existing;
    }
    const work: StreamWork = { stream, info: { ...info, nextUnbatchedSeq: 1 }, pending: [], unanchored: [], lastBatch: undefined };
    this.streams.set(stream, work);
    return work;
  }

  private receipt(stream: string, mode: AnchorMode, envelope: RecordEnvelope, leafHash: string, duplicate: boolean): Receipt {
    return {
      stream,
      seq: envelope.seq,
      mode,
      envelope,
      leafHash,
      duplicate,
      proof: (options?: CallOptions) => this.proof(stream, envelope.seq, options),
    };
  }

  private proofIfAnchored(stream: string, seq: number): AnchorProof | undefined {
    const work = this.streams.get(stream);
    const record = this.outbox.record(stream, seq);
    if (record === undefined) return undefined;
    if (record.mode === 'record') {
      if (record.anchored === undefined) return this.unlessHalted(work);
      const proof: RecordProof = {
        format: 'twinledger-proof',
        version: 1,
        mode: 'record',
        envelope: record.envelope,
        stream,
        key: `${stream}/${seq}`,
        leafHash: envelopeLeafHash(record.envelope),
        ledger: record.anchored,
        payloadCid: record.envelope.payloadCid,
      };
      return proof;
    }
    const batch = this.outbox.batchOf(stream, seq);
    if (batch?.anchored === undefined) return this.unlessHalted(work);
    const inclusion = this.batchTree(stream, batch.firstSeq, batch.lastSeq).inclusionProof(seq - batch.firstSeq);
    const proof: BatchProof = {
      format: 'twinledger-proof',
      version: 1,
      mode: 'batch',
      envelope: record.envelope,
      stream,
      batchId: batch.batchId,
      leafIndex: inclusion.leafIndex,
      treeSize: inclusion.treeSize,
      auditPath: inclusion.path,
      root: batch.root,
      prevRoot: batch.prevRoot,
      ledger: batch.anchored,
      payloadCid: record.envelope.payloadCid,
    };
    return proof;
  }

  /** The tree of a batch, rebuilt from the outbox; the last few are kept, as proofs are usually asked for a batch at a time. */
  private batchTree(stream: string, firstSeq: number, lastSeq: number): MerkleTree {
    const key = `${stream}#${firstSeq}`;
    let tree = this.trees.get(key);
    if (tree === undefined) {
      tree = new MerkleTree();
      for (const leaf of this.outbox.recordRange(stream, firstSeq, lastSeq)) tree.append(envelopeBytes(leaf.envelope));
      this.trees.set(key, tree);
      for (const old of this.trees.keys()) {
        if (this.trees.size <= 4) break;
        this.trees.delete(old);
      }
    }
    return tree;
  }

  private unlessHalted(work: StreamWork | undefined): undefined {
    if (work?.halted !== undefined) throw new StreamHaltedError(work.stream, work.halted);
    return undefined;
  }

  private lastAnchoredBatch(work: StreamWork): StreamStatus['lastAnchoredBatch'] {
    const batch = work.unanchored.length > 0 ? this.previousOf(work, work.unanchored[0]!.firstSeq) : work.lastBatch;
    if (batch?.anchored === undefined) return undefined;
    return {
      batchId: batch.batchId,
      root: batch.root,
      lastSeq: batch.lastSeq,
      txId: batch.anchored.txId,
      ...(batch.anchored.batchSeq !== undefined ? { batchSeq: batch.anchored.batchSeq } : {}),
    };
  }

  private previousOf(work: StreamWork, firstSeq: number) {
    return firstSeq > 1 ? this.outbox.batchOf(work.stream, firstSeq - 1) : undefined;
  }
}
