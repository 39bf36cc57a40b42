import { ValidationError, httpErrorFor } from '../core/errors.js';
import type { HttpCallOptions, HttpClient } from '../core/http.js';
import type { IdRules } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { durationMs, retryPolicyOption, showValue, validateCallOptions } from '../core/options.js';
import { redactUrl } from '../core/redact.js';
import type { RetryPolicy } from '../core/retry.js';
import { type ThingChange, defaultRetry, parseThing, runEventStream, withFields } from './changes.js';
import { dittoHeaders, historicalTimestamp } from './headers.js';
import { dittoHints } from './hints.js';
import { fieldsQuery, thingPath } from './paths.js';
import type { RqlExpression } from './rql.js';
import { filterQuery } from './search.js';
import type { SseEvent } from './sse.js';
import type { JsonObject, JsonValue } from './types.js';

/**
 * The range of a thing's history to stream, `things.history(thingId, options)`: from a revision or from a point in
 * time, optionally up to one of the same kind (Ditto ignores a revision bound next to a time bound and the other way
 * round, so the SDK refuses the mix). Revision bounds are inclusive; time bounds exclusive (Ditto streams the changes
 * strictly after `fromHistoricalTimestamp` and strictly before `toHistoricalTimestamp`).
 */
export interface ThingHistoryOptions extends HttpCallOptions {
  /**
   * The first revision to stream. `0` (or `1`): from the earliest revision Ditto still keeps. Negative `-n`: the last
   * `n` revisions (only without `toHistoricalRevision`: Ditto 3.5 counts a negative start back from the end of the
   * range, Ditto ≥ 3.8 from the current revision).
   */
  fromHistoricalRevision?: number;
  /** The last revision to stream (inclusive). `0`: the current one; negative `-n`: the n-th before the current one. Default: up to the current state. */
  toHistoricalRevision?: number;
  /** Stream the changes made after this time: a `Date` or an ISO 8601 date-time with a zone. */
  fromHistoricalTimestamp?: string | Date;
  /** Stop before this time. Default: up to the current state. */
  toHistoricalTimestamp?: string | Date;
  /**
   * Which fields of each change to return, e.g. `['attributes', 'features/temperature']`; `thingId`, `_revision`
   * and `_modified` are added when missing. Default: `thingId,policyId,definition,attributes,features` plus those.
   */
  fields?: string | readonly string[];
  /** Only changes whose content (the changed part, as a thing) matches this RQL filter, e.g. `exists(features/lamp)`. */
  filter?: RqlExpression | string;
  /**
   * Also return the Ditto Protocol event behind each change (`_context`: topic, path, value, headers with the
   * persisted "historical headers"). Without it a deletion shows only as `thingId` and the new revision.
   */
  context?: boolean;
  /**
   * When to reconnect after a dropped connection; the stream resumes after the last revision it yielded. Default:
   * exponential backoff 1 s → 30 s with equal jitter, forever.
   */
  retry?: RetryPolicy;
  /** Reconnect when nothing (no event, no keep-alive) arrived for this long. Ditto sends a keep-alive every second. Default: off. */
  idleTimeoutMs?: number;
}

/** The Ditto Protocol event behind a change (Ditto's `_context`). */
export interface ThingChangeContext {
  /** e.g. `org.acme/lamp-1/things/twin/events/modified`. */
  topic?: string;
  /** The changed path inside the thing, e.g. `/features/lamp/properties/on` (`/` for the whole thing). */
  path?: string;
  /** The value the change wrote (`null` for deletions). */
  value?: JsonValue;
  /** The event's Ditto headers. */
  headers?: JsonObject;
  /**
   * The headers Ditto persisted with the change (its `historical-headers-to-persist` setting, e.g. `ditto-originator`:
   * who made it), parsed from the `historical-headers` header.
   */
  historicalHeaders?: JsonObject;
  [key: string]: unknown;
}

/** One recorded change of a thing, in revision order. */
export interface ThingHistoryChange extends ThingChange {
  /** The thing's revision after this change (`_revision`). */
  revision: number;
  /** When Ditto persisted the change (`_modified`, ISO 8601), when it sent it. */
  timestamp: string | undefined;
  /** The Ditto Protocol event behind the change, with `context: true` (or `_context` in `fields`). */
  context?: ThingChangeContext;
}

/** Everything a change can touch; Ditto leaves `_revision` and `_modified` out unless they are selected. */
const DEFAULT_FIELDS = 'thingId,policyId,definition,attributes,features';
/** `thingId` first: the default fields start with it. */
const REQUIRED_FIELDS = ['thingId', '_revision', '_modified'];

interface Range {
  kind: 'revision' | 'timestamp';
  query: Record<string, string>;
  /** A positive end revision: the stream is complete once it arrived. */
  lastWanted: number | undefined;
}

