import { ValidationError } from '../core/errors.js';
import { type HttpCallOptions, validateHeaderValue } from '../core/http.js';
import { showValue, validateCallOptions } from '../core/options.js';

/**
 * Ditto's own headers ("Ditto headers"). The 3.5 spec documents some as HTTP headers (`If-Match`,
 * `If-None-Match`, `if-equal`, `*-metadata`) and others as query parameters (`condition`, `channel`,
 * `timeout`, `response-required`, `requested-acks`, `live-channel-condition`, ...). Ditto's gateway reads
 * every one of them from either place, so they are all sent as headers here; that keeps RQL and JSON out of URLs.
 */

/** Longest `timeout` Ditto accepts for commands and messages (`60s`). */
export const DITTO_MAX_TIMEOUT_SECONDS = 60;

/** Ditto's acknowledgement label pattern (`AcknowledgementLabel`). */
const ACK_LABEL = /^[a-zA-Z0-9\-_:]{3,165}$/;

export type Channel = 'twin' | 'live';
export type IfEqual = 'update' | 'skip' | 'skip-minimizing-merge';
export type LiveChannelTimeoutStrategy = 'fail' | 'use-twin';
export type AcknowledgementLabel = 'twin-persisted' | 'search-persisted' | 'live-response' | (string & {});

/** One entry of the `put-metadata` header: metadata `value` set at JSON pointer `key`. */
export interface MetadataEntry {
  key: string;
  value: unknown;
}

export interface DittoHeaderOptions extends HttpCallOptions {
  /** Number → `"rev:N"`; string used as-is (an ETag from an earlier response, or `*`). */
  ifMatch?: string | number;
  /** Number → `"rev:N"`; `*` = only if it does not exist yet. */
  ifNoneMatch?: string | number;
  /** `skip`: answer 412 instead of writing an unchanged value. */
  ifEqual?: IfEqual;
  /** RQL condition the twin must meet for the request to be applied, e.g. `eq(attributes/on,true)`. */
  condition?: string;
  /** `false`: Ditto answers 202 right away without a body. */
  responseRequired?: boolean;
  /** Acknowledgements to wait for; an empty array waits for none. */
  requestedAcks?: readonly AcknowledgementLabel[];
  /** Ditto's own `timeout`: number = seconds; string = `42`, `42s`, `500ms` or `1m`. At most 60 s. */
  dittoTimeout?: string | number;
  channel?: Channel;
  correlationId?: string;
  /** RQL condition under which a read is answered by the device (`live` channel) instead of the twin. */
  liveChannelCondition?: string;
  liveChannelTimeoutStrategy?: LiveChannelTimeoutStrategy;
  putMetadata?: MetadataEntry[];
  /** Comma-separated JSON pointers, or an array of them. */
  getMetadata?: string | string[];
  deleteMetadata?: string | string[];
}

/**
 * Read a thing, a policy or a part of them as it was at an earlier revision or time instead of now (Ditto's history
 * API, Ditto ≥ 3.2; sent as the headers `at-historical-revision` / `at-historical-timestamp`). Give one of the two.
 * Ditto answers from the events and snapshots it still keeps: how long is its `history-retention-duration` (see
 * docs/ditto-history.md); older, future or unknown points fail with a `NotFoundError` whose `code` is
 * `things:thing.history.notfound` (`policies:policy.history.notfound`). Historical reads are checked against the
 * current policy, and work only for entities that exist now.
 */
export interface DittoHistoryOptions {
  /** The revision to read (a whole number from 1; Ditto counts revisions from 1, see `_revision` / `"rev:N"` ETags). */
  atHistoricalRevision?: number;
  /**
   * The time to read at: a `Date` or an ISO 8601 date-time with a zone (`2024-05-01T12:00:00Z`,
   * `2024-05-01T14:00+02:00`); the state after the last change before that time. **Ditto 3.5.x (Cloud2Edge 0.9)
   * ignores it and answers with the current state** (eclipse-ditto/ditto#1915, fixed in 3.6.0): there, read at a
   * revision (find it with `things.history(thingId, { fromHistoricalTimestamp })`).
   */
  atHistoricalTimestamp?: string | Date;
}

/** Options of a read of a thing, a policy or one of their parts: Ditto's headers and the history options. */
export interface DittoGetOptions extends DittoHeaderOptions, DittoHistoryOptions {}

/** Options of reads that can narrow the returned JSON (`fields=thingId,attributes/location`). */
export interface DittoReadOptions extends DittoGetOptions {
  /** Field selector: a comma-separated string or a list of paths. Only whole resources (thing, attributes, ...) take it. */
  fields?: string | readonly string[];
}

