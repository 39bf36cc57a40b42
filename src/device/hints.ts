import type { MessageKind } from './errors.js';
import { CONNACK_REASON_CODES as MQTT5, CONNACK_RETURN_CODES as MQTT311 } from './mqtt-codes.js';

export interface HintContext {
  /** What the device logs in as (`auth-id@tenant`), or undefined for X.509. */
  username: string | undefined;
  /** Set when the message was sent on behalf of another device (gateway). */
  onBehalfOf: string | undefined;
  kind: MessageKind | 'command-poll';
  limitBytes: number;
}

/** What a device developer can do about an adapter status (Hono 2.6 HTTP and MQTT adapters). */
export function deviceHint(status: number, context: HintContext): string | undefined {
  switch (status) {
    case 400:
      return context.kind === 'command-response'
        ? 'The adapter could not read the command response: the status must be 200-599 and the request id the one the command carried.'
        : 'The adapter could not read the message: a content type is required, only the empty notification may have an empty body, and QoS must be 0 or 1.';
    case 401:
      return context.username === undefined
        ? 'The adapter did not accept the client certificate: register the tenant trust anchor (CA) and an x509-cert credential whose auth-id is the subject DN.'
        : `The adapter did not accept "${context.username}": the username must be <auth-id>@<tenant> and the password the one of the device's hashed-password credential.`;
    case 403:
      return context.onBehalfOf === undefined
        ? 'The tenant may not use this adapter (adapter disabled in the tenant configuration), or the registration could not be asserted.'
        : `The gateway may not act for "${context.onBehalfOf}": add the gateway's device id to that device's "via" list, and check both are in the same tenant.`;
    case 404:
      return context.onBehalfOf === undefined
        ? 'The device (or its tenant) does not exist or is disabled. Provision it first, e.g. with Cloud2Edge.provisionDevice().'
        : `Device "${context.onBehalfOf}" does not exist or is disabled in this tenant.`;
    case 413:
      return `Hono adapters accept at most ${context.limitBytes} bytes per message by default. Store large payloads off-chain (IPFS) and send only the reference and hash, or raise the adapter limit and maxPayloadBytes together.`;
    case 429:
      return "The tenant's message limit for the current period is exceeded; the SDK retries with backoff (option retry).";
    case 503:
      return context.kind === 'command-response'
        ? 'No application waits for this response any more (it gave up or never listened); answer commands quickly.'
        : 'No downstream consumer took the message (e.g. the Ditto connection for this tenant is missing or closed, or has no credit). The SDK retries with backoff; provisionDevice() creates the connection.';
    default:
      return undefined;
  }
}

/** Hints for MQTT CONNACK return codes (MQTT 3.1.1) and the matching MQTT 5 reason codes. */
export function connackHint(returnCode: number, username: string | undefined): string | undefined {
  switch (returnCode) {
    case MQTT311.UNACCEPTABLE_PROTOCOL_VERSION:
    case MQTT5.UNSUPPORTED_PROTOCOL_VERSION:
      return "Hono 2.6's MQTT adapter speaks MQTT 3.1.1 only: use protocolVersion 4 (the default).";
    case MQTT311.IDENTIFIER_REJECTED:
    case MQTT5.CLIENT_IDENTIFIER_NOT_VALID:
      return 'The client identifier was rejected; leave clientId unset to get a generated one.';
    case MQTT311.SERVER_UNAVAILABLE:
    case MQTT5.SERVER_UNAVAILABLE:
      return 'The adapter is at its connection limit or cannot reach the device registry; the SDK retries with backoff.';
    case MQTT311.BAD_USERNAME_OR_PASSWORD:
    case MQTT5.BAD_USERNAME_OR_PASSWORD:
      return username === undefined
        ? 'The adapter rejected the credentials.'
        : `The adapter rejected "${username}": the username must be <auth-id>@<tenant> and the password the one of the device's hashed-password credential.`;
    case MQTT311.NOT_AUTHORIZED:
    case MQTT5.NOT_AUTHORIZED:
      return 'Not authorized: wrong credentials, the device or tenant is disabled, the MQTT adapter is disabled for the tenant, or the tenant reached its connection or message limit.';
    default:
      return undefined;
  }
}
