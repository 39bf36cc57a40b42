import { ValidationError } from './errors.js';

/**
 * ID rules. Hono and Ditto make these patterns server configuration, so they are options here;
 * the defaults are what Cloud2Edge 0.9 deploys (Hono 2.6 chart values, Ditto 3.5 defaults).
 */
export interface IdRules {
  /** Hono tenant IDs. Hono default `^[a-zA-Z0-9-_\.]+$`. */
  tenant: RegExp;
  /** Hono device IDs. The Cloud2Edge chart widens Hono's default with `:` so device ID = thing ID. */
  device: RegExp;
  /** Hono credential auth-ids (devices log in as `auth-id@tenant`, so `@` and `:` are excluded). */
  authId: RegExp;
  /** Ditto namespaced entity IDs (things, policies): `namespace:name`. */
  entity: RegExp;
  /** Ditto feature IDs. */
  feature: RegExp;
  /** Longest Ditto entity ID accepted by default Ditto configuration. */
  maxEntityIdLength: number;
}

/**
 * Ditto's longest ID, feature ID, JSON key, policy label and message subject, in UTF-16 code units as Java counts
 * them (`AbstractPatternValidator.MAX_LENGTH`; the same limit applies to namespaced entity IDs).
 */
export const DITTO_MAX_LENGTH = 256;

// Ditto's `RegexPatterns` (eclipse-ditto/ditto, base/model/src/main/java/org/eclipse/ditto/base/model/entity/id/
// RegexPatterns.java; documented on "Namespaces and Names"):
// CONTROL_CHARS is U+0000–U+001F and U+007F–U+00FF; names, feature IDs and JSON keys may hold anything else but "/".
// Java matches by code point and JavaScript without the `u` flag by UTF-16 unit; both allow every character
// from U+0100 up, so the results agree (lone surrogates are refused separately, see `requireText`).
const CONTROL_CHARS = String.raw`\x00-\x1F\x7F-\xFF`;
const DITTO_NAME_CHAR = `[^${CONTROL_CHARS}/]`;
// NAMESPACE_REGEX since Ditto 2.2: empty, or segments of `[a-zA-Z]\w*` separated by "." or "-" (`\w` is ASCII in both).
const DITTO_NAMESPACE = String.raw`(?:[a-zA-Z]\w*(?:[.-][a-zA-Z]\w*)*)`;
const NAMESPACE = new RegExp(`^${DITTO_NAMESPACE}$`);
const DITTO_KEY = new RegExp(`^${DITTO_NAME_CHAR}+$`);
const DITTO_KEY_FORBIDDEN = new RegExp(`[${CONTROL_CHARS}/]`);
// DittoMessageSubjectValueValidator (NoControlCharactersValidator): like a key, but "/" is allowed.
const DITTO_CONTROL = new RegExp(`[${CONTROL_CHARS}]`);
// With the `u` flag a string is read by code point, so only a surrogate without its partner is in category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

export const defaultIdRules: Readonly<IdRules> = Object.freeze({
  tenant: /^[a-zA-Z0-9-_.]+$/,
  device: /^[a-zA-Z0-9-_.:]+$/,
  authId: /^[a-zA-Z0-9-_=.]+$/,
  entity: new RegExp(`^(?:|${DITTO_NAMESPACE}):${DITTO_NAME_CHAR}+$`),
  feature: DITTO_KEY,
  maxEntityIdLength: DITTO_MAX_LENGTH,
});