function checkHeaderValue(field: string, value: string): string {
  if (value === '') throw new ValidationError(field, 'must not be empty');
  return validateHeaderValue(field, value);
}

function entityTag(field: string, value: string | number): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ValidationError(field, `revision must be a non-negative integer, got ${value}`);
    }
    return `"rev:${value}"`;
  }
  if (typeof value !== 'string') throw new ValidationError(field, `must be a string or a revision number`);
  return checkHeaderValue(field, value);
}

function pointerList(field: string, value: string | string[]): string {
  const list = Array.isArray(value) ? value.join(',') : value;
  return checkHeaderValue(field, list);
}

/**
 * Parses a Ditto duration (`42`, `42s`, `500ms`, `1m`, or a number of seconds) into milliseconds and
 * checks the 60 s maximum.
 */
export function dittoTimeoutMs(value: string | number, field = 'dittoTimeout'): number {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new ValidationError(field, `must be a non-negative number of seconds, got ${value}`);
    }
    ms = value * 1000;
  } else {
    const match = typeof value === 'string' ? /^(\d+)(ms|s|m)?$/.exec(value.trim()) : null;
    if (!match) {
      throw new ValidationError(field, `${JSON.stringify(value)} is not a Ditto duration`, 'Use e.g. 30, "30s", "500ms" or "1m".');
    }
    const amount = Number(match[1]);
    const unit = match[2] ?? 's';
    ms = unit === 'ms' ? amount : unit === 'm' ? amount * 60_000 : amount * 1000;
  }
  if (ms > DITTO_MAX_TIMEOUT_SECONDS * 1000) {
    throw new ValidationError(field, `${JSON.stringify(value)} exceeds Ditto's maximum of ${DITTO_MAX_TIMEOUT_SECONDS}s`);
  }
  return ms;
}

function formatTimeout(value: string | number): string {
  const ms = dittoTimeoutMs(value);
  if (typeof value === 'string') return value.trim();
  return Number.isInteger(value) ? `${value}s` : `${Math.round(ms)}ms`;
}

