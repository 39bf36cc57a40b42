import { randomBytes } from 'node:crypto';
import { checkedEndpointUrl, checkedHost, checkedHttpBaseUrl } from '../core/endpoint.js';
import { ValidationError } from '../core/errors.js';
import { type IdRules, idRules, validateAuthId, validateTenantId, validateThingId } from '../core/ids.js';
import { type Logger, redactingLogger, silentLogger } from '../core/logger.js';
import {
  type ResolvedReconnect,
  durationMs,
  positiveInteger,
  resolveReconnect,
  retryPolicyOption,
  showValue as show,
} from '../core/options.js';
import { Redactor } from '../core/redact.js';
import { ExponentialBackoff, type RetryPolicy } from '../core/retry.js';
import type { TlsOptions } from '../core/tls.js';
import type { DeviceClientCommonOptions, DeviceClientOptions, HttpDeviceClientOptions, MqttDeviceClientOptions } from './types.js';

export const DEFAULT_MAX_PAYLOAD_BYTES = 2048;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_COMMAND_POLL_SECONDS = 30;
export const MAX_TTD_SECONDS = 60;

export interface ResolvedOfflineQueue {
  maxSize: number;
  qos0: 'fail' | 'drop' | 'queue';
  overflow: 'reject' | 'drop-oldest';
}

export interface ResolvedCommonOptions {
  tenant: string;
  authId: string | undefined;
  username: string | undefined;
  password: string | undefined;
  thingId: string | undefined;
  gateway: boolean;
  tls: TlsOptions | undefined;
  /** Client certificate authentication (no username/password). */
  x509: boolean;
  timeoutMs: number;
  retry: RetryPolicy;
  reconnect: ResolvedReconnect;
  offlineQueue: ResolvedOfflineQueue;
  maxPayloadBytes: number;
  commandBufferSize: number;
  logger: Logger;
  redactor: Redactor;
  rules: IdRules;
}

export interface ResolvedHttpOptions extends ResolvedCommonOptions {
  transport: 'http';
  baseUrl: string;
  commandPollSeconds: number;
}

export interface ResolvedMqttOptions extends ResolvedCommonOptions {
  transport: 'mqtt';
  host: string;
  port: number;
  secure: boolean;
  /** For messages: `mqtt(s)://host:port`. */
  url: string;
  protocolVersion: 4 | 5;
  clientId: string;
  keepaliveSeconds: number;
  cleanSession: boolean;
  commandQos: 0 | 1;
  shortTopics: boolean;
  reportErrors: boolean;
  maxInFlight: number;
}

