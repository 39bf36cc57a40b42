/** The northbound application API: one interface (`Northbound`), two transports (AMQP 1.0, Kafka). */
export { createNorthbound, type NorthboundOptions, type NorthboundTransport } from './client.js';
export { AmqpNorthbound } from './amqp.js';
export {
  HONO_ADDRESSES,
  RABBITMQ_ADDRESSING,
  type AmqpAddressKind,
  type AmqpAddressPattern,
  type AmqpAddressTemplates,
  type AmqpCredentials,
  type AmqpFailureOutcome,
  type AmqpNorthboundOptions,
  type TerminusDurability,
} from './amqp-options.js';
export type { AmqpConnectionState } from './amqp-connection.js';
export { KafkaNorthbound, type KafkaNorthboundClientOptions } from './kafka.js';
export type { KafkaCredentials, KafkaNorthboundOptions } from './kafka-options.js';
export type {
  CommandOptions,
  CommandPayload,
  CommandResponse,
  CommandsWhileDisconnected,
  ConsumeOptions,
  DeviceConnectedNotification,
  DeviceDisconnectedNotification,
  DeviceNotification,
  DeviceReadyNotification,
  DownstreamKind,
  DownstreamMessage,
  Northbound,
  NorthboundEvents,
  NorthboundLifecycleEvent,
  PropertyValue,
} from './types.js';
export {
  AmqpAuthenticationError,
  CommandError,
  CommandFailedError,
  CommandRejectedError,
  CommandTimeoutError,
  DeviceNotConnectedError,
  KafkaCommitError,
  KafkaConnectError,
  KafkaConsumerError,
  KafkaConsumerNotRunningError,
  MalformedMessageError,
  NoCommandConsumerError,
  NorthboundLinkError,
  NorthboundNotConnectedError,
  type CommandTarget,
  type KafkaCommitFailure,
  type NotConnectedReason,
} from './errors.js';
// The shared core API (errors, options, retry, logging, TLS, ID rules, configuration, events): one curated list, src/core/index.ts.
export * from '../core/index.js';
