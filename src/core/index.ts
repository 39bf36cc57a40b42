/**
 * The shared core API: errors, per-call and reconnect options, retry policies, logging and redaction, TLS, ID
 * rules, configuration and the connection events. Every entry point but the protocol codec (a leaf, with only the
 * errors and ID rules it uses) re-exports all of it, so an application needs one import path
 * (test/unit/api-report.test.ts checks). Not listed here: the HTTP transport (`HttpClient`, which loads axios; the
 * registry and Ditto entry points export it) and the validators and helpers the modules share among themselves.
 */
export {
  AbortError,
  BadRequestError,
  ClientClosedError,
  ConflictError,
  FailedDependencyError,
  ForbiddenError,
  HttpError,
  NetworkError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  RequestTimeoutError,
  ServiceUnavailableError,
  ThrownValueError,
  TimeoutError,
  TooManyRequestsError,
  TwinLedgerError,
  UnauthorizedError,
  ValidationError,
  type HttpErrorDetails,
  type TwinLedgerErrorOptions,
} from './errors.js';
export type { CallOptions, Closeable, ReconnectOptions } from './options.js';
export { ExponentialBackoff, noRetry, type ExponentialBackoffOptions, type Jitter, type RetryPolicy } from './retry.js';
export { jsonLineLogger, type LogFields, type Logger, type LogLevel } from './logger.js';
export { Redactor } from './redact.js';
export type { TlsOptions } from './tls.js';
export { idRules, type IdRules } from './ids.js';
export {
  ENVIRONMENT_VARIABLES,
  configFromEnv,
  type DittoEndpoint,
  type FabricGatewayEndpoint,
  type KuboEndpoint,
  type EnvironmentVariable,
  type HostPort,
  type MessagingType,
  type RegistryEndpoint,
  type TwinLedgerConfig,
} from './config.js';
export type {
  ConnectedEvent,
  ConnectionEvents,
  DisconnectedEvent,
  EventMap,
  ReconnectingEvent,
  TypedEmitter,
  TypedListener,
} from './events.js';
// Types only: the HTTP clients' credentials and call options, and what their reads return.
export type { Credentials, HttpCallOptions, Versioned } from './http.js';
