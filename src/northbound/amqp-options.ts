/**
 * Options of the AMQP 1.0 northbound client, their defaults, and the address mapping from Hono's
 * addresses (`telemetry/{tenant}`, ...) to whatever the messaging network calls them.
 */
import { randomUUID } from 'node:crypto';
import { checkedHost } from '../core/endpoint.js';
import { ValidationError } from '../core/errors.js';
import type { IdRules } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Redactor } from '../core/redact.js';
import { type ReconnectOptions, type ResolvedReconnect, durationMs, integerOption, resolveReconnect, showValue } from '../core/options.js';
import { ExponentialBackoff, type RetryPolicy } from '../core/retry.js';
import type { TlsOptions } from '../core/tls.js';
import { MAX_PREFETCH, validateCommandsWhileDisconnected, validatePrefetch } from './decode.js';
import type { CommandsWhileDisconnected } from './types.js';

/** The addresses the client uses. Placeholders: `{tenant}`, `{deviceId}` (commandTo only), `{replyId}` (commandResponse only). */
export interface AmqpAddressTemplates {
  /** Receiver source for telemetry. Default `telemetry/{tenant}`. */
  telemetry: string;
  /** Receiver source for events. Default `event/{tenant}`. */
  event: string;
  /** Sender target for commands. Default `command/{tenant}`. */
  command: string;
  /** The `to` property of a command message (not a link address, never passed through `addressPattern`). Default `command/{tenant}/{deviceId}`. */
  commandTo: string;
  /** Receiver source for command responses, also sent as `reply-to`. Default `command_response/{tenant}/{replyId}`. */
  commandResponse: string;
}

export type AmqpAddressKind = keyof AmqpAddressTemplates;

/** Hono's own addresses (what Qpid Dispatch Router in Cloud2Edge's AMQP profile expects). */
export const HONO_ADDRESSES: Readonly<AmqpAddressTemplates> = Object.freeze({
  telemetry: 'telemetry/{tenant}',
  event: 'event/{tenant}',
  command: 'command/{tenant}',
  commandTo: 'command/{tenant}/{deviceId}',
  commandResponse: 'command_response/{tenant}/{replyId}',
});

/**
 * Rewrites a link address after the template was filled in. A string contains `{address}`, e.g.
 * `/queue/{address}`; a function gets the address and its kind.
 */
export type AmqpAddressPattern = string | ((address: string, kind: Exclude<AmqpAddressKind, 'commandTo'>) => string);

/**
 * Addressing for RabbitMQ's `rabbitmq_amqp1_0` plugin (3.x), which accepts only `/queue/<name>`,
 * `/topic/<key>` and `/exchange/<name>/<key>`: `telemetry/t1` becomes `/queue/telemetry.t1`, declared as a
 * durable queue (RabbitMQ declares a queue on attach, durable when the terminus is, and refuses a link whose
 * durability differs from the existing queue's).
 */
export const RABBITMQ_ADDRESSING = Object.freeze({
  addressPattern: '/queue/{address}',
  addressSeparator: '.',
  terminusDurability: 2,
} as const);

/** AMQP terminus durability: 0 none, 1 configuration, 2 unsettled-state. */
export type TerminusDurability = 0 | 1 | 2;

/** What `settle` does with a message whose loop body threw or broke out. */
export type AmqpFailureOutcome = 'released' | 'modified';

/** SASL PLAIN credentials. Cloud2Edge / Hono example network: `consumer@HONO` / `verysecret`. */
export interface AmqpCredentials {
  username: string;
  /** Registered with the redactor: never logged. */
  password: string;
}

