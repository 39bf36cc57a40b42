/**
 * Endpoint addresses (base URLs, endpoint URLs, host names, `host:port` broker addresses) as they enter the SDK.
 *
 * The rule, the same for every client: **credentials never travel inside an address.**
 * - A value that contains `@` (what separates user info from the host) is refused with a `ValidationError`
 *   whose hint says which option takes the credentials instead. The check is textual, before any parsing,
 *   because a password with `/`, `#` or `?` in it makes the URL parser see a different host and no user
 *   info at all (`http://user:pa/ss@host` parses as host `user`, port `pa`). A path that really needs an
 *   `@` spells it `%40`.
 * - No error about an address repeats the value, valid or not: messages name the field and the problem
 *   (and the scheme when it is a well-known one), never the text that was passed. A value the URL parser
 *   refuses never surfaces as a `TypeError` (whose `input` field carries the whole URL).
 *
 * Credentials given through their own options are registered with the `Redactor`, so they stay masked
 * also when a server echoes them back.
 */
import { isIP } from 'node:net';
import { ValidationError } from './errors.js';

export interface EndpointUrlRule {
  /** Accepted schemes, lower case, without `:`, e.g. `['http', 'https']`. */
  schemes: readonly string[];
  /** A well-formed value, shown in hints. */
  example: string;
  /** Which options take credentials instead of the URL, e.g. "the `credentials` option". */
  credentialsIn: string;
  /**
   * Scheme for a value without `scheme://` (Cloud2Edge prints some addresses as bare `host:port`).
   * Without it such values are refused.
   */
  defaultScheme?: string;
}

export interface HostRule {
  /** A well-formed value, shown in hints. */
  example: string;
  /** Which options take credentials instead of the address. */
  credentialsIn: string;
}

/** Schemes safe to name in a message (a scheme-like prefix of an arbitrary string could be anything). */
const KNOWN_SCHEMES: ReadonlySet<string> = new Set([
  'http',
  'https',
  'ws',
  'wss',
  'ftp',
  'ftps',
  'sftp',
  'ssh',
  'file',
  'mqtt',
  'mqtts',
  'amqp',
  'amqps',
  'kafka',
  'tcp',
  'tls',
  'ssl',
  'ldap',
  'ldaps',
  'unix',
]);

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;

function refuseUserInfo(field: string, credentialsIn: string, isUrl: boolean): ValidationError {
  return new ValidationError(
    field,
    'must not carry a user name or password (it contains "@"); the value is not repeated here',
    `Pass credentials as ${credentialsIn}.${isUrl ? ' A path that needs "@" spells it %40.' : ''}`,
  );
}

function schemes(rule: EndpointUrlRule): string {
  return rule.schemes.map((scheme) => `${scheme}://`).join(' or ');
}

/** Why the URL parser refused a value, in words that do not repeat it. */
function invalidReason(text: string): string {
  const authority = text.replace(SCHEME, '').split(/[/?#\\]/, 1)[0] ?? '';
  const port = /^\[[^\]]*\](?::(.*))?$/.exec(authority)?.[1] ?? /^[^:[\]]*:(.*)$/.exec(authority)?.[1];
  if (port !== undefined && port !== '' && (!/^\d+$/.test(port) || Number(port) > 65_535)) {
    return 'its port is not a number from 0 to 65535';
  }
  if (/\s/.test(authority)) return 'its host contains white space';
  if (authority === '') return 'it has no host';
  return 'check the host name for characters that need percent-encoding';
}

/**
 * Checks an endpoint URL against `rule` and the credentials rule above; returns the parsed URL.
 * Throws `ValidationError` naming `field`, never repeating `value`.
 */
export function checkedEndpointUrl(field: string, value: unknown, rule: EndpointUrlRule): URL {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(field, `must be a URL string such as ${rule.example}`);
  }
  if (value.includes('@')) throw refuseUserInfo(field, rule.credentialsIn, true);
  let text = value.trim();
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (rule.defaultScheme === undefined) {
      throw new ValidationError(field, `must start with ${schemes(rule)}`, `Use a value like ${rule.example}.`);
    }
    text = `${rule.defaultScheme}://${text}`;
  } else if (!rule.schemes.includes(scheme)) {
    const named = KNOWN_SCHEMES.has(scheme) ? `${scheme}://` : 'another scheme';
    throw new ValidationError(field, `must be an ${schemes(rule)} URL, not ${named}`, `Use a value like ${rule.example}.`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // No `cause`: the parser's TypeError carries the whole input.
    throw new ValidationError(
      field,
      `is not a valid URL (${invalidReason(text)}); the value is not repeated here`,
      `Use a value like ${rule.example}.`,
    );
  }
  // Unreachable after the "@" check; kept so that no future parser quirk lets user info through.
  if (url.username !== '' || url.password !== '') throw refuseUserInfo(field, rule.credentialsIn, true);
  if (url.hostname === '') throw new ValidationError(field, 'has no host', `Use a value like ${rule.example}.`);
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(text)) {
    throw new ValidationError(
      field,
      'must not have a query (?) or a fragment (#): paths are appended to it',
      `Use a value like ${rule.example}.`,
    );
  }
  return url;
}

/**
 * An http(s) base URL that paths are appended to: checked by `checkedEndpointUrl`, normalised (what the
 * parser understood, not the raw text), without trailing slashes.
 */
export function checkedHttpBaseUrl(field: string, value: unknown, rule: Omit<EndpointUrlRule, 'schemes'>): string {
  const url = checkedEndpointUrl(field, value, { ...rule, schemes: ['http', 'https'] });
  return url.href.replace(/\/+$/, '');
}

/** A host name or IP address (IPv6 without brackets), nothing else: no scheme, port, path or user info. */
export function checkedHost(field: string, value: unknown, rule: HostRule): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(field, `must be a host name or IP address such as ${rule.example}`);
  }
  if (value.includes('@')) throw refuseUserInfo(field, rule.credentialsIn, false);
  if (isIP(value) === 0 && !HOST_NAME.test(value)) {
    const why = value.includes('://') ? ', not a URL' : /^[^:]+:\d*$/.test(value) ? ' (the port has a setting of its own)' : '';
    throw new ValidationError(
      field,
      `must be a host name or IP address${why}; the value is not repeated here`,
      `Use a value like ${rule.example}.`,
    );
  }
  return value;
}

/** A `host:port` address (IPv6 in brackets), e.g. a Kafka bootstrap server. Returns it unchanged. */
export function checkedHostPort(field: string, value: unknown, rule: HostRule): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(field, `must be host:port such as ${rule.example}`);
  if (value.includes('@')) throw refuseUserInfo(field, rule.credentialsIn, false);
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  const hostOk = match?.[1] !== undefined ? isIP(match[1]) === 6 : host !== undefined && (isIP(host) === 4 || HOST_NAME.test(host));
  if (!hostOk || !Number.isInteger(port) || port < 1 || port > 65_535) {
    const why = value.includes('://') ? ', not a URL' : '';
    throw new ValidationError(
      field,
      `must be host:port with a port from 1 to 65535${why}; the value is not repeated here`,
      `Use a value like ${rule.example}.`,
    );
  }
  return value;
}
