import { TwinLedgerError } from '../core/errors.js';
import type { CommandResponse } from './types.js';

export interface CommandTarget {
  tenantId: string;
  deviceId: string;
  name: string;
}

/** A command did not get a successful response. Subclasses say why. */
export class CommandError extends TwinLedgerError {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly command: string;

  constructor(target: CommandTarget, message: string, code: string, hint?: string, cause?: unknown) {
    super(`command "${target.name}" to ${target.tenantId}/${target.deviceId}: ${message}`, { code, hint, cause });
    this.tenantId = target.tenantId;
    this.deviceId = target.deviceId;
    this.command = target.name;
  }
}

/** The device is not connected (AMQP outcome `released`; Kafka delivery-failure notification). */
export class DeviceNotConnectedError extends CommandError {
  constructor(target: CommandTarget, detail?: string) {
    super(
      target,
      `the device is not connected${detail ? ` (${detail})` : ''}`,
      'command.device-not-connected',
      'Devices receive commands only while subscribed (MQTT command///req/#) or polling with hono-ttd (HTTP); watch for deviceReady notifications.',
    );
  }
}

/** Hono or the network refused the command as malformed or not allowed (AMQP outcome `rejected`). */
export class CommandRejectedError extends CommandError {
  constructor(target: CommandTarget, detail?: string) {
    super(target, `rejected${detail ? `: ${detail}` : ''}`, 'command.rejected');
  }
}

/** No response within `timeoutMs`; the device may still act on the command. */
export class CommandTimeoutError extends CommandError {
  readonly timeoutMs: number;

  constructor(target: CommandTarget, timeoutMs: number) {
    super(
      target,
      `no response within ${timeoutMs} ms`,
      'command.timeout',
      'The device may have received it and not answered in time; make commands idempotent before retrying.',
    );
    this.timeoutMs = timeoutMs;
  }
}

/** The device answered with a status of 400 or more. */
export class CommandFailedError extends CommandError {
  readonly status: number;
  readonly response: CommandResponse;

  constructor(target: CommandTarget, response: CommandResponse) {
    super(target, `the device answered ${response.status}`, 'command.failed');
    this.status = response.status;
    this.response = response;
  }
}

/** AMQP: no credit for the command sender, i.e. no device of the tenant is subscribed for commands. */
export class NoCommandConsumerError extends CommandError {
  constructor(target: CommandTarget, waitedMs: number) {
    super(
      target,
      `no credit to send within ${waitedMs} ms: no device of this tenant is subscribed for commands`,
      'command.no-credit',
      "Hono's AMQP network grants command credit only after some device of the tenant subscribed for commands.",
    );
  }
}

/**
 * Why a northbound client refused a call at once: `closed` (during or after `close()`), `not-connected` (no
 * connection was set up), `disconnected` (the connection was lost and is not back yet; only with
 * `commandsWhileDisconnected: 'fail'`).
 */
export type NotConnectedReason = 'closed' | 'not-connected' | 'disconnected';

/**
 * The northbound client cannot talk to the messaging network right now, so nothing was sent. Not about the
 * device (that is `DeviceNotConnectedError`): a command refused with this error never left the application.
 */
export class NorthboundNotConnectedError extends TwinLedgerError {
  readonly reason: NotConnectedReason;

  constructor(what: string, reason: NotConnectedReason, options: { transport: 'amqp' | 'kafka'; cause?: unknown }) {
    const name = options.transport === 'amqp' ? 'AMQP' : 'Kafka';
    const state = reason === 'closed' ? 'closed' : reason === 'not-connected' ? 'not connected' : `disconnected${causeText(options.cause)}`;
    const back =
      options.transport === 'amqp'
        ? "after the client's `connected` event"
        : 'in a moment: the client notices by itself when Kafka answers again';
    super(`${what}: the ${name} northbound client is ${state}`, {
      code: 'northbound.not-connected',
      hint:
        reason === 'disconnected'
          ? `Nothing was sent; try again ${back}, or use commandsWhileDisconnected: 'wait' to wait up to the command's timeout.`
          : reason === 'closed'
            ? 'close() is final: create a new client.'
            : 'Call and await connect() first.',
      cause: options.cause,
    });
    this.reason = reason;
  }
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return ` (${cause.message})`;
  return cause === undefined ? '' : ` (${String(cause)})`;
}

