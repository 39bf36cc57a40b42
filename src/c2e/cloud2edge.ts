import { type TwinLedgerConfig, checkedConfigEndpoints, configFromEnv } from '../core/config.js';
import { ClientClosedError, ValidationError } from '../core/errors.js';
import type { Credentials } from '../core/http.js';
import { type IdRules, idRules, splitEntityId, validateThingId } from '../core/ids.js';
import { type Logger, redactingLogger, silentLogger } from '../core/logger.js';
import { type CallOptions, showValue } from '../core/options.js';
import { Redactor } from '../core/redact.js';
import {
  type DeviceClient,
  type DeviceClientOptions,
  type HttpDeviceClientOptions,
  type MqttDeviceClientOptions,
  createDeviceClient,
  deviceEndpointFromConfig,
} from '../device/index.js';
import { DittoClient } from '../ditto/index.js';
import {
  AmqpNorthbound,
  type AmqpNorthboundOptions,
  KafkaNorthbound,
  type KafkaNorthboundClientOptions,
  type Northbound,
  createNorthbound,
} from '../northbound/index.js';
import { DeviceRegistry } from '../registry/index.js';
import {
  type DeprovisionDeviceRequest,
  type DeprovisionDeviceResult,
  type ProvisionDeviceRequest,
  type ProvisionDeviceResult,
  type ProvisioningContext,
  deprovisionDevice,
  provisionDevice,
} from './provision.js';

function dittoCredentials(username: string | undefined, password: string | undefined, token?: string): Credentials | undefined {
  if (token !== undefined) return { type: 'bearer', token };
  if (username !== undefined && password !== undefined) return { type: 'basic', username, password };
  return undefined;
}

/**
 * `Cloud2Edge.device()`'s options: the device client's (`createDeviceClient`), where `endpoint` and `tls` default to
 * the configured adapter, and `authId` to the name part of `thingId` when a `password` is given (as
 * `provisionDevice()` registers it).
 */
export type Cloud2EdgeDeviceOptions =
  | (Omit<HttpDeviceClientOptions, 'endpoint'> & { endpoint?: HttpDeviceClientOptions['endpoint'] })
  | (Omit<MqttDeviceClientOptions, 'endpoint'> & { endpoint?: MqttDeviceClientOptions['endpoint'] });

/**
 * `Cloud2Edge.northbound()`'s options: the transport's (`createNorthbound`), where the network's address, TLS, the
 * logger and the ID rules default to the configuration. Kafka `credentials` are not part of it: pass them here.
 */
export type Cloud2EdgeNorthboundOptions =
  ({ transport: 'amqp' } & Partial<AmqpNorthboundOptions>) | ({ transport: 'kafka' } & Partial<KafkaNorthboundClientOptions>);

/**
 * The Cloud2Edge facade: the Hono device registry and Ditto, configured together (one redactor, one
 * logger), provisioning that ties them the way Cloud2Edge expects (device ID = thing ID, a policy
 * with the HONO entry, a Ditto connection per tenant), and device and northbound clients for the same installation.
 *
 * ```ts
 * const c2e = Cloud2Edge.fromEnv();
 * await c2e.provisionDevice({ tenant: 'org.acme', thingId: 'org.acme:lamp-1', password: process.env.LAMP_PWD });
 * const lamp = c2e.device({ transport: 'mqtt', tenant: 'org.acme', thingId: 'org.acme:lamp-1', password: process.env.LAMP_PWD });
 * const app = c2e.northbound({ transport: 'kafka', groupId: 'lamp-dashboard', credentials });
 * ```
 *
 * `close()` closes the registry and Ditto clients; it is final, as for every client of the SDK. Device and
 * northbound clients it created are yours: close them yourself.
 */
export class Cloud2Edge {
  readonly config: Readonly<TwinLedgerConfig>;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly idRules: IdRules;
  private registryClient: DeviceRegistry | undefined;
  private dittoClient: DittoClient | undefined;
  private closed = false;

  /** Reads the variables Cloud2Edge's `setCloud2EdgeEnv.sh` prints; `overrides` win. */
  static fromEnv(overrides: TwinLedgerConfig = {}, env: Readonly<Record<string, string | undefined>> = process.env): Cloud2Edge {
    return new Cloud2Edge(configFromEnv(env, overrides));
  }

  /** Throws `ValidationError` when an address in `config` is malformed or carries credentials (see `checkedConfigEndpoints`). */
  constructor(config: TwinLedgerConfig) {
    this.config = checkedConfigEndpoints(config);
    this.redactor = new Redactor();
    this.logger = redactingLogger(config.logger ?? silentLogger, this.redactor);
    this.idRules = idRules(config.idRules);
  }

  /** The Hono device registry client. Throws `ValidationError` when no registry is configured. */
  get registry(): DeviceRegistry {
    this.assertOpen('registry');
    if (this.registryClient === undefined) {
      const endpoint = this.config.registry;
      if (endpoint === undefined) {
        throw new ValidationError('registry', 'no device registry configured', 'Set REGISTRY_BASE_URL or pass registry.baseUrl.');
      }
      this.registryClient = new DeviceRegistry({
        baseUrl: endpoint.baseUrl,
        timeoutMs: this.config.timeoutMs,
        retry: this.config.retry,
        tls: endpoint.tls ?? this.config.tls,
        logger: this.logger,
        redactor: this.redactor,
        idRules: this.config.idRules,
      });
    }
    return this.registryClient;
  }