/** Merges partial overrides onto the defaults. */
export function idRules(overrides: Partial<IdRules> = {}): IdRules {
  return { ...defaultIdRules, ...overrides };
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** `U+00FC` for `ü`. */
function codePoint(character: string): string {
  return `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The first code unit that cannot be encoded (a lone surrogate), as `U+D800 at index 1`, or undefined. */
function unencodable(value: string): string | undefined {
  const match = LONE_SURROGATE.exec(value);
  return match ? `${codePoint(match[0])} at index ${match.index}` : undefined;
}

/**
 * The check every ID, key and path segment goes through first: a non-empty string of well-formed UTF-16. A lone
 * surrogate (half of a character such as an emoji) has no UTF-8 encoding: `encodeURIComponent` throws a `URIError`
 * and UTF-8 encoders silently write U+FFFD instead, so the server would see another value, or nothing arrives.
 */
export function requireText(field: string, value: unknown, what = 'value'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(field, `must be a non-empty string, got ${show(value)}`);
  }
  const at = unencodable(value);
  if (at !== undefined) {
    throw new ValidationError(
      field,
      `${what} ${show(value)} contains an unpaired UTF-16 surrogate (${at}), which no URL or UTF-8 encoding can carry`,
      'Pass whole characters: a string cut in the middle of an emoji or decoded from bytes with the wrong encoding ends up like this.',
    );
  }
}

/**
 * True for `.` and `..`. As a whole URL path segment these are dot segments: URL resolution (WHATWG
 * `new URL()`, axios) removes them, also percent-encoded (`%2E%2E`), so `/things/x/features/..` would
 * address the thing itself. Encoding cannot make them safe; they have to be refused.
 */
export function isDotSegment(value: string): boolean {
  return value === '.' || value === '..';
}

/** Throws a `ValidationError` for `field` when `value` is `.` or `..` (see {@link isDotSegment}). */
export function rejectDotSegment(field: string, value: string, what = 'value'): void {
  if (isDotSegment(value)) {
    throw new ValidationError(
      field,
      `${show(value)} is not allowed as a ${what}: "." and ".." are URL dot segments, so the request would address the parent resource instead`,
      'Use a name with at least one character other than ".", e.g. "lamp.1" or "a.b".',
    );
  }
}

export function validateTenantId(tenantId: unknown, rules: IdRules = defaultIdRules, field = 'tenantId'): string {
  requireText(field, tenantId, 'tenant ID');
  rejectDotSegment(field, tenantId, 'tenant ID');
  if (!rules.tenant.test(tenantId)) {
    throw new ValidationError(
      field,
      `${show(tenantId)} does not match the tenant ID pattern ${rules.tenant.source}`,
      'Use letters, digits, "-", "_" and "." only, e.g. "org.acme.plant1".',
    );
  }
  return tenantId;
}

export function validateDeviceId(deviceId: unknown, rules: IdRules = defaultIdRules, field = 'deviceId'): string {
  requireText(field, deviceId, 'device ID');
  rejectDotSegment(field, deviceId, 'device ID');
  if (!rules.device.test(deviceId)) {
    throw new ValidationError(
      field,
      `${show(deviceId)} does not match the device ID pattern ${rules.device.source}`,
      'On Cloud2Edge the device ID is the Ditto thing ID, e.g. "org.acme:lamp-1".',
    );
  }
  return deviceId;
}

export function validateAuthId(authId: unknown, rules: IdRules = defaultIdRules, field = 'authId'): string {
  requireText(field, authId, 'auth-id');
  if (authId.includes('@') || authId.includes(':')) {
    throw new ValidationError(
      field,
      `${show(authId)} contains "${authId.includes('@') ? '@' : ':'}"`,
      'Devices log in as "<auth-id>@<tenant>" with HTTP basic auth, so an auth-id may contain neither "@" nor ":". ' +
        'Use the thing name without its namespace, e.g. "lamp-1".',
    );
  }
  if (!rules.authId.test(authId)) {
    throw new ValidationError(field, `${show(authId)} does not match the auth-id pattern ${rules.authId.source}`);
  }
  return authId;
}

function validateEntityId(kind: string, field: string, value: unknown, rules: IdRules): string {
  requireText(field, value, `${kind} ID`);
  if (value.length > rules.maxEntityIdLength) {
    throw new ValidationError(field, `${kind} ID is ${value.length} characters long; at most ${rules.maxEntityIdLength} are allowed`);
  }
  if (!rules.entity.test(value)) {
    const colon = value.indexOf(':');
    const name = colon < 0 ? undefined : forbiddenCharacter(value.slice(colon + 1));
    throw new ValidationError(
      field,
      `${show(value)} is not a valid ${kind} ID (namespace:name)${name === undefined ? '' : `: its name ${name}`}`,
      'The namespace is empty or segments starting with a letter, separated by "." or "-" ("org.acme"); the name may ' +
        'hold any character from U+0100 up (e.g. "温度") but no "/", control characters or U+007F–U+00FF, e.g. "org.acme:lamp-1".',
    );
  }
  return value;
}

export function validateThingId(thingId: unknown, rules: IdRules = defaultIdRules, field = 'thingId'): string {
  return validateEntityId('thing', field, thingId, rules);
}

export function validatePolicyId(policyId: unknown, rules: IdRules = defaultIdRules, field = 'policyId'): string {
  return validateEntityId('policy', field, policyId, rules);
}

/** A Ditto namespace on its own (not empty), e.g. for a generated thing ID: `org.acme`, `com.some-domain`. */
export function validateNamespace(namespace: unknown, field = 'namespace'): string {
  requireText(field, namespace, 'namespace');
  if (!NAMESPACE.test(namespace)) {
    throw new ValidationError(
      field,
      `${show(namespace)} is not a namespace`,
      'Use segments starting with a letter (letters, digits, "_"), separated by "." or "-", e.g. "org.acme" or "com.some-domain".',
    );
  }
  return namespace;
}

/** The first character of a name or key that Ditto refuses, as `contains U+00E9 at index 4`, or undefined. */
function forbiddenCharacter(value: string): string | undefined {
  const bad = DITTO_KEY_FORBIDDEN.exec(value);
  if (bad === null) return undefined;
  return bad[0] === '/' ? 'contains "/"' : `contains ${codePoint(bad[0])} at index ${bad.index}`;
}

function tooLong(field: string, what: string, value: string): void {
  if (value.length > DITTO_MAX_LENGTH) {
    throw new ValidationError(field, `${what} is ${value.length} characters long; Ditto allows at most ${DITTO_MAX_LENGTH}`);
  }
}

const KEY_HINT =
  'Ditto allows any character from U+0100 up (e.g. "温度"), but no "/", no control characters and nothing from U+007F to U+00FF ' +
  '(so "température" has to be spelt "temperature").';

/**
 * Ditto's rule for a single key: feature IDs, attribute and property keys (`JsonKeyValidator`) and policy labels
 * (`ImmutableLabel`), all checked by `NoControlCharactersNoSlashesValidator`: 1-256 characters, none of them "/",
 * U+0000–U+001F or U+007F–U+00FF. `.` and `..` are refused too, as URL dot segments. `what` names it in messages.
 */
export function validateDittoKey(key: unknown, field: string, what = 'key', pattern: RegExp = DITTO_KEY): string {
  requireText(field, key, what);
  tooLong(field, `${what} ${show(`${key.slice(0, 20)}…`)}`, key);
  rejectDotSegment(field, key, what);
  if (!pattern.test(key)) {
    const why = forbiddenCharacter(key) ?? `does not match ${pattern.source}`;
    throw new ValidationError(field, `${show(key)} is not a valid ${what}: it ${why}`, KEY_HINT);
  }
  return key;
}

export function validateFeatureId(featureId: unknown, rules: IdRules = defaultIdRules, field = 'featureId'): string {
  return validateDittoKey(featureId, field, 'feature ID', rules.feature);
}

/**
 * A Ditto message subject, one rule for the HTTP API (`/inbox|outbox/messages/{subject}`) and the Ditto Protocol
 * (topic `.../things/live/messages/{subject}`). Ditto's own (`DittoMessageSubjectValueValidator`): 1-256 characters
 * without control characters or U+007F–U+00FF; spaces, "?" and "#" are fine (the HTTP client percent-encodes them).
 * The subject is a path in both places, so in addition it may not start or end with "/", hold "//", or have a `.` or
 * `..` segment (URL resolution would remove those).
 */
export function validateMessageSubject(subject: unknown, field = 'subject'): string {
  const hint = 'e.g. "switch" or "state/changed"; on Cloud2Edge the subject is the command name the device receives.';
  requireText(field, subject, 'subject');
  tooLong(field, 'subject', subject);
  const control = DITTO_CONTROL.exec(subject);
  if (control) {
    throw new ValidationError(
      field,
      `${show(subject)} contains ${codePoint(control[0])} at index ${control.index}; Ditto refuses control characters and U+007F–U+00FF in subjects`,
      hint,
    );
  }
  if (subject.startsWith('/') || subject.endsWith('/') || subject.includes('//')) {
    throw new ValidationError(field, `${show(subject)} must not start or end with "/" or contain "//"`, hint);
  }
  for (const segment of subject.split('/')) rejectDotSegment(field, segment, 'subject segment');
  return subject;
}

/** Splits `namespace:name` into its parts (the ID must already be valid). */
export function splitEntityId(entityId: string): { namespace: string; name: string } {
  const colon = entityId.indexOf(':');
  return { namespace: entityId.slice(0, colon), name: entityId.slice(colon + 1) };
}

/**
 * `encodeURIComponent` for any text the SDK puts into a URL, a query or an MQTT topic: a lone surrogate, which has
 * no encoding (`encodeURIComponent` throws an untyped `URIError`), is a `ValidationError` for `field` instead.
 */
export function encodeComponent(field: string, value: string): string {
  const at = unencodable(value);
  if (at !== undefined) {
    throw new ValidationError(
      field,
      `contains an unpaired UTF-16 surrogate (${at}), which no URL or UTF-8 encoding can carry`,
      'Pass whole characters: a string cut in the middle of an emoji or decoded from bytes with the wrong encoding ends up like this.',
    );
  }
  return encodeURIComponent(value);
}

/**
 * One URL path segment, percent-encoded (`:` becomes `%3A`, which Hono and Ditto decode). Every segment the SDK
 * puts into a URL goes through here: an empty string (it would address the collection), a lone surrogate (no
 * encoding exists; `encodeURIComponent` would throw a `URIError`) and `.` or `..` (URL resolution removes them,
 * encoded or not) are refused with a `ValidationError` for `field`.
 */
export function pathSegment(value: string, field = 'path segment'): string {
  requireText(field, value, 'path segment');
  rejectDotSegment(field, value, 'path segment');
  return encodeURIComponent(value);
}

/**
 * The segments of a JSON pointer (`/a/b/c` or `a/b/c`; one leading and one trailing `/` optional, `''` and `'/'`
 * have none). An empty segment (`//`) and `.` or `..` segments are refused; `key` (e.g. {@link validateDittoKey})
 * checks each segment further.
 */
export function pointerSegments(path: string, field = 'path', key?: (segment: string, field: string) => void): string[] {
  if (typeof path !== 'string') throw new ValidationError(field, `must be a string, got ${show(path)}`);
  if (path.includes('//')) {
    throw new ValidationError(field, `${show(path)} has an empty segment ("//")`, 'Write paths like "a/b/c".');
  }
  const trimmed = path.replace(/^\/|\/$/g, '');
  if (trimmed === '') return [];
  const segments = trimmed.split('/');
  for (const segment of segments) {
    if (isDotSegment(segment)) {
      throw new ValidationError(
        field,
        `${show(path)} has the segment ${show(segment)}: "." and ".." are URL dot segments, so the request would address a parent resource instead`,
        'JSON pointers here have no relative segments; name the key itself, e.g. "location/room".',
      );
    }
    key?.(segment, field);
  }
  return segments;
}

/** {@link pointerSegments}, each segment URL-encoded by {@link pathSegment}; the slashes stay. */
export function jsonPointerPath(path: string, field = 'path', key?: (segment: string, field: string) => void): string {
  return pointerSegments(path, field, key)
    .map((segment) => pathSegment(segment, field))
    .join('/');
}

/** For {@link pointerSegments}: each segment is an attribute or property key under Ditto's rule. */
export function dittoJsonKey(segment: string, field: string): void {
  validateDittoKey(segment, field, 'key');
}
