import { randomUUID } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import {
  type IdRules,
  defaultIdRules,
  dittoJsonKey,
  pointerSegments,
  splitEntityId,
  validateFeatureId,
  validateMessageSubject,
  validateThingId,
} from '../core/ids.js';
import type { JsonObject, JsonValue } from './json.js';

/**
 * Ditto Protocol envelopes: typed builders for what devices send (as Hono telemetry/event payloads, or
 * over any other Ditto connection) and a lenient parser for what arrives.
 *
 * Envelope: `{topic, headers, path, value?, status?, revision?, timestamp?, fields?, extra?}`; topic
 * `{namespace}/{name}/{group}/{channel}/{criterion}/{action|subject}`.
 */

/** IANA content type of Ditto Protocol messages. */
export const DITTO_PROTOCOL_CONTENT_TYPE = 'application/vnd.eclipse.ditto+json';

const MERGE_PATCH_CONTENT_TYPE = 'application/merge-patch+json';

export type ProtocolGroup = 'things' | 'policies' | 'connections';
export type ProtocolChannel = 'twin' | 'live';
export type MessageDirection = 'inbox' | 'outbox';
export type ProtocolCriterion = 'commands' | 'events' | 'search' | 'messages' | 'errors' | 'acks' | 'announcements' | 'streaming';

export interface DittoTopic {
  /** As written in the topic; `_` stands for "no namespace". */
  namespace: string;
  /** As written in the topic; `_` is a placeholder (e.g. search topics). */
  name: string;
  /** `namespace:name` for things and policies (`:name` for an empty namespace), the connection ID for connections; absent for `_` placeholders. */
  entityId?: string;
  group: ProtocolGroup;
  /** Absent for policies, connections, the `none` channel and search errors (`_/_/things/search/errors`). */
  channel?: ProtocolChannel;
  /** `errors` for every error response, the search error `_/_/things/search/errors` included. */
  criterion: ProtocolCriterion;
  /** The action of commands, events, search and streaming (one segment), e.g. `modify`, `created`, `subscribe`. */
  action?: string;
  /** The message subject (may contain `/`), the acknowledgement label or the announcement name (as Ditto's TopicPath has it). */
  subject?: string;
}

/** Ditto headers of an envelope. Names are lower-case after `parseEnvelope`. */
export interface DittoProtocolHeaders {
  'correlation-id'?: string;
  'content-type'?: string;
  'response-required'?: boolean;
  'requested-acks'?: string[];
  timeout?: string;
  condition?: string;
  [name: string]: JsonValue | undefined;
}

export interface DittoEnvelope {
  topic: string;
  headers: DittoProtocolHeaders;
  /** JSON pointer into the entity, `/` for the whole entity. */
  path: string;
  value?: JsonValue;
  /** Responses and errors. */
  status?: number;
  /** Events. */
  revision?: number;
  /** Events (ISO-8601). */
  timestamp?: string;
  /** Field selector of retrieve commands. */
  fields?: string;
  /** `extraFields` Ditto added to an event. */
  extra?: JsonObject;
}

export interface EnvelopeOptions {
  /** Default: a random UUID. */
  correlationId?: string;
  /** Default `twin`. */
  channel?: ProtocolChannel;
  /**
   * Whether Ditto should answer. Modify and merge builders default to `false`: a device sending the
   * envelope as Hono telemetry has no use for the answer, which Ditto would otherwise send back to it
   * as a one-way command.
   */
  responseRequired?: boolean;
  /** Further Ditto headers, e.g. `requested-acks`, `condition`, `if-match`. */
  headers?: Record<string, JsonValue>;
  /** ID rules for validating thing and feature IDs. Default: Cloud2Edge's. */
  rules?: IdRules;
}

export interface RetrieveOptions extends EnvelopeOptions {
  /** Field selector, e.g. `thingId,attributes(location)` or `['thingId', 'attributes']`. */
  fields?: string | readonly string[];
}

