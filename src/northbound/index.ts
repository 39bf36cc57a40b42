/** The northbound application API: one interface (`Northbound`), two transports (AMQP 1.0, Kafka). */
export * from './types.js';
export * from './errors.js';
export * from './decode.js';
export { AmqpNorthbound } from './amqp.js';
export {
  type AmqpNorthboundOptions,
  type AmqpCredentials,
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
export type { AmqpConnectionState } from './amqp-connection.js';
export { KafkaNorthbound, type KafkaNorthboundClientOptions, type KafkaNorthboundOptions, type KafkaCredentials } from './kafka.js';
export { createNorthbound, type NorthboundOptions, type NorthboundTransport } from './client.js';
