/** Errors of the Kafka transport that are not about one command or one record. */
import { TwinLedgerError } from '../core/errors.js';

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** `connect()` could not reach or authenticate with the brokers. */
export class KafkaConnectError extends TwinLedgerError {
  constructor(brokers: readonly string[], cause: unknown) {
    super(`connecting to Kafka (${brokers.join(', ')}) failed: ${describe(cause)}`, {
      code: 'northbound.kafka-connect',
      hint: 'Check the bootstrap address (Cloud2Edge: KAFKA_IP, NodePort 9094), SASL user/mechanism and the TLS CA / serverName.',
      cause,
    });
  }
}

/** A telemetry/event consumer failed and the retry policy gave up; ends the stream. */
export class KafkaConsumerError extends TwinLedgerError {
  constructor(topic: string, cause: unknown) {
    super(`the Kafka consumer of ${topic} failed: ${describe(cause)}`, {
      code: 'northbound.kafka-consumer',
      hint: 'Check that the brokers are reachable and the credentials may read the topic; the retry policy gave up.',
      cause,
    });
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

/** Moved to errors.ts (shared by both transports); still importable from here. */
export { NorthboundNotConnectedError } from './errors.js';