export interface LiveMessageOptions extends Omit<EnvelopeOptions, 'channel'> {
  /** `inbox`: a message to the thing; `outbox`: a message from the thing. */
  direction: MessageDirection;
  /** Address a feature's mailbox instead of the thing's. */
  featureId?: string;
  /** Default: `text/plain` for a string payload, `application/json` otherwise. */
  contentType?: string;
}

export interface LiveMessageResponseOptions {
  /** Default: `text/plain` for a string value, `application/json` for other values, none without a value. */
  contentType?: string;
  /** Further headers for the response. */
  headers?: Record<string, JsonValue>;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1F\x7F]/;
const GROUPS: ReadonlySet<string> = new Set(['things', 'policies', 'connections']);
const CRITERIA: ReadonlySet<string> = new Set(['commands', 'events', 'search', 'messages', 'errors', 'acks', 'announcements', 'streaming']);
const MESSAGE_PATH = /^((?:\/features\/[^/]+)?)\/(inbox|outbox)\/messages\/(.+)$/;
/** Last segment of a search error topic: `error` in Ditto's `TopicPath.SearchAction`, `errors` in its documentation. */
const SEARCH_ERROR_ACTIONS: ReadonlySet<string> = new Set(['error', 'errors']);

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Throws unless `value` is JSON (no undefined, functions, NaN/Infinity, BigInt or cycles). */
function requireJson(field: string, value: unknown, seen: Set<object> = new Set()): asserts value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError(field, `${value} is not a JSON number`);
    return;
  }
  if (typeof value !== 'object') {
    throw new ValidationError(
      field,
      `must be a JSON value, got ${typeof value}`,
      'Use objects, arrays, strings, numbers, booleans or null.',
    );
  }
  if (seen.has(value)) throw new ValidationError(field, 'contains a cycle');
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, index) => requireJson(`${field}[${index}]`, item, seen));
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new ValidationError(field, `must be a plain JSON object, got ${value.constructor?.name ?? 'an object'}`);
    }
    for (const [key, item] of Object.entries(value)) requireJson(`${field}.${key}`, item, seen);
  }
  seen.delete(value);
}

function requireObject(field: string, value: unknown): asserts value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, `must be a JSON object, got ${Array.isArray(value) ? 'an array' : show(value)}`);
  }
  requireJson(field, value);
}

/**
 * A JSON pointer inside attributes or properties (`a/b`, leading and trailing `/` optional) → `/a/b`. The same
 * rules as the HTTP client's paths: Ditto's key rule for every key, no empty, `.` or `..` segments.
 */
function pointer(field: string, path: string): string {
  const segments = pointerSegments(path, field, dittoJsonKey);
  if (segments.length === 0) throw new ValidationError(field, 'must not be empty', 'e.g. "value" or "location/lat"');
  return `/${segments.join('/')}`;
}

function channelOf(channel: ProtocolChannel | undefined): ProtocolChannel {
  if (channel === undefined) return 'twin';
  if (channel !== 'twin' && channel !== 'live') throw new ValidationError('channel', `must be "twin" or "live", got ${show(channel)}`);
  return channel;
}

function thingTopic(thingId: string, rules: IdRules, rest: string): string {
  const { namespace, name } = splitEntityId(validateThingId(thingId, rules));
  return `${namespace === '' ? '_' : namespace}/${name}/things/${rest}`;
}

function buildHeaders(
  options: EnvelopeOptions | LiveMessageResponseOptions,
  defaults: DittoProtocolHeaders,
  correlationId: string | undefined,
): DittoProtocolHeaders {
  const extra: DittoProtocolHeaders = {};
  if (options.headers !== undefined) {
    if (typeof options.headers !== 'object' || options.headers === null || Array.isArray(options.headers)) {
      throw new ValidationError('headers', 'must be an object of header names to JSON values');
    }
    for (const [name, value] of Object.entries(options.headers)) {
      if (name === '' || CONTROL.test(name) || /\s/.test(name)) throw new ValidationError('headers', `${show(name)} is not a header name`);
      requireJson(`headers.${name}`, value);
      extra[name.toLowerCase()] = value;
    }
  }
  const headers: DittoProtocolHeaders = { ...defaults, ...extra };
  if (correlationId !== undefined) {
    if (typeof correlationId !== 'string' || correlationId === '' || CONTROL.test(correlationId)) {
      throw new ValidationError('correlationId', 'must be a non-empty string without control characters');
    }
    headers['correlation-id'] = correlationId;
  } else if (typeof headers['correlation-id'] !== 'string') {
    headers['correlation-id'] = randomUUID();
  }
  return headers;
}

