/**
 * The record envelope as a Merkle leaf: its canonical JSON (RFC 8785) is the leaf data, and the leaf hash is
 * SHA-256(0x00 ‖ those bytes) (RFC 9162). Every field is a string or an integer, so the canonical form is simply the
 * fields sorted by name, written as JSON without spaces (docs/proofs.md).
 */
import canonicalize from 'canonicalize';
import { ValidationError } from '../core/errors.js';
import { hashLeaf } from '../merkle/index.js';
import { type FieldErrorClass, exactFields, hex, payloadCid, plainObject, safeInteger, text, utcMillis } from './fields.js';
import { RECORD_KINDS, type RecordEnvelope, type RecordKind } from './types.js';

const FIELDS = [
  'v',
  'tenant',
  'thingId',
  'kind',
  'seq',
  'ts',
  'payloadCid',
  'payloadSha256',
  'payloadSize',
  'contentType',
  'salt',
] as const satisfies ReadonlyArray<keyof RecordEnvelope>;

/**
 * Checks that `value` is a `RecordEnvelope` exactly: every field present with its type and form, no other field.
 * Throws `errorClass` (default `ValidationError`) naming the field (`${field}.ts`). Returns a copy.
 */
export function checkEnvelope(value: unknown, field = 'envelope', errorClass: FieldErrorClass = ValidationError): RecordEnvelope {
  const object = plainObject(value, field, errorClass);
  exactFields(object, field, FIELDS, [], errorClass);
  const name = (key: (typeof FIELDS)[number]) => `${field}.${key}`;
  if (object.v !== 1) throw new errorClass(name('v'), `must be 1, the envelope version this SDK reads; got ${JSON.stringify(object.v)}`);
  const kind = object.kind;
  if (typeof kind !== 'string' || !(RECORD_KINDS as readonly string[]).includes(kind)) {
    throw new errorClass(name('kind'), `must be one of ${RECORD_KINDS.join(', ')}; got ${JSON.stringify(kind)}`);
  }
  return {
    v: 1,
    tenant: text(object.tenant, name('tenant'), errorClass),
    thingId: text(object.thingId, name('thingId'), errorClass),
    kind: kind as RecordKind,
    seq: safeInteger(object.seq, name('seq'), 1, errorClass),
    ts: utcMillis(object.ts, name('ts'), errorClass),
    payloadCid: payloadCid(object.payloadCid, name('payloadCid'), errorClass),
    payloadSha256: hex(object.payloadSha256, name('payloadSha256'), 32, errorClass),
    payloadSize: safeInteger(object.payloadSize, name('payloadSize'), 0, errorClass),
    contentType: text(object.contentType, name('contentType'), errorClass),
    salt: hex(object.salt, name('salt'), 16, errorClass),
  };
}

/** The leaf data: the UTF-8 bytes of the envelope's canonical JSON (RFC 8785). Checks the envelope first. */
export function envelopeBytes(envelope: RecordEnvelope): Uint8Array {
  // A checked envelope is plain JSON, which canonicalize always serialises.
  return Buffer.from(canonicalize(checkEnvelope(envelope)) as string, 'utf8');
}

/** The envelope's RFC 9162 leaf hash, SHA-256(0x00 ‖ envelopeBytes(envelope)), as lower-case hex. */
export function envelopeLeafHash(envelope: RecordEnvelope): string {
  return Buffer.from(hashLeaf(envelopeBytes(envelope))).toString('hex');
}

/** `envelopeLeafHash` of an envelope the anchorer has just built from checked parts (no second check on the hot path). */
export function builtEnvelopeLeafHash(envelope: RecordEnvelope): string {
  return Buffer.from(hashLeaf(Buffer.from(canonicalize(envelope) as string, 'utf8'))).toString('hex');
}
