import { X509Certificate } from 'node:crypto';
import { ValidationError } from '../core/errors.js';

const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|(?:OID\.)?\d+(?:\.\d+)*)$/i;

interface Ava {
  type: string;
  value: string;
}

/** Splits `text` at unescaped, unquoted occurrences of any of `separators`. */
function splitUnescaped(text: string, separators: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (char === '\\' && i + 1 < text.length) {
      current += char + (text[i + 1] as string);
      i += 1;
    } else if (char === '"') {
      quoted = !quoted;
      current += char;
    } else if (!quoted && separators.includes(char)) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** Trims whitespace that is not escaped with a backslash. */
function trimUnescaped(value: string): string {
  let start = 0;
  while (start < value.length && value[start] === ' ') start += 1;
  let end = value.length;
  while (end > start && value[end - 1] === ' ') {
    let backslashes = 0;
    for (let i = end - 2; i >= start && value[i] === '\\'; i -= 1) backslashes += 1;
    if (backslashes % 2 === 1) break;
    end -= 1;
  }
  return value.slice(start, end);
}

function parseDn(field: string, dn: unknown): Ava[][] {
  if (typeof dn !== 'string' || dn.trim() === '') {
    throw new ValidationError(field, 'must be a non-empty RFC 2253 subject DN, e.g. "CN=lamp-1,O=ACME,C=DE"');
  }
  return splitUnescaped(dn, ',;').map((rdn) =>
    splitUnescaped(rdn, '+').map((ava) => {
      const eq = ava.indexOf('=');
      const type = eq < 0 ? '' : ava.slice(0, eq).trim();
      if (eq < 0 || !ATTRIBUTE_TYPE.test(type)) {
        throw new ValidationError(
          field,
          `${JSON.stringify(dn)} is not an RFC 2253 distinguished name ("${ava.trim()}" is not TYPE=value)`,
          'Write it like "CN=lamp-1,OU=iot,O=ACME,C=DE" (most specific first); escape "," "+" "=" in values with "\\".',
        );
      }
      return {
        type: /^[A-Za-z]/.test(type) && !/^OID\./i.test(type) ? type.toUpperCase() : type.replace(/^OID\./i, ''),
        value: trimUnescaped(ava.slice(eq + 1)),
      };
    }),
  );
}

/**
 * Normalises an RFC 2253 subject DN the way Hono stores it as an auth-id: no blanks around separators,
 * attribute types in upper case (`cn=a, o=b` → `CN=a,O=b`). Throws `ValidationError` if it is not a DN.
 */
export function normalizeSubjectDn(dn: unknown, field = 'subjectDn'): string {
  return parseDn(field, dn)
    .map((rdn) => rdn.map((ava) => `${ava.type}=${ava.value}`).join('+'))
    .join(',');
}

/** True when both DNs name the same subject after normalisation (false if either is not a DN). */
export function sameSubjectDn(a: string, b: string): boolean {
  try {
    return normalizeSubjectDn(a) === normalizeSubjectDn(b);
  } catch {
    return false;
  }
}

export interface ParsedCertificate {
  /** Base64 of the DER encoding, what the registry's `cert` property takes. */
  der: string;
  /** The subject DN in RFC 2253 order (most specific RDN first), as Hono derives the auth-id. */
  subjectDn: string;
}

/** Reads the first certificate of a PEM text. Throws `ValidationError` when there is none or it does not parse. */
export function parseCertificatePem(pem: unknown, field = 'certificatePem'): ParsedCertificate {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ValidationError(field, 'must be a PEM text containing "-----BEGIN CERTIFICATE-----"');
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new ValidationError(field, `is not a readable X.509 certificate (${(error as Error).message})`);
  }
  // Node prints the subject one RDN per line in certificate order (least specific first), values
  // already escaped as RFC 2253 demands; RFC 2253 lists them the other way round.
  const subjectDn = certificate.subject
    .split('\n')
    .filter((line) => line !== '')
    .reverse()
    .map((rdn) => rdn.split(' + ').join('+'))
    .join(',');
  return { der: certificate.raw.toString('base64'), subjectDn };
}
