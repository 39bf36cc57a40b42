/**
 * `TwinAuditor`: follows Ditto's change stream and anchors every change of the things it follows as a record
 * (`created`, `deleted` or `twin-change`; payload: the canonical JSON of a `TwinChangeRecord`), then moves its
 * checkpoint. Ditto's change stream cannot resume (it sends no event IDs, and a reconnect starts at "now"), so
 * revisions missed while stopped or disconnected are filled in from Ditto's history (`things.history`): at start
 * for every thing with a checkpoint, and whenever a change arrives more than one revision after the last one
 * anchored. What the history does not hold is reported as a `gap`. `auditThing()` (audit-thing.ts) checks a thing.
 */
import { AbortError, NotFoundError, ValidationError, asError } from '../core/errors.js';
import { requireText } from '../core/ids.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { TypedEmitter } from '../core/events.js';
import { AuditIndex } from './audit-index.js';
import { CHANGE_FIELDS, changeRecord, recordKeyOf, recordKindOf, revisionOf } from './audit-change.js';
import { auditThing } from './audit-thing.js';
import type {
  AuditedChange,
  AuditThingOptions,
  TwinAuditReport,
  TwinAuditorEvents,
  TwinAuditorOptions,
  TwinChangeRecord,
} from './audit-types.js';
import { STREAM_NAME } from './options.js';

interface Settings {
  ditto: TwinAuditorOptions['ditto'];
  anchorer: TwinAuditorOptions['anchorer'];
  tenant: string;
  stream: string;
  namespaces: readonly string[] | undefined;
  thingIds: readonly string[] | undefined;
  logger: Logger;
}