  /** The Ditto client. Throws `ValidationError` when Ditto is not configured. */
  get ditto(): DittoClient {
    this.assertOpen('ditto');
    if (this.dittoClient === undefined) {
      const endpoint = this.config.ditto;
      if (endpoint === undefined) {
        throw new ValidationError('ditto', 'no Ditto endpoint configured', 'Set DITTO_API_BASE_URL or pass ditto.baseUrl.');
      }
      this.dittoClient = new DittoClient({
        baseUrl: endpoint.baseUrl,
        credentials: dittoCredentials(endpoint.username ?? 'ditto', endpoint.password ?? 'ditto', endpoint.token),
        devopsCredentials: dittoCredentials(endpoint.devopsUsername ?? 'devops', endpoint.devopsPassword),
        timeoutMs: this.config.timeoutMs,
        retry: this.config.retry,
        tls: endpoint.tls ?? this.config.tls,
        logger: this.logger,
        redactor: this.redactor,
        idRules: this.config.idRules,
      });
    }
    return this.dittoClient;
  }

  /**
   * A device client for this installation's Hono HTTP or MQTT adapter (`createDeviceClient`), sharing the logger
   * and redactor; `endpoint` and `tls` default to the configured adapter (see `deviceEndpointFromConfig`),
   * `timeoutMs` to the configuration's. A new client each call; close it yourself. Nothing connects until `connect()`.
   */
  device(options: Cloud2EdgeDeviceOptions): DeviceClient {
    this.assertOpen('device()');
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError(
        'options',
        `must be an object, got ${showValue(options)}`,
        'e.g. { transport: "mqtt", tenant, thingId, password }',
      );
    }
    const defaults: Partial<DeviceClientOptions> = { logger: this.logger, redactor: this.redactor };
    if (this.config.timeoutMs !== undefined) defaults.timeoutMs = this.config.timeoutMs;
    if (this.config.idRules !== undefined) defaults.idRules = this.config.idRules;
    if (options.endpoint === undefined) {
      const { endpoint, tls } = deviceEndpointFromConfig(this.config, options.transport);
      defaults.endpoint = endpoint;
      if (tls !== undefined) defaults.tls = tls;
    }
    if (options.authId === undefined && options.password !== undefined && options.thingId !== undefined) {
      defaults.authId = splitEntityId(validateThingId(options.thingId, this.idRules, 'thingId')).name;
    }
    return createDeviceClient({ ...defaults, ...options } as DeviceClientOptions);
  }

  /**
   * A northbound client for this installation's messaging network (`createNorthbound`): `transport` defaults to
   * the configured `messaging` (Cloud2Edge: Kafka); the address (`KAFKA_IP` / `AMQP_NETWORK_IP`), TLS, the logger,
   * redactor and ID rules come from the configuration, `options` win. A new client each call; close it yourself.
   */
  northbound(options?: Cloud2EdgeNorthboundOptions): Northbound {
    this.assertOpen('northbound()');
    const chosen: Cloud2EdgeNorthboundOptions = options ?? { transport: this.config.messaging ?? 'kafka' };
    if (typeof chosen !== 'object' || chosen === null) {
      throw new ValidationError(
        'options',
        `must be an object, got ${showValue(chosen)}`,
        'e.g. { transport: "kafka", groupId, credentials }',
      );
    }
    const shared = { logger: this.logger, redactor: this.redactor };
    if (chosen.transport === 'amqp') {
      const { transport, ...overrides } = chosen;
      if (this.config.amqpNetwork === undefined && overrides.host === undefined) {
        throw new ValidationError(
          'amqpNetwork',
          'no AMQP messaging network configured',
          "Set AMQP_NETWORK_IP and AMQP_NETWORK_PORT_AMQP (Cloud2Edge's AMQP profile) or pass host.",
        );
      }
      return createNorthbound({ transport, ...AmqpNorthbound.optionsFromConfig(this.config, { ...shared, ...overrides }) });
    }
    if (chosen.transport === 'kafka') {
      const { transport, ...overrides } = chosen;
      if (this.config.kafka === undefined && overrides.brokers === undefined) {
        throw new ValidationError(
          'kafka',
          'no Kafka bootstrap server configured',
          'Set KAFKA_IP and KAFKA_PORT_TCP_KAFKA or pass brokers.',
        );
      }
      return createNorthbound({ transport, ...KafkaNorthbound.optionsFromConfig(this.config, { ...shared, ...overrides }) });
    }
    throw new ValidationError('transport', `must be "amqp" or "kafka", got ${showValue((chosen as { transport?: unknown }).transport)}`);
  }

  /** Closes the registry and Ditto clients (when they were used). Idempotent and final: afterwards every member throws `ClientClosedError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.registryClient?.close(), this.dittoClient?.close()]);
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new ClientClosedError('Cloud2Edge', what);
  }

  private context(): ProvisioningContext {
    return {
      registry: this.registry,
      ditto: this.ditto,
      idRules: this.idRules,
      logger: this.logger,
      defaultMessaging: this.config.messaging,
      hasDevopsCredentials: this.config.ditto?.devopsPassword !== undefined,
    };
  }

  /**
   * Creates (or finds) the tenant, the device, its password credential, the tenant's Ditto connection,
   * the policy with the HONO entry and the thing. Idempotent; rolls back what it created on failure.
   */
  async provisionDevice(request: ProvisionDeviceRequest, options?: CallOptions): Promise<ProvisionDeviceResult> {
    return provisionDevice(this.context(), request, options);
  }

  /** Deletes the thing, its policy and the device (with its credentials); the connection and tenant on request. */
  async deprovisionDevice(request: DeprovisionDeviceRequest, options?: CallOptions): Promise<DeprovisionDeviceResult> {
    return deprovisionDevice(this.context(), request, options);
  }
}
