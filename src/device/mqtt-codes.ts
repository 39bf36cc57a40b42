/**
 * MQTT return and reason codes the device client acts on. Hono 2.6's MQTT adapter speaks MQTT 3.1.1, so its
 * CONNACK carries a 3.1.1 return code; a broker speaking MQTT 5 answers with the matching reason code instead.
 */

/** MQTT 3.1.1 CONNACK return codes (section 3.2.2.3), as Hono's MQTT adapter sends them. */
export const CONNACK_RETURN_CODES = Object.freeze({
  ACCEPTED: 0,
  UNACCEPTABLE_PROTOCOL_VERSION: 1,
  IDENTIFIER_REJECTED: 2,
  /** Hono: at its connection limit, or the device registry is unreachable. */
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  /** Hono: device or tenant disabled, adapter disabled for the tenant, or a tenant limit reached. */
  NOT_AUTHORIZED: 5,
} as const);

/** MQTT 5 CONNACK reason codes (section 3.2.2.2) with the same meanings. */
export const CONNACK_REASON_CODES = Object.freeze({
  UNSPECIFIED_ERROR: 0x80,
  UNSUPPORTED_PROTOCOL_VERSION: 0x84,
  CLIENT_IDENTIFIER_NOT_VALID: 0x85,
  BAD_USERNAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
} as const);

/** The SUBACK return code of a refused subscription (MQTT 3.1.1 `0x80` Failure). */
export const SUBACK_FAILURE = 0x80;
