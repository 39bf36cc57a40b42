import canonicalize from 'canonicalize';
import { ValidationError } from '../core/errors.js';
import { requireText } from '../core/ids.js';

/** A record's payload as bytes with its content type: bytes as given, strings as UTF-8, anything else as canonical JSON. */
export function payloadBytes(payload: unknown, contentType: unknown): { bytes: Uint8Array; contentType: string } {
  if (contentType !== undefined && (typeof contentType !== 'string' || contentType.trim() === '' || contentType.length > 256)) {
    throw new ValidationError('contentType', 'must be a media type of 1 to 256 characters, e.g. "application/json"');
  }
  // Whole characters only, as every text field of the envelope (which the anchorer does not check again).
  if (contentType !== undefined) requireText('contentType', contentType, 'content type');
  if (payload instanceof Uint8Array) return { bytes: payload, contentType: contentType ?? 'application/octet-stream' };
  if (typeof payload === 'string') return { bytes: Buffer.from(payload, 'utf8'), contentType: contentType ?? 'text/plain; charset=utf-8' };
  if (payload === undefined) throw new ValidationError('payload', 'is required: bytes, a string or a JSON value');
  let text: string | undefined;
  try {
    text = canonicalize(payload);
  } catch (error) {
    throw new ValidationError('payload', `cannot be written as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (text === undefined) throw new ValidationError('payload', 'cannot be written as JSON (a function or a symbol?)');
  return { bytes: Buffer.from(text, 'utf8'), contentType: contentType ?? 'application/json' };
}
