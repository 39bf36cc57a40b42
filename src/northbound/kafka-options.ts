/**
 * Configuration of `KafkaNorthbound`: the options object with its documented defaults, validation before any
 * I/O, and the translation into a kafkajs client configuration (SASL, TLS, logging with secrets redacted).
 */
import { randomUUID } from 'node:crypto';
import { logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { checkedHostPort } from '../core/endpoint.js';
import { ValidationError } from '../core/errors.js';
import { type Logger, redactingLogger, silentLogger } from '../core/logger.js';
import { Redactor } from '../core/redact.js';
import {
  type ReconnectOptions,
  type ResolvedReconnect,
  durationMs,
  positiveInteger,
  resolveReconnect,
  showValue,
} from '../core/options.js';
import { ExponentialBackoff } from '../core/retry.js';
import { resolveTls, type TlsOptions } from '../core/tls.js';
import { validateCommandsWhileDisconnected, validatePrefetch } from './decode.js';
import type { CommandsWhileDisconnected } from './types.js';

/**
 * SASL credentials. Cloud2Edge's Kafka (SASL_SSL on NodePort 9094) knows `ditto-c2e`/`verysecret` with
 * `plain` and `hono`/`hono-secret` with `scram-sha-512`.
 */
export interface KafkaCredentials {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

export interface KafkaNorthboundOptions {
  /**
   * Bootstrap servers, `host:port` each (Cloud2Edge: `${KAFKA_IP}:${KAFKA_PORT_TCP_KAFKA}`, NodePort 9094). Required.
   * No scheme and no `user:password@`: credentials go into `credentials`.
   */
  brokers: string[];
  /** Kafka client ID (broker logs, quotas). Default `twinledger`. */
  clientId?: string;
  /**
   * Base of this application's consumer groups. Default `twinledger-<random>` (a new group per client, so
   * a restarted process starts afresh; give a fixed ID to resume where the last run stopped). Each stream gets
   * its own group `<groupId>.<telemetry|event>.<tenant>`; never reuse Ditto's group (`<tenant>_<connection id>`),
   * or TwinLedger and Ditto would split the records between them.
   */
  groupId?: string;
  /** SASL authentication (`{ mechanism, username, password }`). Default none. */
  credentials?: KafkaCredentials;
  /**
   * TLS. `true` for TLS with the system CAs; `TlsOptions` for a CA file (Cloud2Edge's example CA) and
   * `serverName` (the name in the broker certificate when it is reached by IP). Default: no TLS.
   */
  tls?: TlsOptions | boolean;
  /** Where a new consumer group starts: `false` (default) at the end of the topic, `true` at its beginning. */
  fromBeginning?: boolean;
  /** Default bound of unacknowledged messages buffered per stream (see `ConsumeOptions.prefetch`). Default 32. */
  prefetch?: number;
  /** Default response deadline of `sendCommand`. Default 10 000 ms. */
  commandTimeoutMs?: number;
  /** Deadline of `connect()`. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /**
   * Setting up one broker connection (TCP and TLS; kafkajs' `connectionTimeout`, Kafka's
   * `socket.connection.setup.timeout.ms`); kafkajs then tries again or another broker. Default 3 000 ms.
   */
  socketSetupTimeoutMs?: number;
  /** Timeout of one Kafka request. Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Consumer group session timeout. Default 30 000 ms. */
  sessionTimeoutMs?: number;
  /** Heartbeat interval of the consumers. Default 3 000 ms. */
  heartbeatIntervalMs?: number;
  /** How long a fetch waits on the broker for new records (also bounds how long closing a stream takes). Default 500 ms, as Kafka's Java client. */
  fetchMaxWaitMs?: number;
  /** Processed offsets are committed at the latest this long after processing. Default 1 000 ms. */
  commitIntervalMs?: number;
  /** ... or as soon as this many records were processed since the last commit. Default 200. */
  commitThreshold?: number;
  /**
   * A failed commit is tried again every `commitIntervalMs`; when commits have failed for this long without a
   * success, the client emits `error` with `KafkaCommitError` (once per run of failures). Default 30 000 ms.
   */
  commitErrorAfterMs?: number;
  /**
   * `sendCommand` / `sendOneWayCommand` called while the client knows Kafka to be unreachable: `'wait'` (default)
   * until the command's timeout, or `'fail'` at once with `NorthboundNotConnectedError`.
   */
  commandsWhileDisconnected?: CommandsWhileDisconnected;
  /**
   * When a consumer fails for good (after kafkajs' own retries), `policy` says how long to wait before starting it
   * again (default `ExponentialBackoff({ maxAttempts: Infinity, initialDelayMs: 500, maxDelayMs: 30 000 })`; a
   * policy that gives up ends the stream with the error); the attempt count resets once the restarted consumer has
   * been in its group for `stableAfterMs` (default 10 000).
   */
  reconnect?: ReconnectOptions;
  /** Where the client logs (kafkajs' own log lines included, as `debug`/`warn`/`error`). Default silent. */
  logger?: Logger;
  /** Redactor to register the SASL password and TLS passphrase with (share one across clients). Default: a new one. */
  redactor?: Redactor;
  /** Drop records whose Hono `ttl` has elapsed (creation-time + ttl < now), as Hono asks consumers to. Default true. */
  discardExpired?: boolean;
}

export interface ResolvedKafkaOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  fromBeginning: boolean;
  prefetch: number;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  fetchMaxWaitMs: number;
  commitIntervalMs: number;
  commitThreshold: number;
  commitErrorAfterMs: number;
  commandsWhileDisconnected: CommandsWhileDisconnected;
  reconnect: ResolvedReconnect;
  logger: Logger;
  redactor: Redactor;
  discardExpired: boolean;
  kafka: KafkaConfig;
}

/** Ditto's Kafka connection uses `<tenant>_<connection id>`; TwinLedger's provisioning names them `hono-kafka-connection-for-…`. */
const DITTO_GROUP = /_(?:\{\{\s*connection:id\s*\}\}|hono-(?:kafka|amqp)-connection-for-)/;
const GROUP_ID = /^[A-Za-z0-9._-]{1,200}$/;

function defaultGroupId(): string {
  return `twinledger-${randomUUID().slice(0, 8)}`;
}

/** Validates the options and fills in the defaults. Throws `ValidationError` naming the bad field. */
export function resolveKafkaOptions(options: KafkaNorthboundOptions): ResolvedKafkaOptions {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object with at least `brokers`');
  const { brokers } = options;
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw new ValidationError(
      'brokers',
      'must list at least one bootstrap server',
      'Cloud2Edge: [`${KAFKA_IP}:${KAFKA_PORT_TCP_KAFKA}`] (NodePort 9094).',
    );
  }
  brokers.forEach((broker, index) => {
    checkedHostPort(`brokers[${index}]`, broker, {
      example: '"192.168.1.10:9094"',
      credentialsIn: 'the `credentials` option ({ mechanism, username, password })',
    });
  });
  const clientId = options.clientId ?? 'twinledger';
  if (typeof clientId !== 'string' || clientId === '') throw new ValidationError('clientId', 'must be a non-empty string');
  const groupId = options.groupId ?? defaultGroupId();
  if (typeof groupId !== 'string' || !GROUP_ID.test(groupId)) {
    throw new ValidationError('groupId', `${JSON.stringify(groupId)} must be 1–200 letters, digits, ".", "_" or "-"`);
  }
  if (DITTO_GROUP.test(groupId)) {
    throw new ValidationError(
      'groupId',
      `${JSON.stringify(groupId)} looks like the consumer group of Ditto's Hono connection (<tenant>_<connection id>)`,
      "Use a group of your own; sharing Ditto's group splits the records between Ditto and this client.",
    );
  }
  const redactor = options.redactor ?? new Redactor();
  let sasl: SASLOptions | undefined;
  if (options.credentials !== undefined) {
    if (typeof options.credentials !== 'object' || options.credentials === null) {
      throw new ValidationError(
        'credentials',
        `must be an object { mechanism, username, password }, got ${showValue(options.credentials)}`,
      );
    }
    const { mechanism, username, password } = options.credentials;
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new ValidationError('credentials.mechanism', `${JSON.stringify(mechanism)} is not one of plain, scram-sha-256, scram-sha-512`);
    }
    if (typeof username !== 'string' || username === '') throw new ValidationError('credentials.username', 'must be a non-empty string');
    if (typeof password !== 'string' || password === '') throw new ValidationError('credentials.password', 'must be a non-empty string');
    redactor.addSecret(password);
    sasl = { mechanism, username, password };
  }
  let ssl: KafkaConfig['ssl'];
  if (options.tls === true) ssl = { rejectUnauthorized: true };
  else if (typeof options.tls === 'object' && options.tls !== null) {
    redactor.addSecret(options.tls.passphrase);
    ssl = resolveTls(options.tls);
  }
  const logger = redactingLogger(options.logger ?? silentLogger, redactor);
  const connectTimeoutMs = durationMs('connectTimeoutMs', options.connectTimeoutMs, 10_000);
  const kafka: KafkaConfig = {
    brokers: [...brokers],
    clientId,
    connectionTimeout: durationMs('socketSetupTimeoutMs', options.socketSetupTimeoutMs, 3_000),
    requestTimeout: durationMs('requestTimeoutMs', options.requestTimeoutMs, 30_000),
    logLevel: options.logger === undefined ? logLevel.NOTHING : logLevel.INFO,
    logCreator: () => (entry: LogEntry) => forwardKafkaLog(logger, entry),
  };
  if (sasl !== undefined) kafka.sasl = sasl;
  if (ssl !== undefined) kafka.ssl = ssl;
  return {
    brokers: [...brokers],
    clientId,
    groupId,
    fromBeginning: options.fromBeginning ?? false,
    prefetch: validatePrefetch(options.prefetch, 'prefetch', 32),
    commandTimeoutMs: durationMs('commandTimeoutMs', options.commandTimeoutMs, 10_000),
    connectTimeoutMs,
    sessionTimeoutMs: durationMs('sessionTimeoutMs', options.sessionTimeoutMs, 30_000),
    heartbeatIntervalMs: durationMs('heartbeatIntervalMs', options.heartbeatIntervalMs, 3_000),
    fetchMaxWaitMs: durationMs('fetchMaxWaitMs', options.fetchMaxWaitMs, 500),
    commitIntervalMs: durationMs('commitIntervalMs', options.commitIntervalMs, 1_000),
    commitThreshold: positiveInteger('commitThreshold', options.commitThreshold, 200),
    commitErrorAfterMs: durationMs('commitErrorAfterMs', options.commitErrorAfterMs, 30_000),
    commandsWhileDisconnected: validateCommandsWhileDisconnected(options.commandsWhileDisconnected),
    reconnect: resolveReconnect(options.reconnect, {
      policy: () => new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 500, maxDelayMs: 30_000 }),
      stableAfterMs: 10_000,
    }),
    logger,
    redactor,
    discardExpired: options.discardExpired ?? true,
    kafka,
  };
}

/** kafkajs logs at INFO what is routine for us (joins, restarts); those become `debug`. */
function forwardKafkaLog(logger: Logger, entry: LogEntry): void {
  const { message, ...fields } = entry.log;
  const data = { kafkajs: entry.namespace, ...fields };
  if (entry.level === logLevel.ERROR) logger.error(message, data);
  else if (entry.level === logLevel.WARN) logger.warn(message, data);
  else logger.debug(message, data);
}