function commandHeaders(options: EnvelopeOptions, modifying: boolean, contentType?: string): DittoProtocolHeaders {
  const defaults: DittoProtocolHeaders = {};
  if (contentType !== undefined) defaults['content-type'] = contentType;
  if (modifying) defaults['response-required'] = false;
  const headers = buildHeaders(options, defaults, options.correlationId);
  if (options.responseRequired !== undefined) {
    if (typeof options.responseRequired !== 'boolean') throw new ValidationError('responseRequired', 'must be a boolean');
    headers['response-required'] = options.responseRequired;
  }
  return orderHeaders(headers);
}

/** `correlation-id` first, like Ditto's own examples; purely cosmetic. */
function orderHeaders(headers: DittoProtocolHeaders): DittoProtocolHeaders {
  const { 'correlation-id': correlationId, ...rest } = headers;
  return correlationId === undefined ? rest : { 'correlation-id': correlationId, ...rest };
}

function command(
  thingId: string,
  action: 'modify' | 'merge' | 'retrieve',
  path: string,
  value: JsonValue | undefined,
  options: EnvelopeOptions,
): DittoEnvelope {
  const rules = options.rules ?? defaultIdRules;
  const topic = thingTopic(thingId, rules, `${channelOf(options.channel)}/commands/${action}`);
  const headers = commandHeaders(options, action !== 'retrieve', action === 'merge' ? MERGE_PATCH_CONTENT_TYPE : undefined);
  const envelope: DittoEnvelope = { topic, headers, path };
  if (value !== undefined) envelope.value = value;
  return envelope;
}

function featurePath(featureId: string, rules: IdRules): string {
  return `/features/${validateFeatureId(featureId, rules)}`;
}

/** Sets one feature property: `/features/{featureId}/properties/{path}`. */
export function modifyProperty(
  thingId: string,
  featureId: string,
  path: string,
  value: JsonValue,
  options: EnvelopeOptions = {},
): DittoEnvelope {
  const base = featurePath(featureId, options.rules ?? defaultIdRules);
  requireJson('value', value);
  return command(thingId, 'modify', `${base}/properties${pointer('path', path)}`, value, options);
}

/** Merges into one feature property (JSON merge patch; `null` deletes). */
export function mergeProperty(
  thingId: string,
  featureId: string,
  path: string,
  value: JsonValue,
  options: EnvelopeOptions = {},
): DittoEnvelope {
  const base = featurePath(featureId, options.rules ?? defaultIdRules);
  requireJson('value', value);
  return command(thingId, 'merge', `${base}/properties${pointer('path', path)}`, value, options);
}

/** Creates or replaces a whole feature (`{definition?, properties?, desiredProperties?}`). */
export function modifyFeature(thingId: string, featureId: string, feature: JsonObject, options: EnvelopeOptions = {}): DittoEnvelope {
  const path = featurePath(featureId, options.rules ?? defaultIdRules);
  requireObject('feature', feature);
  return command(thingId, 'modify', path, feature, options);
}

/** Merges into a feature (JSON merge patch). */
export function mergeFeature(thingId: string, featureId: string, patch: JsonObject, options: EnvelopeOptions = {}): DittoEnvelope {
  const path = featurePath(featureId, options.rules ?? defaultIdRules);
  requireObject('patch', patch);
  return command(thingId, 'merge', path, patch, options);
}

/** Replaces all attributes. */
export function modifyAttributes(thingId: string, attributes: JsonObject, options: EnvelopeOptions = {}): DittoEnvelope {
  requireObject('attributes', attributes);
  return command(thingId, 'modify', '/attributes', attributes, options);
}

