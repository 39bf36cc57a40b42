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

export const defaultIdRules: Readonly<IdRules> = Object.freeze({
  tenant: /^[a-zA-Z0-9-_.]+$/,
  device: /^[a-zA-Z0-9-_.:]+$/,
  authId: /^[a-zA-Z0-9-_=.]+$/,
  // Ditto: namespace is empty or Java-package style; name has no control characters, no '/', nothing >= 0x7F.
  // eslint-disable-next-line no-control-regex
  entity: /^(?:|[a-zA-Z]\w*(?:\.[a-zA-Z]\w*)*):[^\x00-\x1F\x7F-\uFFFF/]+$/,
  // eslint-disable-next-line no-control-regex
  feature: /^[^\x00-\x1F\x7F-\uFFFF/]+$/,
  maxEntityIdLength: 256,
});

/** Merges partial overrides onto the defaults. */
export function idRules(overrides: Partial<IdRules> = {}): IdRules {
  return { ...defaultIdRules, ...overrides };
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function requireString(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(field, `must be a non-empty string, got ${show(value)}`);
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
  requireString(field, tenantId);
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
  requireString(field, deviceId);
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
  requireString(field, authId);
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
  requireString(field, value);
  if (value.length > rules.maxEntityIdLength) {
    throw new ValidationError(field, `${kind} ID is ${value.length} characters long; at most ${rules.maxEntityIdLength} are allowed`);
  }
  if (!rules.entity.test(value)) {
    throw new ValidationError(
      field,
      `${show(value)} is not a valid ${kind} ID (namespace:name)`,
      'The namespace is empty or dot-separated segments starting with a letter ("org.acme"); ' +
        'the name may not contain "/" or control characters, e.g. "org.acme:lamp-1".',
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

export function validateFeatureId(featureId: unknown, rules: IdRules = defaultIdRules, field = 'featureId'): string {
  requireString(field, featureId);
  rejectDotSegment(field, featureId, 'feature ID');
  if (!rules.feature.test(featureId)) {
    throw new ValidationError(field, `${show(featureId)} is not a valid feature ID`, 'Feature IDs may not contain "/" or control characters.');
  }
  return featureId;
}

/** Splits `namespace:name` into its parts (the ID must already be valid). */
export function splitEntityId(entityId: string): { namespace: string; name: string } {
  const colon = entityId.indexOf(':');
  return { namespace: entityId.slice(0, colon), name: entityId.slice(colon + 1) };
}

/**
 * One URL path segment, percent-encoded (`:` becomes `%3A`, which Hono and Ditto decode). `.` and `..`
 * are refused with a `ValidationError` for `field`: no encoding keeps URL resolution from removing them.
 */
export function pathSegment(value: string, field = 'path segment'): string {
  rejectDotSegment(field, value, 'path segment');
  return encodeURIComponent(value);
}

/**
 * A JSON pointer path for Ditto resources (`/a/b/c` or `a/b/c`). Each segment is validated non-empty
 * and not `.` or `..` (URL dot segments), and URL-encoded; the slashes stay.
 */
export function jsonPointerPath(path: string, field = 'path'): string {
  if (typeof path !== 'string') throw new ValidationError(field, `must be a string, got ${show(path)}`);
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  const segments = trimmed.split('/');
  if (segments.some((segment) => segment === '')) {
    throw new ValidationError(field, `${show(path)} has an empty segment ("//")`, 'Write paths like "a/b/c".');
  }
  for (const segment of segments) {
    if (isDotSegment(segment)) {
      throw new ValidationError(
        field,
        `${show(path)} has the segment ${show(segment)}: "." and ".." are URL dot segments, so the request would address a parent resource instead`,
        'JSON pointers here have no relative segments; name the key itself, e.g. "location/room".',
      );
    }
  }
  return segments.map((segment) => pathSegment(segment, field)).join('/');
}
