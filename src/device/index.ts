/** Device clients over Hono's MQTT and HTTP adapters: telemetry, events, commands, and the twin over Ditto Protocol. */
export { createDeviceClient, deviceEndpointFromConfig, type DeviceEndpoint } from './client.js';
export type {
  DeviceClient,
  DeviceClientCommonOptions,
  DeviceClientEvents,
  DeviceClientOptions,
  DeviceClientState,
  DeviceCommand,
  DevicePayload,
  DeviceTransport,
  DeviceTwin,
  DroppedEvent,
  EventOptions,
  HttpDeviceClientOptions,
  MessageOptions,
  MqttDeviceClientOptions,
  MqttEndpoint,
  OfflineQueueOptions,
  PropertyBag,
  ReadyOptions,
  RespondOptions,
  TelemetryOptions,
  TwinMessage,
  TwinRespondOptions,
  TwinUpdateOptions,
} from './types.js';
export {
  CommandAlreadyAnsweredError,
  DeviceClientStateError,
  DeviceConnectError,
  DeviceConnectionLostError,
  DeviceOfflineError,
  DevicePayloadTooLargeError,
  OfflineQueueFullError,
  OneWayCommandError,
  type AdapterErrorReport,
  type DevicePayloadTooLargeDetails,
  type MessageKind,
} from './errors.js';
// The JSON a twin update carries (the Ditto Protocol types themselves are the protocol entry point's).
export type { JsonArray, JsonObject, JsonPrimitive, JsonValue } from '../protocol/json.js';
// The shared core API (errors, options, retry, logging, TLS, ID rules, configuration, events): one curated list, src/core/index.ts.
export * from '../core/index.js';