/** Sets one attribute: `/attributes/{path}`. */
export function modifyAttribute(thingId: string, path: string, value: JsonValue, options: EnvelopeOptions = {}): DittoEnvelope {
  const target = `/attributes${pointer('path', path)}`;
  requireJson('value', value);
  return command(thingId, 'modify', target, value, options);
}

/** Merges into the whole thing (JSON merge patch; `null` members delete). */
export function mergeThing(thingId: string, patch: JsonObject, options: EnvelopeOptions = {}): DittoEnvelope {
  requireObject('patch', patch);
  return command(thingId, 'merge', '/', patch, options);
}

/** Asks for the thing (or the selected `fields`). Leaves `response-required` at Ditto's default (true) unless set. */
export function retrieveThing(thingId: string, options: RetrieveOptions = {}): DittoEnvelope {
  const envelope = command(thingId, 'retrieve', '/', undefined, options);
  if (options.fields !== undefined) {
    const list = typeof options.fields === 'string' ? [options.fields] : options.fields;
    if (!Array.isArray(list) || list.length === 0 || list.some((item) => typeof item !== 'string' || item.trim() === '')) {
      throw new ValidationError('fields', 'must be a non-empty string or list of field paths', 'e.g. "thingId,attributes(location)"');
    }
    envelope.fields = list.join(',');
  }
  return envelope;
}

function contentTypeFor(value: JsonValue | undefined, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) {
    if (typeof explicit !== 'string' || explicit === '' || CONTROL.test(explicit)) {
      throw new ValidationError('contentType', 'must be a non-empty media type, e.g. "application/json"');
    }
    return explicit;
  }
  if (value === undefined) return undefined;
  return typeof value === 'string' ? 'text/plain' : 'application/json';
}

/**
 * A live message to (`inbox`) or from (`outbox`) a thing or one of its features: topic
 * `{ns}/{name}/things/live/messages/{subject}`, path `[/features/{id}]/{inbox|outbox}/messages/{subject}`.
 * `response-required` is left to Ditto's default unless set.
 */
export function liveMessage(thingId: string, subject: string, payload: JsonValue | undefined, options: LiveMessageOptions): DittoEnvelope {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', 'must be given with a direction', 'e.g. { direction: "outbox" }');
  }
  const rules = options.rules ?? defaultIdRules;
  if (options.direction !== 'inbox' && options.direction !== 'outbox') {
    throw new ValidationError('direction', `must be "inbox" or "outbox", got ${show(options.direction)}`);
  }
  const checkedSubject = validateMessageSubject(subject);
  const topic = thingTopic(thingId, rules, `live/messages/${checkedSubject}`);
  const feature = options.featureId === undefined ? '' : featurePath(options.featureId, rules);
  if (payload !== undefined) requireJson('payload', payload);
  const defaults: DittoProtocolHeaders = { 'content-type': contentTypeFor(payload, options.contentType) ?? 'application/json' };
  const headers = buildHeaders(options, defaults, options.correlationId);
  if (options.responseRequired !== undefined) {
    if (typeof options.responseRequired !== 'boolean') throw new ValidationError('responseRequired', 'must be a boolean');
    headers['response-required'] = options.responseRequired;
  }
  const envelope: DittoEnvelope = {
    topic,
    headers: orderHeaders(headers),
    path: `${feature}/${options.direction}/messages/${checkedSubject}`,
  };
  if (payload !== undefined) envelope.value = payload;
  return envelope;
}

/**
 * Answers a live message: same topic, the opposite mailbox (`inbox` ↔ `outbox`) of the same thing or
 * feature, the request's `correlation-id`, and `status`.
 */
