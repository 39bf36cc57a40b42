/**
 * Secret redaction for log fields, URLs and error text.
 *
 * Two mechanisms work together: field names that look secret are masked wherever they occur in a
 * structure, and secret *values* registered with a `Redactor` (passwords, tokens the SDK was given)
 * are masked wherever they occur in a string, so a secret echoed inside an upstream message is
 * still hidden.
 */

export const REDACTED = '[REDACTED]';

const SECRET_KEY =
  /pass(word|wd|phrase)?$|^pwd|secret|token|authorization|cookie|api[-_]?key|private[-_]?key|^key$|^psk|^salt$|^pwd-hash$/i;

/** True when a field of this name holds a secret (`password`, `pwd-plain`, `key`, `authorization`, ...). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

const SECRET_QUERY = /^(pass(word)?|pwd|secret|token|access_token|api[-_]?key|auth|authorization|sig(nature)?)$/i;

/** Removes user info from a URL and masks query parameters that carry secrets. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//');
  }
  parsed.username = '';
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_QUERY.test(key)) parsed.searchParams.set(key, REDACTED);
  }
  return parsed.toString();
}

/** The forms a secret takes in text: as is, URL-encoded (component and userinfo rules), Base64. */
function secretForms(value: string): string[] {
  const forms = [value, Buffer.from(value, 'utf8').toString('base64')];
  try {
    forms.push(encodeURIComponent(value));
  } catch {
    // A lone surrogate has no URL encoding, so the secret cannot appear encoded either.
  }
  try {
    const url = new URL('http://host');
    url.password = value;
    forms.push(url.password);
  } catch {
    // not representable in a URL: the other forms cover it
  }
  return forms;
}

/** Collects secret values and masks them (and secret-looking fields) in anything about to be logged. */
export class Redactor {
  private readonly secrets = new Set<string>();
  /** Longest first, so a secret that contains another is masked whole. */
  private ordered: string[] = [];

  /** Registers a value that must never be printed. Values shorter than 4 characters are ignored (too noisy). */
  addSecret(value: string | undefined): this {
    if (value !== undefined && value.length >= 4) {
      const before = this.secrets.size;
      for (const form of secretForms(value)) this.secrets.add(form);
      if (this.secrets.size !== before) this.ordered = [...this.secrets].sort((a, b) => b.length - a.length);
    }
    return this;
  }

  redactText(text: string): string {
    let out = text;
    for (const secret of this.ordered) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  }

  /** Deep copy with secret-named fields and registered secret values masked. Handles cycles. */
  redact<T>(value: T): T {
    return this.walk(value, new WeakSet()) as T;
  }

  private walk(value: unknown, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    if (value instanceof Error) {
      return { name: value.name, message: this.redactText(value.message) };
    }
    if (Array.isArray(value)) return value.map((item) => this.walk(item, seen));
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      out[key] = isSecretKey(key) && field !== undefined && field !== null ? REDACTED : this.walk(field, seen);
    }
    return out;
  }
}