function oneOf<T extends string>(field: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    throw new ValidationError(field, `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Turns header options into request headers (lower-case names, as Ditto writes them), merged over
 * `options.headers`. Validates everything and throws `ValidationError` before anything is sent.
 */
export function dittoHeaders(options: DittoHeaderOptions = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    out[name.toLowerCase()] = checkHeaderValue(`headers.${name}`, value);
  }
  if (options.ifMatch !== undefined) out['if-match'] = entityTag('ifMatch', options.ifMatch);
  if (options.ifNoneMatch !== undefined) out['if-none-match'] = entityTag('ifNoneMatch', options.ifNoneMatch);
  if (options.ifEqual !== undefined) out['if-equal'] = oneOf('ifEqual', options.ifEqual, ['update', 'skip', 'skip-minimizing-merge']);
  if (options.condition !== undefined) out.condition = checkHeaderValue('condition', options.condition);
  if (options.liveChannelCondition !== undefined) {
    out['live-channel-condition'] = checkHeaderValue('liveChannelCondition', options.liveChannelCondition);
  }
  if (options.liveChannelTimeoutStrategy !== undefined) {
    out['live-channel-timeout-strategy'] = oneOf('liveChannelTimeoutStrategy', options.liveChannelTimeoutStrategy, ['fail', 'use-twin']);
  }
  if (options.responseRequired !== undefined) {
    if (typeof options.responseRequired !== 'boolean') throw new ValidationError('responseRequired', 'must be a boolean');
    out['response-required'] = String(options.responseRequired);
  }
  if (options.requestedAcks !== undefined) {
    if (!Array.isArray(options.requestedAcks)) throw new ValidationError('requestedAcks', 'must be an array of acknowledgement labels');
    options.requestedAcks.forEach((label, index) => {
      if (typeof label !== 'string' || !ACK_LABEL.test(label)) {
        throw new ValidationError(
          `requestedAcks[${index}]`,
          `${JSON.stringify(label)} is not an acknowledgement label`,
          'Use "twin-persisted", "search-persisted", "live-response" or a custom label of 3-165 characters [a-zA-Z0-9-_:].',
        );
      }
    });
    out['requested-acks'] = options.requestedAcks.join(',');
  }
  if (options.dittoTimeout !== undefined) out.timeout = formatTimeout(options.dittoTimeout);
  if (options.channel !== undefined) out.channel = oneOf('channel', options.channel, ['twin', 'live']);
  if (options.correlationId !== undefined) out['correlation-id'] = checkHeaderValue('correlationId', options.correlationId);
  if (options.putMetadata !== undefined) {
    if (!Array.isArray(options.putMetadata)) throw new ValidationError('putMetadata', 'must be an array of {key, value}');
    options.putMetadata.forEach((entry, index) => {
      if (typeof entry?.key !== 'string' || entry.key === '') {
        throw new ValidationError(`putMetadata[${index}].key`, 'must be a non-empty JSON pointer, e.g. "*/unit"');
      }
    });
    out['put-metadata'] = JSON.stringify(options.putMetadata);
  }
  if (options.getMetadata !== undefined) out['get-metadata'] = pointerList('getMetadata', options.getMetadata);
  if (options.deleteMetadata !== undefined) out['delete-metadata'] = pointerList('deleteMetadata', options.deleteMetadata);
  return out;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function isDateTime(text: string): boolean {
  const match = DATE_TIME.exec(text);
  if (match === null) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = match
    .slice(1)
    .map((part) => Number(part ?? 0));
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day >= 1 && day <= days && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 18 && offsetMinutes <= 59;
}

/**
 * A point in time as Ditto parses it (Java's `Instant.parse`, which on Ditto's Java 17 also takes offsets): an ISO 8601
 * date-time with seconds and fraction optional and a zone (`Z` or `±hh:mm`) required, since a time without one would
 * mean UTC to Ditto but local time to JavaScript. A `Date` becomes its `toISOString()`; strings are sent as given.
 */
export function historicalTimestamp(field: string, value: unknown): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ValidationError(field, 'is an invalid Date');
    return value.toISOString();
  }
  if (typeof value !== 'string' || !isDateTime(value)) {
    throw new ValidationError(
      field,
      `must be a Date or an ISO 8601 date-time with a zone, got ${showValue(value)}`,
      'e.g. "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250Z" or "2024-05-01T14:00:00+02:00".',
    );
  }
  return value;
}

/** A revision number for `field`: a whole number from `min` (Ditto's revisions are Java longs; JavaScript stops at 2^53-1). */
export function revisionNumber(field: string, value: unknown, min: number, hint?: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ValidationError(field, `must be a whole number from ${min} to ${Number.MAX_SAFE_INTEGER}, got ${showValue(value)}`, hint);
  }
  return value;
}

/**
 * The history headers of a read (`at-historical-revision` / `at-historical-timestamp`), validated; `{}` when the
 * options ask for the current state.
 */
export function historyHeaders(
  options: DittoHistoryOptions & Pick<DittoHeaderOptions, 'channel' | 'liveChannelCondition'>,
): Record<string, string> {
  const { atHistoricalRevision: revision, atHistoricalTimestamp: timestamp } = options;
  if (revision === undefined && timestamp === undefined) return {};
  if (revision !== undefined && timestamp !== undefined) {
    throw new ValidationError(
      'atHistoricalTimestamp',
      'cannot be combined with atHistoricalRevision',
      'Read either at a revision or at a point in time.',
    );
  }
  const field = revision !== undefined ? 'atHistoricalRevision' : 'atHistoricalTimestamp';
  if (options.channel === 'live' || options.liveChannelCondition !== undefined) {
    throw new ValidationError(
      field,
      options.channel === 'live' ? "cannot be combined with channel: 'live'" : 'cannot be combined with liveChannelCondition',
      'The history is kept by the twin; a device (the live channel) has none.',
    );
  }
  if (revision !== undefined) {
    return { 'at-historical-revision': String(revisionNumber(field, revision, 1, 'Ditto counts revisions from 1 (the creation).')) };
  }
  return { 'at-historical-timestamp': historicalTimestamp(field, timestamp) };
}

/**
 * The `HttpCallOptions` for `HttpClient.request`: Ditto headers rendered and, when the caller asked Ditto
 * to wait (`dittoTimeout`) but set no SDK deadline, a deadline a little longer than Ditto's wait, so the
 * SDK does not give up before Ditto answers.
 */
export function dittoCallOptions(options: DittoHeaderOptions = {}, defaultTimeoutMs?: number): HttpCallOptions {
  validateCallOptions(options);
  const headers = dittoHeaders(options);
  let timeoutMs = options.timeoutMs;
  if (timeoutMs === undefined && options.dittoTimeout !== undefined) {
    const wait = dittoTimeoutMs(options.dittoTimeout) + 5_000;
    if (defaultTimeoutMs === undefined || wait > defaultTimeoutMs) timeoutMs = wait;
  }
  const out: HttpCallOptions = { headers };
  if (options.signal !== undefined) out.signal = options.signal;
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  return out;
}
