/**
 * The Cloud2Edge facade: configuration from the environment, one-call provisioning, and the registry, Ditto, device
 * and northbound clients for one installation. The clients' own types come with their entry points.
 */
export { Cloud2Edge, type Cloud2EdgeDeviceOptions, type Cloud2EdgeNorthboundOptions } from './cloud2edge.js';
export { ProvisioningError } from './errors.js';
export type {
  ConnectionProvisioning,
  DeprovisionDeviceRequest,
  DeprovisionDeviceResult,
  ProvisionDeviceRequest,
  ProvisionDeviceResult,
  ProvisioningStep,
  RemovalOutcome,
  StepOutcome,
} from './provision.js';
export {
  honoAmqpConnection,
  honoConnectionId,
  honoKafkaConnection,
  type AmqpConnectionSettings,
  type HonoConnectionSettings,
  type KafkaConnectionSettings,
} from './connections.js';
// The shared core API (errors, options, retry, logging, TLS, ID rules, configuration, events): one curated list, src/core/index.ts.
export * from '../core/index.js';
