/**
 * Whether a `KafkaNorthbound` knows Kafka to be unreachable right now (for `commandsWhileDisconnected: 'fail'`).
 *
 * kafkajs has no connection state to ask: its clients reconnect per request. So the client is "known down" from a
 * connection-level failure of any of its kafkajs clients (a consumer crashed, a command could not be written, a
 * probe failed) until any request of any of them is answered again (kafkajs' REQUEST instrumentation event).
 */
import type { Admin, Consumer, Producer } from 'kafkajs';

const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
]);
/** kafkajs re-wraps connection errors (e.g. in KafkaJSNonRetriableError) keeping only their message. */
const CONNECTION_MESSAGE = /^(?:Connection error|Connection timeout|Closed connection|Request .* timed out|No broker available)/;

/** A failure to reach the brokers (as opposed to, say, an authorization error or a bad request). */
export function isConnectionError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (CONNECTION_ERRORS.has(current.name) || CONNECTION_MESSAGE.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

export class KafkaReachability {
  private reason: Error | undefined;

  /** The connection-level error that made the client consider Kafka unreachable; `undefined` while reachable. */
  get downBecause(): Error | undefined {
    return this.reason;
  }

  /** Records `error` when it is a connection-level failure; returns whether it was one. */
  failed(error: unknown): boolean {
    if (!isConnectionError(error)) return false;
    this.reason = error as Error;
    return true;
  }

  reachable(): void {
    this.reason = undefined;
  }

  /** Every answered request of `client` shows that Kafka is reachable. */
  watch(client: Producer | Consumer | Admin): void {
    const onRequest = () => {
      this.reason = undefined;
    };
    // The three kafkajs clients have the same REQUEST event, but TypeScript cannot call `on` on their union.
    (client.on as (event: string, listener: () => void) => unknown).call(client, client.events.REQUEST, onRequest);
  }
}
