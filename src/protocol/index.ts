/**
 * The Ditto Protocol codec: envelope builders, topic and envelope parsing, and the JSON types they use. A leaf
 * module (it uses only `core`) shared by the Ditto client and the device clients.
 */
export {
  DITTO_PROTOCOL_CONTENT_TYPE,
  liveMessage,
  liveMessageResponse,
  mergeFeature,
  mergeProperty,
  mergeThing,
  modifyAttribute,
  modifyAttributes,
  modifyFeature,
  modifyProperty,
  parseEnvelope,
  parseTopic,
  retrieveThing,
  type DittoEnvelope,
  type DittoProtocolHeaders,
  type DittoTopic,
  type EnvelopeOptions,
  type LiveMessageOptions,
  type LiveMessageResponseOptions,
  type MessageDirection,
  type ProtocolChannel,
  type ProtocolCriterion,
  type ProtocolGroup,
  type RetrieveOptions,
} from './codec.js';
export type { JsonArray, JsonObject, JsonPrimitive, JsonValue } from './json.js';
// What the builders and parsers throw and take, without the rest of the core API (its TLS and configuration code):
// this entry point stays a leaf.
export { TwinLedgerError, ValidationError, type TwinLedgerErrorOptions } from '../core/errors.js';
export { idRules, type IdRules } from '../core/ids.js';