export interface AmqpNorthboundOptions {
  /**
   * Host of the AMQP messaging network (Cloud2Edge: `AMQP_NETWORK_IP`). Required. A host name or IP address
   * only: no scheme, port or `user:password@` (credentials go into `credentials`).
   */
  host: string;
  /** Default 15672, or 15671 with `tls` (the ports of Hono's example Dispatch Router service). */
  port?: number;
  /** TLS settings; `true` uses the system CAs. Default: plain TCP. Verification is always on. */
  tls?: TlsOptions | boolean;
  /** SASL PLAIN. Cloud2Edge / Hono example network: `{ username: 'consumer@HONO', password: 'verysecret' }`. Without it: SASL ANONYMOUS. */
  credentials?: AmqpCredentials;
  /** AMQP `hostname` of the open frame (a virtual host, e.g. RabbitMQ `vhost:<name>`). Default: `host`. */
  virtualHost?: string;
  /** AMQP container ID. Default `twinledger-<uuid>`. */
  containerId?: string;
  /**
   * Reconnects after the connection is lost. `policy` also times the attempts of `connect()` and the re-attaching of
   * links the peer closed. Defaults: `policy` exponential backoff, 500 ms doubling to 30 s, full jitter, unlimited
   * attempts (`defaultReconnectPolicy()`); `stableAfterMs` 10 000 — the attempt count (and each link's re-attach count)
   * resets only after the connection (the link) stayed open this long, so a peer that drops every connection, or
   * refuses a link, right after opening it meets a growing delay.
   */
  reconnect?: ReconnectOptions;
  /** Deadline of one connection attempt (TCP + TLS + SASL + open) and default deadline of `connect()`. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** AMQP idle timeout announced to the peer (heartbeats). Default 30 000 ms; 0 disables. */
  idleTimeoutMs?: number;
  /** Per-address overrides of `HONO_ADDRESSES`. */
  addresses?: Partial<AmqpAddressTemplates>;
  /** Rewrites every link address (see `RABBITMQ_ADDRESSING`). Default: unchanged. */
  addressPattern?: AmqpAddressPattern;
  /** Replaces `/` inside the filled-in address before `addressPattern` applies. Default `/` (unchanged). */
  addressSeparator?: string;
  /**
   * `durable` of the telemetry, event and command link termini. Default 0 (what Hono's router expects); brokers
   * that declare queues on attach (RabbitMQ) make the queue durable for 1 or 2. Reply receivers always use 0.
   */
  terminusDurability?: TerminusDurability;
  /** Default `prefetch` of `telemetry()`/`events()`: unsettled messages in flight per stream. Default 32. */
  prefetch?: number;
  /** Default command response timeout. Default 10 000 ms. */
  commandTimeoutMs?: number;
  /**
   * How long a command waits for sender credit before `NoCommandConsumerError`. Hono's router grants credit only
   * while some device of the tenant is subscribed for commands. Default 5 000 ms (never longer than the command's timeout).
   */
  commandCreditWaitMs?: number;
  /**
   * `sendCommand` / `sendOneWayCommand` called while the connection is lost and being re-established (state
   * `reconnecting`): `'wait'` (default) for it until the command's timeout, or `'fail'` at once with
   * `NorthboundNotConnectedError`.
   */
  commandsWhileDisconnected?: CommandsWhileDisconnected;
  /**
   * Outcome for a message whose loop body threw or broke out. `released` (default) is understood by every broker
   * (RabbitMQ 3.x refuses `modified`); `modified` (delivery-failed) lets brokers count redeliveries.
   */
  failureOutcome?: AmqpFailureOutcome;
  logger?: Logger;
  /** Gets the password registered, so logs never show it. */
  redactor?: Redactor;
  idRules?: Partial<IdRules>;
}

/** Options with every default applied. */
export interface ResolvedAmqpOptions {
  host: string;
  port: number;
  tls: TlsOptions | undefined;
  credentials: AmqpCredentials | undefined;
  virtualHost: string | undefined;
  containerId: string;
  reconnect: ResolvedReconnect;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  addresses: AmqpAddressTemplates;
  addressPattern: AmqpAddressPattern | undefined;
  addressSeparator: string;
  terminusDurability: TerminusDurability;
  prefetch: number;
  commandTimeoutMs: number;
  commandCreditWaitMs: number;
  commandsWhileDisconnected: CommandsWhileDisconnected;
  failureOutcome: AmqpFailureOutcome;
}

export const AMQP_DEFAULTS = Object.freeze({
  port: 15672,
  tlsPort: 15671,
  connectTimeoutMs: 10_000,
  stableAfterMs: 10_000,
  idleTimeoutMs: 30_000,
  prefetch: 32,
  maxPrefetch: MAX_PREFETCH,
  commandTimeoutMs: 10_000,
  commandCreditWaitMs: 5_000,
});

/** The default reconnect policy: never gives up, 0.5 s → 30 s. */
export function defaultReconnectPolicy(): RetryPolicy {
  return new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 500, maxDelayMs: 30_000 });
}

function validateTemplate(kind: AmqpAddressKind, template: unknown): string {
  if (typeof template !== 'string' || template.trim() === '') {
    throw new ValidationError(`addresses.${kind}`, `must be a non-empty string, got ${JSON.stringify(template)}`);
  }
  const required =
    kind === 'commandResponse' ? ['{tenant}', '{replyId}'] : kind === 'commandTo' ? ['{tenant}', '{deviceId}'] : ['{tenant}'];
  for (const placeholder of required) {
    if (!template.includes(placeholder)) {
      throw new ValidationError(
        `addresses.${kind}`,
        `${JSON.stringify(template)} lacks ${placeholder}`,
        `The default is ${JSON.stringify(HONO_ADDRESSES[kind])}.`,
      );
    }
  }
  return template;
}

function resolveCredentials(value: unknown): AmqpCredentials | undefined {
  if (value === undefined) return undefined;
  const hint = "SASL PLAIN: { username, password }; Cloud2Edge's AMQP network accepts consumer@HONO / verysecret by default.";
  if (typeof value !== 'object' || value === null)
    throw new ValidationError('credentials', `must be an object { username, password }, got ${showValue(value)}`, hint);
  const { username, password } = value as Partial<AmqpCredentials>;
  if (typeof username !== 'string' || username === '')
    throw new ValidationError('credentials.username', 'must be a non-empty string', hint);
  if (typeof password !== 'string' || password === '')
    throw new ValidationError('credentials.password', 'must be a non-empty string', hint);
  return { username, password };
}