export function liveMessageResponse(
  request: DittoEnvelope,
  status: number,
  value?: JsonValue,
  options: LiveMessageResponseOptions = {},
): DittoEnvelope {
  if (typeof request !== 'object' || request === null) throw new ValidationError('request', 'must be a Ditto Protocol envelope');
  const topic = parseTopic(request.topic);
  if (topic.criterion !== 'messages' || topic.subject === undefined) {
    throw new ValidationError(
      'request.topic',
      `${show(request.topic)} is not a live message topic`,
      'Only messages can be answered this way.',
    );
  }
  const match = typeof request.path === 'string' ? MESSAGE_PATH.exec(request.path) : null;
  if (!match) {
    throw new ValidationError(
      'request.path',
      `${show(request.path)} is not a message path`,
      'Expected [/features/{id}]/inbox|outbox/messages/{subject}.',
    );
  }
  const correlationId = request.headers?.['correlation-id'];
  if (typeof correlationId !== 'string' || correlationId === '') {
    throw new ValidationError(
      'request.headers.correlation-id',
      'is missing, so the response could not be matched to the message',
      'Ditto always sets it on messages it delivers; check that the envelope was parsed whole.',
    );
  }
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new ValidationError('status', `must be an HTTP status code (100-599), got ${show(status)}`);
  }
  if (value !== undefined) requireJson('value', value);
  const defaults: DittoProtocolHeaders = {};
  const contentType = contentTypeFor(value, options.contentType);
  if (contentType !== undefined) defaults['content-type'] = contentType;
  const headers = orderHeaders(buildHeaders(options, defaults, correlationId));
  const mailbox = match[2] === 'inbox' ? 'outbox' : 'inbox';
  const response: DittoEnvelope = { topic: request.topic, headers, path: `${match[1] ?? ''}/${mailbox}/messages/${match[3] ?? ''}` };
  if (value !== undefined) response.value = value;
  response.status = status;
  return response;
}

/**
 * Parses a topic by Ditto's grammar (`TopicPathParser` in Ditto's protocol module, and the topic specification):
 * `{namespace}/{name}/things/{twin|live|none}/{criterion}/...`, `{namespace}/{name}/policies/{criterion}/...`,
 * `_/{connectionId}/connections/{criterion}/...`. Commands, events, search and streaming carry one action segment;
 * messages a subject (may contain `/`); acks and announcements an optional label or name; errors nothing.
 *
 * One topic has no channel although its group is `things`: the error answer to a search command,
 * `_/_/things/search/errors` (Ditto's `SearchErrorResponseAdapter` builds it as things, channel "none" (omitted),
 * search, error; its documentation example spells the last segment `errors`). It is an error response like any
 * other, so it parses as criterion `errors` without channel and without action.
 *
 * Throws `ValidationError` when the topic does not follow the grammar.
 */
export function parseTopic(topic: string): DittoTopic {
  if (typeof topic !== 'string' || topic === '') throw new ValidationError('topic', `must be a non-empty string, got ${show(topic)}`);
  const fail = (why: string): never => {
    throw new ValidationError(
      'topic',
      `${show(topic)} ${why}`,
      'Expected {namespace}/{name}/things/{twin|live}/{criterion}/{action}, {namespace}/{name}/policies/{criterion}/{action} ' +
        'or _/{connectionId}/connections/announcements/{name}.',
    );
  };
  const segments = topic.split('/');
  const [namespace = '', name = '', group = ''] = segments;
  if (namespace === '' || name === '') fail('has no namespace or name');
  if (!GROUPS.has(group)) fail(`has unknown group ${show(group)} (things, policies or connections)`);
  const parsed = (criterion: ProtocolCriterion): DittoTopic => {
    const topicPath: DittoTopic = { namespace, name, group: group as ProtocolGroup, criterion };
    if (name !== '_') topicPath.entityId = group === 'connections' ? name : `${namespace === '_' ? '' : namespace}:${name}`;
    return topicPath;
  };
  let index = 3;
  let channel: ProtocolChannel | undefined;
  if (group === 'things') {
    const segment = segments[3] ?? '';
    if (segment === 'search' && SEARCH_ERROR_ACTIONS.has(segments.slice(4).join('/'))) return parsed('errors');
    if (segment === 'twin' || segment === 'live') channel = segment;
    else if (segment !== 'none') fail(`has no channel after "things": expected twin, live or none, got ${show(segment)}`);
    index = 4;
  }
  const criterion = segments[index] ?? '';
  if (!CRITERIA.has(criterion)) fail(`has unknown criterion ${show(criterion)}`);
  const result = parsed(criterion as ProtocolCriterion);
  if (channel !== undefined) result.channel = channel;
  const rest = segments.slice(index + 1);
  const joined = rest.join('/');
  switch (result.criterion) {
    case 'messages':
      if (joined === '') fail('has no message subject');
      result.subject = joined;
      break;
    case 'acks':
    case 'announcements':
      if (joined !== '') result.subject = joined;
      break;
    case 'errors':
      if (rest.length > 0) fail('has segments after "errors"');
      break;
    default:
      if (joined === '') fail(`has no action after ${show(criterion)}`);
      if (rest.length > 1) fail(`has segments after the action ${show(rest[0])}`);
      result.action = joined;
  }
  return result;
}