export type ResolvedDeviceOptions = ResolvedHttpOptions | ResolvedMqttOptions;

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new ValidationError(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${show(value)}`);
  }
  return value as T;
}

function bool(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ValidationError(field, `must be a boolean, got ${show(value)}`);
  return value;
}

function hasClientCertificate(tls: TlsOptions | undefined): boolean {
  return (
    tls !== undefined && (tls.cert !== undefined || tls.certFile !== undefined) && (tls.key !== undefined || tls.keyFile !== undefined)
  );
}

function resolveCommon(options: DeviceClientCommonOptions): ResolvedCommonOptions {
  const rules = idRules(options.idRules);
  const tenant = validateTenantId(options.tenant, rules, 'tenant');
  const x509 = hasClientCertificate(options.tls);
  let authId: string | undefined;
  let password: string | undefined;
  if (options.password !== undefined || options.authId !== undefined) {
    authId = validateAuthId(options.authId, rules, 'authId');
    if (typeof options.password !== 'string' || options.password === '') {
      throw new ValidationError(
        'password',
        'must be a non-empty string when authId is given',
        'Pass the plain password of the hashed-password credential, or use tls.cert/tls.key for X.509.',
      );
    }
    password = options.password;
  } else if (!x509) {
    throw new ValidationError(
      'authId',
      'no credentials: give authId and password, or a client certificate (tls.cert/certFile and tls.key/keyFile)',
      'Devices log in as "<auth-id>@<tenant>", e.g. authId "lamp-1" with tenant "org.acme".',
    );
  }
  const thingId = options.thingId === undefined ? undefined : validateThingId(options.thingId, rules, 'thingId');
  const redactor = options.redactor ?? new Redactor();
  redactor.addSecret(password);
  redactor.addSecret(options.tls?.passphrase);
  const queue = options.offlineQueue ?? {};
  if (typeof queue !== 'object' || queue === null) throw new ValidationError('offlineQueue', 'must be an object');
  const reconnect = resolveReconnect(options.reconnect, {
    policy: () => new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 1000, maxDelayMs: 60_000 }),
    stableAfterMs: 10_000,
  });
  // Infinity turns the check off; anything else is a number of bytes.
  const maxPayloadBytes =
    options.maxPayloadBytes === Number.POSITIVE_INFINITY
      ? Number.POSITIVE_INFINITY
      : positiveInteger('maxPayloadBytes', options.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES);
  return {
    tenant,
    authId,
    username: authId === undefined ? undefined : `${authId}@${tenant}`,
    password,
    thingId,
    gateway: bool('gateway', options.gateway, false),
    tls: options.tls,
    x509: authId === undefined,
    timeoutMs: durationMs('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS),
    retry: retryPolicyOption(
      'retry',
      options.retry,
      () => new ExponentialBackoff({ maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 10_000 }),
    ),
    reconnect,
    offlineQueue: {
      maxSize: positiveInteger('offlineQueue.maxSize', queue.maxSize, 1000),
      qos0: oneOf('offlineQueue.qos0', queue.qos0, ['fail', 'drop', 'queue'] as const, 'fail'),
      overflow: oneOf('offlineQueue.overflow', queue.overflow, ['reject', 'drop-oldest'] as const, 'reject'),
    },
    maxPayloadBytes,
    commandBufferSize: positiveInteger('commandBufferSize', options.commandBufferSize, 100),
    logger: redactingLogger(options.logger ?? silentLogger, redactor),
    redactor,
    rules,
  };
}

/** Where a device's credentials go instead of the endpoint URL (see src/core/endpoint.ts). */
export const DEVICE_CREDENTIALS = '`authId` and `password` (or a client certificate in `tls`)';

function resolveHttp(options: HttpDeviceClientOptions, common: ResolvedCommonOptions): ResolvedHttpOptions {
  const baseUrl = checkedHttpBaseUrl('endpoint', options.endpoint, {
    example: '"http://192.168.1.10:30080" (HTTP_ADAPTER_BASE_URL)',
    credentialsIn: DEVICE_CREDENTIALS,
  });
  return {
    ...common,
    transport: 'http',
    baseUrl,
    commandPollSeconds: positiveInteger('commandPollSeconds', options.commandPollSeconds, DEFAULT_COMMAND_POLL_SECONDS, MAX_TTD_SECONDS),
  };
}

function resolveMqttEndpoint(options: MqttDeviceClientOptions): { host: string; port: number; secure: boolean } {
  const endpoint = options.endpoint;
  if (typeof endpoint === 'string') {
    const url = checkedEndpointUrl('endpoint', endpoint, {
      schemes: ['mqtt', 'mqtts'],
      example: '"mqtt://192.168.1.10:1883" or "mqtts://...:8883"',
      credentialsIn: DEVICE_CREDENTIALS,
    });
    const secure = url.protocol === 'mqtts:';
    const port = url.port === '' ? (secure ? 8883 : 1883) : Number(url.port);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port, secure };
  }
  if (typeof endpoint !== 'object' || endpoint === null || typeof endpoint.host !== 'string' || endpoint.host === '') {
    throw new ValidationError(
      'endpoint',
      'must be an mqtt(s):// URL or { host, port }',
      'e.g. { host: process.env.MQTT_ADAPTER_IP, port: 1883 }',
    );
  }
  const host = checkedHost('endpoint.host', endpoint.host, { example: 'process.env.MQTT_ADAPTER_IP', credentialsIn: DEVICE_CREDENTIALS });
  const port = positiveInteger('endpoint.port', endpoint.port, 0, 65_535);
  return { host, port, secure: bool('endpoint.secure', endpoint.secure, options.tls !== undefined) };
}

function resolveMqtt(options: MqttDeviceClientOptions, common: ResolvedCommonOptions): ResolvedMqttOptions {
  const { host, port, secure } = resolveMqttEndpoint(options);
  const protocolVersion = options.protocolVersion ?? 4;
  if (protocolVersion !== 4 && protocolVersion !== 5) {
    throw new ValidationError(
      'protocolVersion',
      `must be 4 (MQTT 3.1.1) or 5, got ${show(protocolVersion)}`,
      'Hono 2.6 supports MQTT 3.1.1 only (4).',
    );
  }
  let clientId = options.clientId;
  if (clientId === undefined) {
    clientId = `${common.authId ?? 'device'}-${randomBytes(4).toString('hex')}`;
  } else if (typeof clientId !== 'string' || clientId === '' || clientId.length > 256) {
    throw new ValidationError('clientId', 'must be a non-empty string of at most 256 characters');
  }
  const commandQos = options.commandQos ?? 1;
  if (commandQos !== 0 && commandQos !== 1) throw new ValidationError('commandQos', `must be 0 or 1, got ${show(commandQos)}`);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    ...common,
    transport: 'mqtt',
    host,
    port,
    secure,
    url: `${secure ? 'mqtts' : 'mqtt'}://${hostPart}:${port}`,
    protocolVersion,
    clientId,
    keepaliveSeconds: positiveInteger('keepaliveSeconds', options.keepaliveSeconds, 30, 65_535),
    cleanSession: bool('cleanSession', options.cleanSession, true),
    commandQos,
    shortTopics: bool('shortTopics', options.shortTopics, false),
    reportErrors: bool('reportErrors', options.reportErrors, true),
    maxInFlight: positiveInteger('maxInFlight', options.maxInFlight, 65_535, 65_535),
  };
}

/** Validates everything before any I/O and fills in the documented defaults. */
export function resolveDeviceOptions(options: DeviceClientOptions): ResolvedDeviceOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', 'must be an object', 'e.g. { transport: "mqtt", endpoint, tenant, authId, password }');
  }
  const transport = (options as { transport?: unknown }).transport;
  if (transport !== 'http' && transport !== 'mqtt') {
    throw new ValidationError('transport', `must be "http" or "mqtt", got ${show(transport)}`);
  }
  const common = resolveCommon(options);
  return options.transport === 'http' ? resolveHttp(options, common) : resolveMqtt(options, common);
}
