export * from './types.js';
export * from './errors.js';
export { createDeviceClient, deviceEndpointFromConfig, type DeviceEndpoint } from './client.js';
export {
  commandFilters,
  commandResponseTopic,
  errorFilters,
  parseCommandTopic,
  parseErrorTopic,
  publishTopic,
  type CommandTopic,
  type ErrorTopic,
} from './topics.js';