/** Validates every option and applies the defaults; throws `ValidationError` before any I/O. */
export function resolveAmqpOptions(options: AmqpNorthboundOptions): ResolvedAmqpOptions {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object with at least `host`');
  if (typeof options.host !== 'string' || options.host.trim() === '') {
    throw new ValidationError(
      'host',
      'must be the AMQP messaging network host',
      'Cloud2Edge prints it as AMQP_NETWORK_IP (AMQP profile only).',
    );
  }
  const host = checkedHost('host', options.host, {
    example: 'AMQP_NETWORK_IP',
    credentialsIn: 'the `credentials` option ({ username, password })',
  });
  const tls = options.tls === true ? {} : options.tls === false || options.tls === undefined ? undefined : options.tls;
  const port = integerOption('port', options.port, { min: 1, max: 65_535 }, tls ? AMQP_DEFAULTS.tlsPort : AMQP_DEFAULTS.port);
  const credentials = resolveCredentials(options.credentials);
  const separator = options.addressSeparator ?? '/';
  if (typeof separator !== 'string' || separator === '') throw new ValidationError('addressSeparator', 'must be a non-empty string');
  const pattern = options.addressPattern;
  if (typeof pattern === 'string' && !pattern.includes('{address}')) {
    throw new ValidationError('addressPattern', `${JSON.stringify(pattern)} lacks {address}`, 'E.g. "/queue/{address}" for RabbitMQ.');
  }
  const addresses = { ...HONO_ADDRESSES, ...(options.addresses ?? {}) };
  for (const kind of Object.keys(HONO_ADDRESSES) as AmqpAddressKind[]) validateTemplate(kind, addresses[kind]);
  const failureOutcome = options.failureOutcome ?? 'released';
  if (failureOutcome !== 'released' && failureOutcome !== 'modified') {
    throw new ValidationError('failureOutcome', `must be "released" or "modified", got ${JSON.stringify(failureOutcome)}`);
  }
  const terminusDurability = options.terminusDurability ?? 0;
  if (terminusDurability !== 0 && terminusDurability !== 1 && terminusDurability !== 2) {
    throw new ValidationError('terminusDurability', `must be 0, 1 or 2, got ${JSON.stringify(terminusDurability)}`);
  }
  const commandTimeoutMs = durationMs('commandTimeoutMs', options.commandTimeoutMs, AMQP_DEFAULTS.commandTimeoutMs);
  return {
    host,
    port,
    tls,
    credentials,
    virtualHost: options.virtualHost,
    containerId: options.containerId ?? `twinledger-${randomUUID()}`,
    reconnect: resolveReconnect(options.reconnect, { policy: defaultReconnectPolicy, stableAfterMs: AMQP_DEFAULTS.stableAfterMs }),
    connectTimeoutMs: durationMs('connectTimeoutMs', options.connectTimeoutMs, AMQP_DEFAULTS.connectTimeoutMs),
    idleTimeoutMs: durationMs('idleTimeoutMs', options.idleTimeoutMs, AMQP_DEFAULTS.idleTimeoutMs, { allowZero: true }),
    addresses,
    addressPattern: pattern,
    addressSeparator: separator,
    terminusDurability,
    prefetch: validatePrefetch(options.prefetch, 'prefetch', AMQP_DEFAULTS.prefetch),
    commandTimeoutMs,
    commandCreditWaitMs: durationMs('commandCreditWaitMs', options.commandCreditWaitMs, AMQP_DEFAULTS.commandCreditWaitMs),
    commandsWhileDisconnected: validateCommandsWhileDisconnected(options.commandsWhileDisconnected),
    failureOutcome,
  };
}

export interface AddressVariables {
  tenant: string;
  deviceId?: string;
  replyId?: string;
}

function fill(template: string, vars: AddressVariables): string {
  return template
    .replaceAll('{tenant}', vars.tenant)
    .replaceAll('{deviceId}', vars.deviceId ?? '')
    .replaceAll('{replyId}', vars.replyId ?? '');
}

/** The address to use on the wire for `kind`, after templates, separator and pattern. */
export function resolveAddress(
  options: Pick<ResolvedAmqpOptions, 'addresses' | 'addressPattern' | 'addressSeparator'>,
  kind: AmqpAddressKind,
  vars: AddressVariables,
): string {
  const filled = fill(options.addresses[kind], vars);
  if (kind === 'commandTo') return filled;
  const separated = options.addressSeparator === '/' ? filled : filled.replaceAll('/', options.addressSeparator);
  const pattern = options.addressPattern;
  if (pattern === undefined) return separated;
  return typeof pattern === 'string' ? pattern.replaceAll('{address}', separated) : pattern(separated, kind);
}
