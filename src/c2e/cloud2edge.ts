import {
  type CallOptions,
  type Credentials,
  type IdRules,
  type Logger,
  Redactor,
  type TwinLedgerConfig,
  ValidationError,
  checkedConfigEndpoints,
  configFromEnv,
  idRules,
  redactingLogger,
  silentLogger,
} from '../core/index.js';
import { DittoClient } from '../ditto/index.js';
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
 * The Cloud2Edge facade: the Hono device registry and Ditto, configured together (one redactor, one
 * logger), plus provisioning that ties them the way Cloud2Edge expects (device ID = thing ID, a policy
 * with the HONO entry, a Ditto connection per tenant).
 *
 * ```ts
 * const c2e = Cloud2Edge.fromEnv();
 * await c2e.provisionDevice({ tenant: 'org.acme', thingId: 'org.acme:lamp-1', password: process.env.LAMP_PWD });
 * ```
 */
export class Cloud2Edge {
  readonly config: Readonly<TwinLedgerConfig>;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly idRules: IdRules;
  private registryClient: DeviceRegistry | undefined;
  private dittoClient: DittoClient | undefined;

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
  provisionDevice(request: ProvisionDeviceRequest, options?: CallOptions): Promise<ProvisionDeviceResult> {
    return provisionDevice(this.context(), request, options);
  }

  /** Deletes the thing, its policy and the device (with its credentials); the connection and tenant on request. */
  deprovisionDevice(request: DeprovisionDeviceRequest, options?: CallOptions): Promise<DeprovisionDeviceResult> {
    return deprovisionDevice(this.context(), request, options);
  }
}