function checkOptions(options: TwinAuditorOptions): Settings & { follow: boolean; durable: boolean } {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object');
  const { ditto, anchorer, namespaces, thingIds } = options;
  if (typeof ditto?.changes?.subscribe !== 'function' || typeof ditto?.things?.get !== 'function') {
    throw new ValidationError('ditto', 'must be a DittoClient (with changes.subscribe, things.get and things.history)');
  }
  if (typeof anchorer?.append !== 'function' || typeof anchorer?.proof !== 'function') {
    throw new ValidationError('anchorer', 'must be an Anchorer');
  }
  requireText('tenant', options.tenant);
  requireText('checkpoint', options.checkpoint);
  const stream = options.stream ?? 'twin';
  if (typeof stream !== 'string' || !STREAM_NAME.test(stream)) {
    throw new ValidationError('stream', 'must be letters, digits and . _ ~ : + = -, starting with a letter or digit');
  }
  if (namespaces !== undefined && thingIds !== undefined) {
    throw new ValidationError('thingIds', 'cannot be combined with namespaces', 'Follow either namespaces or things.');
  }
  for (const [field, value] of [
    ['follow', options.follow],
    ['durable', options.durable],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean') throw new ValidationError(field, 'must be a boolean');
  }
  return {
    ditto,
    anchorer,
    tenant: options.tenant,
    stream,
    namespaces,
    thingIds,
    logger: options.logger ?? silentLogger,
    follow: options.follow ?? true,
    durable: options.durable ?? true,
  };
}

export class TwinAuditor extends TypedEmitter<TwinAuditorEvents> {
  private queue: Promise<unknown> = Promise.resolve();
  private running: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly settings: Settings,
    private readonly index: AuditIndex,
    private readonly controller: AbortController,
  ) {
    super('twin auditor', settings.logger);
  }

  /**
   * Opens the checkpoint file and, unless `follow: false`, starts following the change stream in the background:
   * first it fills in, from Ditto's history, what changed since each thing's checkpoint. Resolves once the file is
   * open; failures later are `error` events (and stop the auditor). Rejects with `ValidationError` for bad options,
   * and when another auditor holds the checkpoint.
   */
  static async start(options: TwinAuditorOptions): Promise<TwinAuditor> {
    const { follow, durable, ...settings } = checkOptions(options);
    const controller = new AbortController();
    // Validates the filter before anything is opened; connects only when iterated.
    const changes = follow
      ? settings.ditto.changes.subscribe({
          ...(settings.namespaces !== undefined ? { namespaces: settings.namespaces } : {}),
          ...(settings.thingIds !== undefined ? { ids: settings.thingIds } : {}),
          fields: CHANGE_FIELDS,
          signal: controller.signal,
          ...(options.retry !== undefined ? { retry: options.retry } : {}),
          ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
        })
      : undefined;
    const index = await AuditIndex.open(options.checkpoint, durable);
    const auditor = new TwinAuditor(settings, index, controller);
    if (options.signal?.aborted) {
      await auditor.stop();
      return auditor;
    }
    options.signal?.addEventListener('abort', () => void auditor.stop(), { once: true });
    if (changes !== undefined) auditor.running = auditor.run(changes);
    return auditor;
  }

  /** The last revision anchored (or reported as a gap) of each thing: the checkpoint. */
  checkpoints(): Record<string, number> {
    return Object.fromEntries(this.index.thingIds().map((thingId) => [thingId, this.index.lastRevision(thingId) ?? 0]));
  }

  /**
   * Audits one thing: verifies the proof of each of its records, compares the anchored changes with Ditto's history
   * and the state they determine with the thing's current state and revision. See `TwinAuditReport`.
   */
  auditThing(thingId: string, options: AuditThingOptions = {}): Promise<TwinAuditReport> {
    requireText('thingId', thingId);
    return auditThing(thingId, options, { ditto: this.settings.ditto, anchorer: this.settings.anchorer, index: this.index });
  }

  /** Stops following, waits for the change in progress to be anchored and closes the checkpoint file. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.controller.abort();
      await this.running;
      await this.queue;
      await this.index.close();
      this.emit('stopped');
    })();
    return this.stopping;
  }

  /** Why the auditor stopped on its own, if it did. */
  get error(): Error | undefined {
    return this.failure;
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  private async run(changes: AsyncIterable<AuditedChange>): Promise<void> {
    const iterator = changes[Symbol.asyncIterator]();
    // Connect first, then catch up: a change made meanwhile is in the stream, and deduplicated by its revision.
    const first = iterator.next();
    const fail = (error: unknown) => {
      if (this.signal.aborted) return;
      this.failure = asError(error);
      this.settings.logger.error('twin auditor stopped', { error: this.failure.message });
      this.emit('error', this.failure);
      void this.stop();
    };
    const follow = (async () => {
      try {
        for (let next = first; ; next = iterator.next()) {
          const result = await next;
          if (result.done === true || this.signal.aborted) return;
          const change = result.value;
          await this.serial(() => this.onChange(change));
        }
      } finally {
        await iterator.return?.();
      }
    })().catch(fail);
    const catchUp = (async () => {
      for (const thingId of this.index.thingIds()) {
        if (this.signal.aborted) return;
        if (this.inScope(thingId)) await this.serial(() => this.catchUp(thingId));
      }
    })().catch(fail);
    await Promise.all([follow, catchUp]);
  }

  /** Runs `job` after every job queued before it: one change at a time, so a thing's records stay in order. */
  private serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.signal.aborted) throw new AbortError('twin auditor', this.signal.reason);
      return job();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private inScope(thingId: string): boolean {
    const { thingIds, namespaces } = this.settings;
    if (thingIds !== undefined) return thingIds.includes(thingId);
    if (namespaces !== undefined) return namespaces.includes(thingId.slice(0, thingId.indexOf(':')));
    return true;
  }

  private async onChange(change: AuditedChange): Promise<void> {
    const record = changeRecord(change);
    if (typeof record === 'string') {
      this.settings.logger.warn('twin auditor skipped a change', { thingId: change.thingId, reason: record });
      return;
    }
    const last = this.index.lastRevision(record.thingId);
    if (last !== undefined && record.revision <= last) {
      this.settings.logger.debug('twin auditor: change already anchored', { thingId: record.thingId, revision: record.revision });
      return;
    }
    if (last !== undefined && record.revision > last + 1) await this.fill(record.thingId, last + 1, record.revision - 1);
    await this.append(record, 'live');
  }

  /** At start: what changed since the checkpoint, from Ditto's history up to the current revision. */
  private async catchUp(thingId: string): Promise<void> {
    const last = this.index.lastRevision(thingId) ?? 0;
    let current: number | undefined;
    try {
      current = revisionOf((await this.settings.ditto.things.get(thingId, { fields: 'thingId,_revision', signal: this.signal }))._revision);
    } catch (error) {
      if (this.signal.aborted) throw error;
      // Deleted, and its deletion anchored: nothing to catch up.
      if (error instanceof NotFoundError && this.index.lastKind(thingId) === 'deleted') return;
      const reason =
        error instanceof NotFoundError
          ? 'the thing cannot be read any more (deleted, or no longer readable for these credentials): changes after the checkpoint are unknown'
          : `its current revision could not be read (${asError(error).message}); its next change fills the gap`;
      this.reportGap(thingId, last + 1, undefined, reason);
      return;
    }
    if (current !== undefined && current > last) await this.fill(thingId, last + 1, current);
  }

  /** Anchors revisions `from..to` of a thing from Ditto's history; reports (and persists) what it does not hold. */
  private async fill(thingId: string, from: number, to: number): Promise<void> {
    let failure: string | undefined;
    try {
      const history = this.settings.ditto.things.history(thingId, {
        fromHistoricalRevision: from,
        toHistoricalRevision: to,
        context: true,
        signal: this.signal,
      });
      for await (const change of history) {
        const record = changeRecord(change);
        if (typeof record === 'string' || record.revision > to) continue;
        const last = this.index.lastRevision(thingId) ?? 0;
        if (record.revision <= last) continue;
        if (record.revision > last + 1) await this.gap(thingId, Math.max(from, last + 1), record.revision - 1, 'not in Ditto’s history');
        await this.append(record, 'history');
      }
    } catch (error) {
      if (this.signal.aborted) throw error;
      failure = asError(error).message;
    }
    const last = this.index.lastRevision(thingId) ?? 0;
    if (last < to) {
      const reason =
        failure === undefined
          ? 'Ditto’s history does not hold them (cleaned up after history-retention-duration, or the thing was deleted meanwhile)'
          : `Ditto’s history could not be read: ${failure}`;
      await this.gap(thingId, Math.max(from, last + 1), to, reason);
    }
  }

  private async append(record: TwinChangeRecord, source: 'live' | 'history'): Promise<void> {
    const { anchorer, tenant, stream } = this.settings;
    const kind = recordKindOf(record);
    const receipt = await anchorer.append(
      { tenant, thingId: record.thingId, kind, payload: record, stream, idempotencyKey: recordKeyOf(record) },
      { signal: this.signal },
    );
    // Only once the record is durable in the outbox does the checkpoint move; a crash in between makes the same
    // record again on the next start, which the idempotency key turns into the first one's receipt.
    await this.index.addRecord(record.thingId, { revision: record.revision, stream: receipt.stream, seq: receipt.seq, kind });
    const { thingId, revision, action, path } = record;
    this.emit('appended', { thingId, revision, action, path, stream: receipt.stream, seq: receipt.seq, source });
  }

  private async gap(thingId: string, from: number, to: number, reason: string): Promise<void> {
    await this.index.addGap(thingId, { from, to, reason, at: new Date().toISOString() });
    this.reportGap(thingId, from, to, reason);
  }

  private reportGap(thingId: string, fromRevision: number, toRevision: number | undefined, reason: string): void {
    this.settings.logger.warn('twin auditor: revisions not anchored', { thingId, fromRevision, toRevision, reason });
    this.emit('gap', { thingId, fromRevision, toRevision, reason });
  }
}
