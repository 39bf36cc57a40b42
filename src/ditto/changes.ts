import type { Readable } from 'node:stream';
import { ClientClosedError, HttpError, NetworkError, TimeoutError, TwinLedgerError, ValidationError } from '../core/errors.js';
import type { HttpCallOptions, HttpClient } from '../core/http.js';
import { type IdRules, validateThingId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { durationMs } from '../core/options.js';
import { redactUrl } from '../core/redact.js';
import { ExponentialBackoff, type RetryPolicy, sleep } from '../core/retry.js';
import { timerDelay } from '../core/timers.js';
import { dittoHeaders } from './headers.js';
import { API_PREFIX, fieldsQuery } from './paths.js';
import type { RqlExpression } from './rql.js';
import { filterQuery, namespacesQuery } from './search.js';
import { type SseEvent, SseParser } from './sse.js';
import type { Thing } from './types.js';

export interface ChangeStreamOptions extends HttpCallOptions {
  /** Only these things. */
  ids?: readonly string[];
  /** Only things in these namespaces. */
  namespaces?: readonly string[];
  /** Only changes of things matching this RQL filter. */
  filter?: RqlExpression | string;
  /**
   * Only these fields of each change, e.g. `['attributes', 'features/temperature']`. `thingId` is added
   * when missing, because every change must say which thing it belongs to.
   */
  fields?: string | readonly string[];
  /** Unchanged fields to include with every change (Ditto merges them into the data), e.g. `attributes/site`. */
  extraFields?: string | readonly string[];
  /**
   * When to reconnect after a dropped connection. The attempt count restarts after every successful
   * connect. Default: exponential backoff 1 s → 30 s with equal jitter, forever. A `retry:` field from
   * the server raises the wait to what it asks, but to at most {@link MAX_SERVER_RETRY_MS} (60 s).
   */
  retry?: RetryPolicy;
  /** Resume after this event ID (sent as `Last-Event-ID`), e.g. the `eventId` of the last change you processed. */
  lastEventId?: string;
  /**
   * Reconnect when nothing (no event, no keep-alive comment) arrived for this long. Catches half-open
   * connections that would otherwise hang forever. Default: off.
   */
  idleTimeoutMs?: number;
}

/** What a change carries: the changed part of the thing, always with its `thingId`. */
export type ThingChangeData = Partial<Thing> & { thingId: string };

export interface ThingChange {
  thingId: string;
  /** Only what changed (plus `extraFields`), shaped like a thing. */
  data: ThingChangeData;
  /** The SSE event ID in effect, when the server sends IDs; pass it as `lastEventId` to resume. */
  eventId?: string;
  /** The SSE event type, when the server set one other than `message`. */
  event?: string;
  /** ISO-8601 time the SDK received the change. */
  receivedAt: string;
}

/**
 * The longest reconnection time a server's SSE `retry:` field can ask for: 60 s. Larger values are cut
 * to this, so a broken or hostile server can neither park the stream for days nor, with a value beyond
 * Node's timer limit, make it reconnect in a busy loop.
 */
export const MAX_SERVER_RETRY_MS = 60_000;

/** A 2xx answer that is not an event stream; reconnecting would not help. */
export const NOT_AN_EVENT_STREAM = 'ditto.sse.not-event-stream';

/** The default reconnect policy of the SSE streams: exponential backoff 1 s → 30 s with equal jitter, forever. */
export function defaultRetry(): RetryPolicy {
  return new ExponentialBackoff({
    maxAttempts: Number.POSITIVE_INFINITY,
    initialDelayMs: 1000,
    maxDelayMs: 30_000,
    jitter: 'equal',
  });
}

/** Splits a field selector at top-level commas (`a(b,c),d` → `a(b,c)`, `d`). */
function topLevelFields(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i += 1) {
    const ch = selector[i];
    if (ch === '(') depth += 1;
    else if (ch === ')') depth -= 1;
    else if (ch === ',' && depth === 0) {
      out.push(selector.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(selector.slice(start).trim());
  return out;
}

function headerSafe(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
    throw new ValidationError(field, 'must be a string without line breaks or NUL');
  }
  return value === '' ? undefined : value;
}

interface Prepared {
  query: Record<string, string>;
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  retry: RetryPolicy;
  lastEventId: string | undefined;
  idleTimeoutMs: number | undefined;
}

/**
 * One Server-Sent Events stream from Ditto for {@link runEventStream}: the live change stream, or a thing's history
 * (which ends when Ditto completes the response).
 */
export interface EventStreamSpec<T> {
  /** For log lines and errors: `change stream`, `history stream`. */
  label: string;
  /** Path below the base URL, encoded. */
  path: string;
  /** The query of the next connection (a history stream resumes after the last revision it yielded). */
  query(): Record<string, string>;
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  retry: RetryPolicy;
  idleTimeoutMs: number | undefined;
  /** Resume with `Last-Event-ID` from this ID on (the live stream); `undefined`: none yet. */
  lastEventId?: string | undefined;
  /**
   * `true`: the server ending the response ends the iteration (Ditto completes a history stream when the range is
   * exhausted); `false`: it is a drop, and the loop reconnects.
   */
  endsWithResponse: boolean;
  /** Turns an event into an item, or `undefined` to skip it. May throw to end the iteration with that error. */
  item(event: SseEvent): T | undefined;
  /** Checked before reconnecting: `true` when everything asked for has arrived, so the iteration just ends. */
  finished?(): boolean;
  /** Called when the server completed the response and the iteration ends (only with `endsWithResponse`). */
  completed?(): void;
}

/**
 * The connect / parse / reconnect loop shared by Ditto's SSE streams. Ends when the loop is left, `signal` aborts,
 * the server answers 204, or (with `endsWithResponse`) the server completes the response. Drops and server errors
 * (5xx, 408, 429, network, timeouts) are retried with `spec.retry`; 4xx answers on connect end the iteration with
 * the typed `HttpError`, as does giving up.
 */
export async function* runEventStream<T>(http: HttpClient, logger: Logger, spec: EventStreamSpec<T>): AsyncGenerator<T, void, undefined> {
  const stop = new AbortController();
  const signal = spec.signal ? AbortSignal.any([spec.signal, stop.signal]) : stop.signal;
  const url = redactUrl(`${http.baseUrl}${spec.path}`);
  const label = spec.label;
  let lastEventId = spec.lastEventId;
  let failures = 0;
  let connections = 0;
  let serverRetryMs: number | undefined;
  try {
    while (!signal.aborted) {
      let stream: Readable | undefined;
      let idleTimer: NodeJS.Timeout | undefined;
      let failure: Error;
      try {
        const headers: Record<string, string> = { ...spec.headers };
        if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
        const response = await http.request<Readable>({
          method: 'GET',
          path: spec.path,
          query: spec.query(),
          accept: 'text/event-stream',
          headers,
          signal,
          timeoutMs: spec.timeoutMs,
          responseType: 'stream',
          // Reconnecting is this loop's job, with the stream's own policy.
          idempotent: false,
        });
        stream = response.data;
        if (response.status === 204) {
          // WHATWG: 204 No Content tells the client to stop reconnecting.
          logger.info(`${label} closed by the server (204)`, { service: http.service });
          return;
        }
        const contentType = response.headers['content-type'] ?? '';
        if (!/^text\/event-stream\b/i.test(contentType)) {
          throw new TwinLedgerError(`GET ${url} answered with ${contentType || 'no content type'} instead of text/event-stream`, {
            code: NOT_AN_EVENT_STREAM,
            hint: "Check that the base URL points at Ditto's gateway and that no proxy rewrites the Accept header.",
          });
        }
        connections += 1;
        failures = 0;
        if (connections > 1) {
          logger.info(`${label} reconnected`, { service: http.service, connection: connections, lastEventId });
        } else {
          logger.debug(`${label} opened`, { service: http.service });
        }
        const parser = new SseParser({ lastEventId: lastEventId ?? '' });
        if (spec.idleTimeoutMs !== undefined) {
          const idleMs = spec.idleTimeoutMs;
          const idle = stream;
          idleTimer = setTimeout(() => idle.destroy(new TimeoutError(`waiting for ${label} data`, idleMs)), timerDelay(idleMs));
        }
        for await (const chunk of stream as AsyncIterable<Buffer | string>) {
          idleTimer?.refresh();
          for (const event of parser.push(chunk)) {
            lastEventId = event.lastEventId === '' ? undefined : event.lastEventId;
            const item = spec.item(event);
            if (item === undefined) continue;
            yield item;
            if (signal.aborted) return;
          }
          // An `id:` in a block without data still moves the last event ID (and an empty `id:` clears it).
          lastEventId = parser.lastEventId === '' ? undefined : parser.lastEventId;
          if (parser.retryMs !== undefined) serverRetryMs = Math.min(parser.retryMs, MAX_SERVER_RETRY_MS);
        }
        if (spec.endsWithResponse) {
          // A drop mid-stream fails the loop above ('aborted'); getting here means the server completed the response.
          spec.completed?.();
          return;
        }
        failure = new NetworkError('GET', url, 'the server closed the event stream');
      } catch (error) {
        if (signal.aborted) return;
        // The client was closed under the stream: the next request would fail the same way.
        if (http.closed) throw error instanceof ClientClosedError ? error : new ClientClosedError(http.service, `GET ${url}`);
        if (isFatal(error)) throw error;
        failure = asFailure(error, url);
      } finally {
        if (idleTimer !== undefined) clearTimeout(idleTimer);
        stream?.destroy();
      }
      if (spec.finished?.()) return;
      failures += 1;
      const delay = spec.retry.nextDelayMs(failures, failure);
      if (delay === undefined) {
        logger.error(`${label} gave up reconnecting`, {
          service: http.service,
          attempts: failures,
          reason: failure.message,
        });
        throw failure;
      }
      const waitMs = Math.max(delay, serverRetryMs ?? 0);
      logger.warn(`${label} disconnected; reconnecting`, {
        service: http.service,
        attempt: failures,
        delayMs: waitMs,
        reason: failure.message,
        lastEventId,
      });
      try {
        await sleep(waitMs, signal);
      } catch {
        return;
      }
    }
  } finally {
    stop.abort();
  }
}

/**
 * Ditto's change stream: Server-Sent Events from `GET /api/2/things` (`Accept: text/event-stream`).
 * Reconnects on its own and resumes with `Last-Event-ID` when the server gives event IDs.
 */
export class ChangeStreamApi {
  constructor(
    private readonly http: HttpClient,
    private readonly rules: IdRules,
    private readonly logger: Logger,
  ) {}

  /**
   * Streams thing changes until the loop is left (`break`, `return`, an exception) or `options.signal`
   * aborts; both close the connection. Drops and server errors (5xx, 408, 429, network, timeouts) are
   * retried with `options.retry`; 4xx answers on connect (400, 401, 403, 404, ...) end the iteration with
   * the typed `HttpError`, as does giving up. Options are validated before this returns; every
   * iteration of the returned iterable opens its own connection. `timeoutMs` bounds each connect
   * (until the response head arrives), not the stream. For the past changes of one thing, see `things.history()`.
   */
  subscribe(options: ChangeStreamOptions = {}): AsyncIterable<ThingChange> {
    const prepared = this.prepare(options);
    return { [Symbol.asyncIterator]: () => this.run(prepared) };
  }

  private prepare(options: ChangeStreamOptions): Prepared {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object');
    const query: Record<string, string> = {};
    if (options.ids !== undefined) {
      if (!Array.isArray(options.ids) || options.ids.length === 0) {
        throw new ValidationError('ids', 'must be a non-empty array of thing IDs', 'Leave it out to receive changes of all things.');
      }
      query.ids = options.ids.map((id, index) => validateThingId(id, this.rules, `ids[${index}]`)).join(',');
    }
    const namespaces = namespacesQuery(options.namespaces, this.rules);
    if (namespaces !== undefined) query.namespaces = namespaces;
    const filter = filterQuery(options.filter);
    if (filter !== undefined) query.filter = filter;
    const fields = fieldsQuery(options.fields);
    if (fields !== undefined) query.fields = withFields(fields, ['thingId']);
    const extraFields = fieldsQuery(options.extraFields);
    if (extraFields !== undefined) query.extraFields = extraFields;
    durationMs('idleTimeoutMs', options.idleTimeoutMs);
    durationMs('timeoutMs', options.timeoutMs);
    if (options.retry !== undefined && typeof options.retry?.nextDelayMs !== 'function') {
      throw new ValidationError('retry', 'must be a RetryPolicy (an object with nextDelayMs)');
    }
    return {
      query,
      headers: dittoHeaders({ headers: options.headers }),
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      retry: options.retry ?? defaultRetry(),
      lastEventId: headerSafe('lastEventId', options.lastEventId),
      idleTimeoutMs: options.idleTimeoutMs,
    };
  }

  private run(p: Prepared): AsyncGenerator<ThingChange, void, undefined> {
    return runEventStream(this.http, this.logger, {
      label: 'change stream',
      path: `${API_PREFIX}/things`,
      query: () => p.query,
      headers: p.headers,
      signal: p.signal,
      timeoutMs: p.timeoutMs,
      retry: p.retry,
      idleTimeoutMs: p.idleTimeoutMs,
      lastEventId: p.lastEventId,
      endsWithResponse: false,
      item: (event) => toChange(event, this.logger, this.http.service),
    });
  }
}

/** The fields selector with `required` top-level fields added in front when it lacks them. */
export function withFields(selector: string, required: readonly string[]): string {
  const present = topLevelFields(selector);
  const missing = required.filter((field) => !present.includes(field));
  return missing.length === 0 ? selector : `${missing.join(',')},${selector}`;
}

/** Parses a change event's data: a thing JSON with its `thingId`, or `undefined` (logged) when it is not one. */
export function parseThing(
  data: string,
  logger: Logger,
  service: string,
  eventId: string,
  label = 'change stream',
): ThingChangeData | undefined {
  if (data.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    logger.warn(`${label} event skipped: data is not JSON`, { service, eventId });
    return undefined;
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    typeof (parsed as { thingId?: unknown }).thingId !== 'string'
  ) {
    logger.warn(`${label} event skipped: data is not a thing with a thingId`, { service, eventId });
    return undefined;
  }
  return parsed as ThingChangeData;
}

function toChange(event: SseEvent, logger: Logger, service: string): ThingChange | undefined {
  const thing = parseThing(event.data, logger, service, event.lastEventId);
  if (thing === undefined) return undefined;
  const change: ThingChange = { thingId: thing.thingId, data: thing, receivedAt: new Date().toISOString() };
  if (event.lastEventId !== '') change.eventId = event.lastEventId;
  if (event.type !== 'message') change.event = event.type;
  return change;
}

/** Errors that reconnecting cannot fix: the request itself was refused. */
function isFatal(error: unknown): boolean {
  if (error instanceof ValidationError) return true;
  if (error instanceof HttpError) return error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
  return error instanceof TwinLedgerError && error.code === NOT_AN_EVENT_STREAM;
}

function asFailure(error: unknown, url: string): Error {
  if (error instanceof TwinLedgerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new NetworkError('GET', url, `the event stream failed: ${detail}`, error);
}