/** A downstream message could not be decoded (missing device_id, bad properties). The stream goes on. */
export class MalformedMessageError extends TwinLedgerError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'northbound.malformed', cause });
  }
}

/** SASL authentication failed; not retried. */
export class AmqpAuthenticationError extends TwinLedgerError {
  constructor(endpoint: string, detail: string) {
    super(`AMQP authentication at ${endpoint} failed: ${detail}`, {
      code: 'northbound.unauthorized',
      hint: 'Check username/password (Cloud2Edge AMQP network: consumer@HONO / verysecret by default).',
    });
  }
}

/** The broker refused or closed a receiver for a reason other than a lost connection. */
export class NorthboundLinkError extends TwinLedgerError {
  readonly address: string;
  readonly condition: string | undefined;

  constructor(address: string, detail: string, condition?: string) {
    super(`AMQP link on ${JSON.stringify(address)} failed: ${condition ? `${condition}: ` : ''}${detail}`, {
      code: 'northbound.link',
      hint: 'Check the address mapping (addresses / addressPattern) and that this user may consume from it.',
    });
    this.address = address;
    this.condition = condition;
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** `connect()` could not reach or authenticate with the Kafka brokers. */
export class KafkaConnectError extends TwinLedgerError {
  constructor(brokers: readonly string[], cause: unknown) {
    super(`connecting to Kafka (${brokers.join(', ')}) failed: ${describe(cause)}`, {
      code: 'northbound.kafka-connect',
      hint: 'Check the bootstrap address (Cloud2Edge: KAFKA_IP, NodePort 9094), SASL user/mechanism and the TLS CA / serverName.',
      cause,
    });
  }
}

/** A Kafka telemetry/event consumer failed and the reconnect policy gave up; ends the stream. */
export class KafkaConsumerError extends TwinLedgerError {
  constructor(topic: string, cause: unknown) {
    super(`the Kafka consumer of ${topic} failed: ${describe(cause)}`, {
      code: 'northbound.kafka-consumer',
      hint: 'Check that the brokers are reachable and the credentials may read the topic; the reconnect policy gave up.',
      cause,
    });
  }
}

/**
 * One offset commit could not be sent because the stream's Kafka consumer is not running right now (being started
 * again, joining its group, stopping). The stream tries again; only a long run of failures becomes a `KafkaCommitError`.
 */
export class KafkaConsumerNotRunningError extends TwinLedgerError {
  constructor(topic: string, detail: string) {
    super(`offsets of ${topic} not committed: ${detail}`, { code: 'northbound.kafka-consumer-not-running' });
  }
}

export interface KafkaCommitFailure {
  topic: string;
  groupId: string;
  failedAttempts: number;
  failingForMs: number;
  uncommittedRecords: number;
  cause: unknown;
}

/**
 * A stream's offset commits have kept failing for `commitErrorAfterMs` (the `error` event). The stream goes on
 * and keeps trying; until a commit succeeds, the next consumer of the group processes `uncommittedRecords` again.
 */
export class KafkaCommitError extends TwinLedgerError {
  readonly topic: string;
  readonly groupId: string;
  readonly failedAttempts: number;
  readonly failingForMs: number;
  readonly uncommittedRecords: number;

  constructor(failure: KafkaCommitFailure) {
    super(
      `offsets of ${failure.topic} (group ${failure.groupId}) have not been committed for ${failure.failingForMs} ms ` +
        `(${failure.failedAttempts} failed attempts; ${failure.uncommittedRecords} processed records not committed): ${describe(failure.cause)}`,
      {
        code: 'northbound.kafka-commit',
        hint: 'The stream keeps consuming and committing; check that the brokers are reachable. End the stream if the records a restarted consumer would process again must stay few.',
        cause: failure.cause,
      },
    );
    this.topic = failure.topic;
    this.groupId = failure.groupId;
    this.failedAttempts = failure.failedAttempts;
    this.failingForMs = failure.failingForMs;
    this.uncommittedRecords = failure.uncommittedRecords;
  }
}