function signedRevision(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ValidationError(field, `must be a whole number (a revision), got ${showValue(value)}`);
  }
  return value;
}

function historyRange(options: ThingHistoryOptions): Range {
  const { fromHistoricalRevision: fromRevision, toHistoricalRevision: toRevision } = options;
  const { fromHistoricalTimestamp: fromTimestamp, toHistoricalTimestamp: toTimestamp } = options;
  if (fromRevision === undefined && fromTimestamp === undefined) {
    throw new ValidationError(
      'fromHistoricalRevision',
      'or fromHistoricalTimestamp is required: where the history starts',
      'fromHistoricalRevision: 0 streams all the history Ditto keeps; for the changes from now on use changes.subscribe().',
    );
  }
  if (fromRevision !== undefined && fromTimestamp !== undefined) {
    throw new ValidationError(
      'fromHistoricalTimestamp',
      'cannot be combined with fromHistoricalRevision',
      'Start at a revision or at a time.',
    );
  }
  if (fromRevision !== undefined) {
    if (toTimestamp !== undefined) {
      throw new ValidationError(
        'toHistoricalTimestamp',
        'cannot be combined with fromHistoricalRevision',
        'Ditto ignores time bounds when the range starts at a revision: use toHistoricalRevision.',
      );
    }
    const from = signedRevision('fromHistoricalRevision', fromRevision);
    const to = toRevision === undefined ? undefined : signedRevision('toHistoricalRevision', toRevision);
    if (from < 0 && to !== undefined) {
      throw new ValidationError(
        'fromHistoricalRevision',
        'a negative start (the last n revisions) cannot be combined with toHistoricalRevision',
        'Ditto 3.5 counts it back from toHistoricalRevision, Ditto 3.8 and later from the current revision; give an absolute start.',
      );
    }
    if (to !== undefined && from > 0 && to > 0 && to < from) {
      throw new ValidationError('toHistoricalRevision', `must not be below fromHistoricalRevision (${from}), got ${to}`);
    }
    // Ditto 3.5 reads a start of 0 or below relative to the end of the range: 0 with an end would be "end + 1", an
    // empty stream, so the earliest revision (1) is sent instead; and a negative start without an end would overflow
    // Java's long (an empty stream), so the end is made explicit as 0, "the current revision".
    const query: Record<string, string> = { 'from-historical-revision': String(from === 0 && to !== undefined ? 1 : from) };
    if (to !== undefined) query['to-historical-revision'] = String(to);
    else if (from < 0) query['to-historical-revision'] = '0';
    return { kind: 'revision', query, lastWanted: to !== undefined && to > 0 ? to : undefined };
  }
  if (toRevision !== undefined) {
    throw new ValidationError(
      'toHistoricalRevision',
      'cannot be combined with fromHistoricalTimestamp',
      'Ditto ignores revision bounds when the range starts at a time: use toHistoricalTimestamp.',
    );
  }
  const from = historicalTimestamp('fromHistoricalTimestamp', fromTimestamp);
  const query: Record<string, string> = { 'from-historical-timestamp': from };
  if (toTimestamp !== undefined) {
    const to = historicalTimestamp('toHistoricalTimestamp', toTimestamp);
    if (Date.parse(to) < Date.parse(from)) {
      throw new ValidationError('toHistoricalTimestamp', `must not be before fromHistoricalTimestamp (${from}), got ${to}`);
    }
    query['to-historical-timestamp'] = to;
  }
  return { kind: 'timestamp', query, lastWanted: undefined };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function contextOf(raw: unknown): ThingChangeContext | undefined {
  if (!isObject(raw)) return undefined;
  const context: ThingChangeContext = { ...raw };
  const historical = isObject(raw.headers) ? raw.headers['historical-headers'] : undefined;
  if (typeof historical === 'string') {
    try {
      const parsed: unknown = JSON.parse(historical);
      if (isObject(parsed)) context.historicalHeaders = parsed as JsonObject;
    } catch {
      // Not JSON: it stays in headers as it came.
    }
  } else if (isObject(historical)) {
    context.historicalHeaders = historical as JsonObject;
  }
  return context;
}

/**
 * The recorded changes of one thing over Server-Sent Events (`GET /api/2/things/{thingId}` with
 * `Accept: text/event-stream` and `from-historical-*` / `to-historical-*`), in revision order; see
 * {@link ThingHistoryOptions}. Options are validated before this returns.
 */
export function thingHistory(
  http: HttpClient,
  rules: IdRules,
  logger: Logger,
  thingId: string,
  options: ThingHistoryOptions,
): AsyncIterable<ThingHistoryChange> {
  const path = thingPath(thingId, rules);
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', 'must be an object with fromHistoricalRevision or fromHistoricalTimestamp');
  }
  validateCallOptions(options, '');
  const range = historyRange(options);
  if (options.context !== undefined && typeof options.context !== 'boolean') throw new ValidationError('context', 'must be a boolean');
  const required = options.context === true ? [...REQUIRED_FIELDS, '_context'] : REQUIRED_FIELDS;
  const fields = fieldsQuery(options.fields);
  const query: Record<string, string> = {
    ...range.query,
    fields: fields === undefined ? [DEFAULT_FIELDS, ...required.slice(1)].join(',') : withFields(fields, required),
  };
  const filter = filterQuery(options.filter);
  if (filter !== undefined) query.filter = filter;
  durationMs('idleTimeoutMs', options.idleTimeoutMs);
  const retry = retryPolicyOption('retry', options.retry, defaultRetry);
  const headers = dittoHeaders({ headers: options.headers });
  const url = redactUrl(`${http.baseUrl}${path}`);
  const service = http.service;

  const run = () => {
    let lastRevision: number | undefined;
    let lastModified: number | undefined;
    let count = 0;
    /** The first connection asks for the range; a reconnect resumes after the last revision yielded. */
    const nextQuery = (): Record<string, string> => {
      if (lastRevision === undefined) return query;
      const resumed = { ...query };
      if (range.kind === 'revision') {
        resumed['from-historical-revision'] = String(lastRevision + 1);
      } else if (lastModified !== undefined) {
        // Time bounds are exclusive and changes may share a millisecond: start just before the last change and drop
        // what was already yielded by its revision.
        resumed['from-historical-timestamp'] = new Date(lastModified - 1).toISOString();
      }
      return resumed;
    };
    const item = (event: SseEvent): ThingHistoryChange | undefined => {
      const failure = inStreamError(event.data);
      if (failure !== undefined) {
        const request = { method: 'GET' as const, path, query: nextQuery(), headers };
        throw httpErrorFor({
          status: failure.status,
          method: 'GET',
          url,
          upstreamCode: failure.error,
          upstreamMessage: failure.message ?? failure.description,
          hint: dittoHints(failure.status, failure.error, request),
          body: failure,
        });
      }
      const data = parseThing(event.data, logger, service, event.lastEventId, 'history stream');
      if (data === undefined) return undefined;
      const revision = data._revision;
      if (typeof revision !== 'number' || !Number.isSafeInteger(revision)) {
        logger.warn('history stream event skipped: no _revision', { service, thingId: data.thingId });
        return undefined;
      }
      // Revisions only grow: what comes again (the overlap after a reconnect, or Ditto 3.5 sending a time range twice
      // when it starts it both at revision 0 and at the last snapshot before the start time) is dropped.
      if (lastRevision !== undefined && revision <= lastRevision) return undefined;
      const { _context: rawContext, ...thing } = data;
      const timestamp = typeof data._modified === 'string' ? data._modified : undefined;
      const change: ThingHistoryChange = { thingId: data.thingId, data: thing, revision, timestamp, receivedAt: new Date().toISOString() };
      const context = contextOf(rawContext);
      if (context !== undefined) change.context = context;
      if (event.lastEventId !== '') change.eventId = event.lastEventId;
      if (event.type !== 'message') change.event = event.type;
      lastRevision = revision;
      const modified = timestamp === undefined ? Number.NaN : Date.parse(timestamp);
      if (!Number.isNaN(modified)) lastModified = modified;
      count += 1;
      return change;
    };
    return runEventStream(http, logger, {
      label: 'history stream',
      path,
      query: nextQuery,
      headers,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      retry,
      idleTimeoutMs: options.idleTimeoutMs,
      endsWithResponse: true,
      item,
      finished: () => range.lastWanted !== undefined && lastRevision !== undefined && lastRevision >= range.lastWanted,
      completed: () => {
        if (count > 0) {
          logger.debug('history stream complete', { service, thingId, changes: count, lastRevision });
          return;
        }
        // Ditto 3.5 reports a history it cannot read (cleaned up, or the thing not readable) as an empty stream.
        logger.info('history stream ended without changes', {
          service,
          thingId,
          range: range.query,
          hint:
            'The range may hold no changes (or none matching the filter), Ditto may have cleaned them up already ' +
            '(history-retention-duration), or the thing may not exist or not be readable for you.',
        });
      },
    });
  };
  return { [Symbol.asyncIterator]: run };
}

interface InStreamError {
  status: number;
  error: string;
  message?: string;
  description?: string;
}

/** A Ditto error body sent as an event (e.g. a failed enrichment) instead of a change. */
function inStreamError(data: string): InStreamError | undefined {
  if (!data.trimStart().startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || parsed.thingId !== undefined) return undefined;
  const { status, error, message, description } = parsed;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || typeof error !== 'string') return undefined;
  return {
    status,
    error,
    ...(typeof message === 'string' ? { message } : {}),
    ...(typeof description === 'string' ? { description } : {}),
  };
}
