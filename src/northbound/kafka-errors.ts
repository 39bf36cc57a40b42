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

/** The client is not connected (before `connect()` or after `close()`). */
export class NorthboundNotConnectedError extends TwinLedgerError {
  constructor(what: string, closed: boolean) {
    super(`${what}: the Kafka northbound client is ${closed ? 'closed' : 'not connected'}`, {
      code: 'northbound.not-connected',
      hint: closed ? 'Create a new client; a closed one cannot be reused.' : 'Call and await connect() first.',
    });
  }
}