function fromBytes(input: unknown): unknown {
  if (input instanceof Uint8Array) return new TextDecoder('utf-8').decode(input);
  return input;
}

/**
 * Parses and checks an envelope from JSON text, bytes or an already parsed value. Lenient where Ditto
 * and its examples are: `correlation-id` and even `headers` may be missing, unknown fields are dropped,
 * header names are lower-cased, and `response-required: "false"` (string) becomes a boolean.
 */
export function parseEnvelope(json: unknown): DittoEnvelope {
  let input = fromBytes(json);
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input) as unknown;
    } catch (error) {
      throw new ValidationError('envelope', `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('envelope', `must be a JSON object, got ${Array.isArray(input) ? 'an array' : show(input)}`);
  }
  const raw = input as Record<string, unknown>;
  if (typeof raw.topic !== 'string') throw new ValidationError('envelope.topic', 'is missing or not a string');
  parseTopic(raw.topic);
  if (typeof raw.path !== 'string' || !raw.path.startsWith('/')) {
    throw new ValidationError('envelope.path', `must be a JSON pointer starting with "/", got ${show(raw.path)}`);
  }
  const envelope: DittoEnvelope = { topic: raw.topic, headers: parseHeaders(raw.headers), path: raw.path };
  if ('value' in raw && raw.value !== undefined) {
    requireJson('envelope.value', raw.value);
    envelope.value = raw.value;
  }
  if (raw.status !== undefined) {
    if (!Number.isInteger(raw.status)) throw new ValidationError('envelope.status', `must be an integer, got ${show(raw.status)}`);
    envelope.status = raw.status as number;
  }
  if (raw.revision !== undefined) {
    if (typeof raw.revision !== 'number' || !Number.isFinite(raw.revision)) {
      throw new ValidationError('envelope.revision', `must be a number, got ${show(raw.revision)}`);
    }
    envelope.revision = raw.revision;
  }
  if (raw.timestamp !== undefined) {
    if (typeof raw.timestamp !== 'string') throw new ValidationError('envelope.timestamp', 'must be a string');
    envelope.timestamp = raw.timestamp;
  }
  if (raw.fields !== undefined) {
    if (typeof raw.fields !== 'string') throw new ValidationError('envelope.fields', 'must be a string');
    envelope.fields = raw.fields;
  }
  if (raw.extra !== undefined) {
    requireObject('envelope.extra', raw.extra);
    envelope.extra = raw.extra;
  }
  return envelope;
}

function parseHeaders(value: unknown): DittoProtocolHeaders {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError('envelope.headers', 'must be an object');
  const headers: DittoProtocolHeaders = {};
  for (const [name, item] of Object.entries(value)) {
    const key = name.toLowerCase();
    requireJson(`envelope.headers.${name}`, item);
    headers[key] = item;
  }
  const correlationId = headers['correlation-id'];
  if (typeof correlationId === 'number') headers['correlation-id'] = String(correlationId);
  else if (correlationId !== undefined && typeof correlationId !== 'string') {
    throw new ValidationError('envelope.headers.correlation-id', `must be a string, got ${show(correlationId)}`);
  }
  const responseRequired: unknown = headers['response-required'];
  if (responseRequired === 'true' || responseRequired === 'false') headers['response-required'] = responseRequired === 'true';
  else if (responseRequired !== undefined && typeof responseRequired !== 'boolean') {
    throw new ValidationError('envelope.headers.response-required', `must be a boolean, got ${show(responseRequired)}`);
  }
  return headers;
}
