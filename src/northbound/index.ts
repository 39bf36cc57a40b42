/** The northbound application API: one interface (`Northbound`), two transports (AMQP 1.0, Kafka). */
export * from './types.js';
export * from './errors.js';
export * from './decode.js';
export { AmqpNorthbound } from './amqp.js';
export {
  type AmqpNorthboundOptions,
  type AmqpAddressTemplates,
  type AmqpAddressKind,
  type AmqpAddressPattern,
  type AmqpFailureOutcome,
  type ResolvedAmqpOptions,
  type TerminusDurability,
  HONO_ADDRESSES,
  RABBITMQ_ADDRESSING,
  AMQP_DEFAULTS,
  defaultReconnectPolicy,
  resolveAddress,
} from './amqp-options.js';
export { AmqpAuthenticationError, type AmqpConnectionState } from './amqp-connection.js';
export { NorthboundLinkError } from './amqp-consumer.js';
export { KafkaNorthbound, type KafkaNorthboundClientOptions, type KafkaNorthboundOptions, type KafkaSaslOptions } from './kafka.js';
export { KafkaCommitError, KafkaConnectError, KafkaConsumerError } from './kafka-errors.js';
