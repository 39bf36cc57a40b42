/**
 * The northbound tap: `anchorNorthbound()` consumes a tenant's Hono telemetry and events through a `Northbound`
 * client (Kafka or AMQP 1.0) and appends each message to an `Anchorer`. A message is acknowledged (Kafka: its offset
 * marked for the next commit; AMQP: settled `accepted`) only after `append` resolved, i.e. once the record and its
 * payload are durable in the outbox, so a crash loses nothing. A message delivered again after a crash is recognised by
 * its identity in the messaging network (`sourceId`, the record's idempotency key: Kafka topic/partition/offset, an AMQP
 * message-id) and recorded once; a message without one (AMQP without a message-id) may be recorded twice (see
 * docs/anchoring.md, "Northbound tap").
 *
 * The northbound client is typed structurally (`TapSource`, `TapMessage`): anchor does not load the northbound
 * module (kafkajs, rhea), and any `Northbound` fits.
 */
import { AbortError, ValidationError, asError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { integerOption } from '../core/options.js';
import type { Anchorer } from './anchorer.js';
import { STREAM_NAME } from './options.js';
import type { AppendInput } from './types.js';

/** The downstream kinds Hono delivers to northbound applications; each becomes a record of the same kind. */
export type TapKind = 'telemetry' | 'event';

const TAP_KINDS: readonly TapKind[] = ['telemetry', 'event'];

/** What the tap reads of a message: the fields of `DownstreamMessage` (twinledger/northbound) it uses. */
export interface TapMessage {
  readonly kind: TapKind;
  readonly tenantId: string;
  readonly deviceId: string;
  readonly contentType: string | undefined;
  readonly payload: Uint8Array;
  /** The message's identity in the messaging network, stable across redeliveries; becomes the idempotency key. */
  readonly sourceId?: string | undefined;
}

/**
 * What the tap needs of a northbound client: `Northbound`'s two downstream iterables. Their contract is the one of
 * `Northbound`: a yielded message is acknowledged when the loop asks for the next one, a message the loop is working
 * on when the iteration ends (`return()`, the signal) is not, and the signal ends the iteration.
 */
export interface TapSource<M extends TapMessage = TapMessage> {
  telemetry(tenantId: string, options?: { signal?: AbortSignal; prefetch?: number }): AsyncIterable<M>;
  events(tenantId: string, options?: { signal?: AbortSignal; prefetch?: number }): AsyncIterable<M>;
}

/** What the tap needs of an anchorer: `Anchorer.append`. */
export type TapAnchorer = Pick<Anchorer, 'append'>;

export interface NorthboundTapOptions<M extends TapMessage = TapMessage> {
  /** The Hono tenant to consume; also the records' tenant. Required. */
  tenant: string;
  /** Which streams to consume: `['telemetry']`, `['event']` or both. Required, at least one. */
  kinds: readonly TapKind[];
  /**
   * The records' stream name within the tenant: one name for every kind, or a name per kind. Default: the kind
   * (`telemetry`, `event`), so the ledger streams are `<tenant>/telemetry[@<instanceId>]` and `<tenant>/event[@…]`.
   */
  stream?: string | ((kind: TapKind) => string);
  /**
   * The record's `thingId` for a message. Default: the message's device ID (in Cloud2Edge the device ID is the
   * thing ID, `namespace:name`). A throw, or anything but a non-empty string, stops the tap (the message stays
   * unacknowledged).
   */
  thingIdOf?: (message: M) => string;
  /** Ends the tap like `stop()` when it fires. */
  signal?: AbortSignal;
  /** Unacknowledged messages each stream may buffer (`ConsumeOptions.prefetch`). Default: the client's own (32). */
  prefetch?: number;
  /** `debug` per anchored message, `info` when the tap stops, `error` when it fails. Default silent. */
  logger?: Logger;
}

export interface NorthboundTapStats {
  /** Messages appended (durable in the outbox), duplicates included. */
  appended: number;
  /** Of those, messages recorded before (delivered again after a crash, recognised by their `sourceId`): not stored twice. */
  duplicates: number;
  /** Appended messages handed back to the client as processed (Kafka: marked for the next offset commit; AMQP: accepted). */
  acknowledged: number;
  /** Messages whose append (or `thingIdOf`) failed; the tap stopped on the first one, which stays unacknowledged. */
  failed: number;
}

/** The running tap returned by `anchorNorthbound()`. */
export interface NorthboundTap {
  /**
   * Resolves when every stream of the tap ended: after `stop()`, the signal, or the northbound client's `close()`.
   * Rejects with the first error that stopped it: an `append` failure (the message is not acknowledged and comes
   * again to the next consumer), an error of `thingIdOf`, or the client's (e.g. `KafkaConsumerError`). The tap never
   * makes the process crash on its own: a failure is also logged at `error` level.
   */
  readonly done: Promise<void>;
  /**
   * Stops consuming: a message whose append is under way is appended and acknowledged first, one waiting for room in
   * the anchorer's backlog is given up (not appended, not acknowledged). Resolves when every stream ended (never
   * rejects: see `done`). Idempotent.
   */
  stop(): Promise<void>;
  stats(): NorthboundTapStats;
}

interface Lane {
  kind: TapKind;
  stream: string;
  /** Ends this lane's iteration (the northbound stream's signal). */
  consume: AbortController;
  /** True while an append is under way: stopping then waits for it, and acknowledges the message. */
  appending: boolean;
}

/**
 * Anchors a tenant's Hono telemetry and/or events: consumes them from `northbound` and appends each message to
 * `anchorer` as a record of its kind (`telemetry` / `event`), with the message's bytes as payload and its content type
 * (none: `application/octet-stream`), thing ID = device ID unless `thingIdOf` says otherwise. Each message is
 * acknowledged only after its append resolved; an append that fails stops the tap (`done` rejects) and leaves the
 * message to be delivered again. Messages are appended one at a time per kind, in the order the client yields them.
 *
 * ```ts
 * const tap = anchorNorthbound(northbound, anchorer, { tenant: 'org.acme', kinds: ['telemetry', 'event'] });
 * await tap.done; // until stop(), the signal, or a failure
 * ```
 */
export function anchorNorthbound<M extends TapMessage>(
  northbound: TapSource<M>,
  anchorer: TapAnchorer,
  options: NorthboundTapOptions<M>,
): NorthboundTap {
  const settings = resolveTapOptions(northbound, anchorer, options);
  const { tenant, logger, thingIdOf, prefetch } = settings;
  const stats: NorthboundTapStats = { appended: 0, duplicates: 0, acknowledged: 0, failed: 0 };
  /** Aborts appends that wait for room in the backlog (nothing is written then) when the tap stops. */
  const appends = new AbortController();
  let stopping = false;
  let failure: Error | undefined;

  const lanes: Lane[] = settings.kinds.map((kind) => ({
    kind,
    stream: settings.streamOf(kind),
    consume: new AbortController(),
    appending: false,
  }));

  const stopAll = (): void => {
    if (stopping) return;
    stopping = true;
    appends.abort();
    // A lane waiting for a message ends now; a lane in an append ends once it acknowledged that message.
    for (const lane of lanes) if (!lane.appending) lane.consume.abort();
  };

  const runLane = async (lane: Lane): Promise<void> => {
    const consumeOptions = { signal: lane.consume.signal, ...(prefetch === undefined ? {} : { prefetch }) };
    const source = lane.kind === 'telemetry' ? northbound.telemetry(tenant, consumeOptions) : northbound.events(tenant, consumeOptions);
    const iterator = source[Symbol.asyncIterator]();
    let ended = false;
    let appended = false;
    try {
      for (;;) {
        // Asking for the next message acknowledges the one before it (appended by then).
        const asked = iterator.next();
        if (appended) stats.acknowledged += 1;
        appended = false;
        const next = await asked;
        if (next.done === true) {
          ended = true;
          return;
        }
        // Stopping: this message is not ours to append; return() below leaves it unacknowledged.
        if (stopping) return;
        const message = next.value;
        lane.appending = true;
        try {
          const input = recordOf(message, lane, tenant, thingIdOf);
          const receipt = await anchorer.append(input, { signal: appends.signal });
          stats.appended += 1;
          if (receipt.duplicate) stats.duplicates += 1;
          appended = true;
          logger.debug('anchored a northbound message', {
            kind: lane.kind,
            deviceId: message.deviceId,
            stream: receipt.stream,
            seq: receipt.seq,
            duplicate: receipt.duplicate,
          });
        } catch (error) {
          // Given up while waiting for room in the backlog because the tap stops: nothing was written.
          if (stopping && error instanceof AbortError && appends.signal.aborted) return;
          stats.failed += 1;
          throw error;
        } finally {
          lane.appending = false;
        }
        if (stopping) {
          // Acknowledge the message just appended, then end the iteration: whatever the client yields meanwhile is
          // "in the loop body" when the signal fires, so it stays unacknowledged.
          const last = iterator.next();
          stats.acknowledged += 1;
          appended = false;
          lane.consume.abort();
          ended = (await last).done === true;
          return;
        }
      }
    } finally {
      if (!ended) await iterator.return?.();
    }
  };

  const fail = (error: unknown): void => {
    failure ??= asError(error);
    stopAll();
  };

  const onAbort = (): void => stopAll();
  settings.signal?.addEventListener('abort', onAbort, { once: true });
  if (settings.signal?.aborted === true) stopAll();

  logger.info('northbound tap started', { tenant, kinds: settings.kinds, streams: lanes.map((lane) => lane.stream) });
  const finished = Promise.all(lanes.map((lane) => runLane(lane).catch(fail))).then(() => {
    settings.signal?.removeEventListener('abort', onAbort);
    stopping = true;
    appends.abort();
    const counts = { ...stats };
    if (failure !== undefined) {
      logger.error('northbound tap stopped by an error; the message it failed on is delivered again', {
        tenant,
        ...counts,
        error: failure,
      });
      throw failure;
    }
    logger.info('northbound tap stopped', { tenant, ...counts });
  });
  // `done` reports the failure; an unobserved one must not end the process (it is logged above).
  finished.catch(() => undefined);

  return {
    done: finished,
    stop: async () => {
      stopAll();
      await finished.catch(() => undefined);
    },
    stats: () => ({ ...stats }),
  };
}

function recordOf<M extends TapMessage>(
  message: M,
  lane: Lane,
  tenant: string,
  thingIdOf: ((message: M) => string) | undefined,
): AppendInput {
  let thingId: unknown = message.deviceId;
  if (thingIdOf !== undefined) {
    thingId = thingIdOf(message);
    if (typeof thingId !== 'string' || thingId === '') {
      throw new ValidationError(
        'thingIdOf',
        `returned ${typeof thingId === 'string' ? 'an empty string' : typeof thingId} for device ${message.deviceId}, expected a thing ID`,
      );
    }
  }
  return {
    tenant,
    thingId: thingId as string,
    kind: lane.kind,
    stream: lane.stream,
    payload: message.payload,
    ...(message.contentType === undefined ? {} : { contentType: message.contentType }),
    ...(typeof message.sourceId === 'string' && message.sourceId !== '' ? { idempotencyKey: message.sourceId } : {}),
  };
}

function resolveTapOptions<M extends TapMessage>(northbound: TapSource<M>, anchorer: TapAnchorer, options: NorthboundTapOptions<M>) {
  if (
    typeof northbound !== 'object' ||
    northbound === null ||
    typeof northbound.telemetry !== 'function' ||
    typeof northbound.events !== 'function'
  ) {
    throw new ValidationError(
      'northbound',
      'must be a Northbound client (with telemetry() and events())',
      'Pass a KafkaNorthbound or AmqpNorthbound.',
    );
  }
  if (typeof anchorer !== 'object' || anchorer === null || typeof anchorer.append !== 'function') {
    throw new ValidationError('anchorer', 'must be an Anchorer (with append())', 'Open one with Anchorer.open({ dataDir, instanceId }).');
  }
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object { tenant, kinds }');
  const { tenant, kinds, stream, thingIdOf, signal, logger } = options;
  if (typeof tenant !== 'string' || !STREAM_NAME.test(tenant)) {
    throw new ValidationError('tenant', 'must be a Hono tenant ID of letters, digits and . _ ~ : + = -, to name a ledger stream');
  }
  if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((kind) => !TAP_KINDS.includes(kind))) {
    throw new ValidationError('kinds', 'must list "telemetry", "event" or both', 'e.g. kinds: ["telemetry", "event"]');
  }
  const unique = [...new Set<TapKind>(kinds)];
  if (unique.length !== kinds.length) throw new ValidationError('kinds', 'must not name a kind twice');
  if (stream !== undefined && typeof stream !== 'string' && typeof stream !== 'function') {
    throw new ValidationError('stream', 'must be a stream name or a function (kind) => stream name');
  }
  const streamOf = (kind: TapKind): string => {
    const name: unknown = stream === undefined ? kind : typeof stream === 'string' ? stream : stream(kind);
    if (typeof name !== 'string' || !STREAM_NAME.test(name)) {
      throw new ValidationError('stream', `for ${kind}: must be letters, digits and . _ ~ : + = -, starting with a letter or digit`);
    }
    return name;
  };
  if (thingIdOf !== undefined && typeof thingIdOf !== 'function')
    throw new ValidationError('thingIdOf', 'must be a function (message) => thingId');
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new ValidationError('signal', 'must be an AbortSignal');
  const prefetch = integerOption('prefetch', options.prefetch, { min: 1, max: 10_000 });
  // Stream names are checked before anything is consumed.
  for (const kind of unique) streamOf(kind);
  return { tenant, kinds: unique, streamOf, thingIdOf, signal, prefetch, logger: logger ?? silentLogger };
}
