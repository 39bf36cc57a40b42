/**
 * `Sandbox`: a Cloud2Edge-compatible environment in this process, on loopback, for trying TwinLedger, running the
 * samples and testing without a Kubernetes cluster. `env()` gives the variables Cloud2Edge's env script prints, so
 * `Cloud2Edge.fromEnv(sandbox.env())` and every client of the SDK work against it unchanged. What it emulates and
 * how it differs from a real installation: docs/sandbox.md.
 */
import { resolve } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { integerOption } from '../core/options.js';
import { SandboxStartError } from './errors.js';
import type { RunningServer } from './http.js';
import { CommandRequests } from './command-requests.js';
import { startDittoServer } from './ditto-server.js';
import { type Json, pointerTokens } from './ditto-json.js';
import { DittoStore } from './ditto-store.js';
import { startHttpAdapter } from './http-adapter.js';
import { type RunningMqttAdapter, startMqttAdapter } from './mqtt-adapter.js';
import { type NorthboundUser, type RunningMessaging, startMessaging } from './messaging.js';
import { startRegistryServer } from './registry-server.js';
import { TenantLimits } from './tenant-limits.js';
import { startWiring } from './wiring.js';
import { RegistryStore } from './registry-store.js';
import { SandboxState } from './state.js';

/** Each service's port; 0 (the default of each) picks a free one. */
export interface SandboxPorts {
  /** Hono device registry (`/v1`). */
  registry?: number;
  /** Hono HTTP adapter. */
  httpAdapter?: number;
  /** Hono MQTT adapter. */
  mqttAdapter?: number;
  /** Hono MQTT adapter's TLS port (with `tls` only). */
  mqttAdapterTls?: number;
  /** The AMQP 1.0 messaging network (northbound). */
  amqp?: number;
  /** Ditto's HTTP API. */
  ditto?: number;
}

export interface SandboxLimits {
  /** Largest request body the device registry accepts (413 beyond). Default 65,536 bytes. */
  registryMaxBodyBytes?: number;
  /** Largest request body Ditto accepts (413 beyond). Default 102,400 bytes (Ditto's default thing size limit). */
  dittoMaxBodyBytes?: number;
  /** Largest payload the protocol adapters accept (HTTP 413; MQTT: refused). Default 2,048 bytes, as Hono's. */
  maxPayloadBytes?: number;
  /** Device connections the MQTT adapter holds at most (beyond: CONNACK 3, server unavailable). Default 10,000. */
  mqttMaxConnections?: number;
  /** Application connections the AMQP messaging network holds at most (beyond: closed, `amqp:resource-limit-exceeded`). Default 100. */
  northboundMaxConnections?: number;
}

export interface SandboxOptions {
  /** Where the state (registry, twins, policies, revisions) is kept across restarts. Default: in memory only. */
  dataDir?: string;
  /** Loopback address to listen on. Default `127.0.0.1`. */
  host?: string;
  ports?: SandboxPorts;
  limits?: SandboxLimits;
  /**
   * A server certificate and key (PEM) for the MQTT adapter's TLS port (`MQTT_ADAPTER_PORT_MQTTS` in `env()`). There,
   * devices may log in with a client certificate, as with Hono: the tenant whose `trusted-ca` issued it, the device
   * whose `x509-cert` credential has its subject DN. Default: no TLS port.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Who may log in to the AMQP messaging network (SASL PLAIN). Default `[{ username: 'consumer@HONO', password:
   * 'verysecret' }]`, the consumer of Hono's example deployment.
   */
  northboundUsers?: NorthboundUser[];
  /** The password of Ditto's `devops` user (printed as `DITTO_DEVOPS_PWD`). Default `foobar`, Ditto's own default. */
  dittoDevopsPassword?: string;
  /** Each service logs through it (requests that fail, start and stop). Default silent. */
  logger?: Logger;
}

/** The AMQP network's user when none are given: the consumer of Hono's example deployment. */
export const DEFAULT_NORTHBOUND_USER: Readonly<NorthboundUser> = Object.freeze({ username: 'consumer@HONO', password: 'verysecret' });

/** What the sandbox's device registry answers in-process: the check its protocol adapters make at a device's login. */
export interface SandboxRegistryAccess {
  /**
   * The device `authId@tenantId` logs in as with this password, or undefined: the tenant and the device enabled, a
   * `hashed-password` credential and an enabled secret, valid now, whose hash matches.
   */
  authenticate(tenantId: string, authId: string, password: string): Promise<{ deviceId: string } | undefined>;
}

/** The variables Cloud2Edge's `setCloud2EdgeEnv.sh` prints, for the services the sandbox runs. */
export type SandboxEnv = Readonly<Record<string, string>>;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

interface Services {
  registry: RunningServer;
  messaging: RunningMessaging;
  httpAdapter: RunningServer;
  mqttAdapter: RunningMqttAdapter;
  ditto: RunningServer;
}

export class Sandbox {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly host: string,
    private readonly services: Services,
    private readonly state: SandboxState,
    private readonly registryStore: RegistryStore,
    private readonly logger: Logger,
    private readonly closingSignal: AbortController,
    private readonly devopsPassword: string,
    private readonly dittoStore: DittoStore,
  ) {}

  /** Starts every service; resolves once all listen. Fails with `SandboxStartError` (nothing left running). */
  static async start(options: SandboxOptions = {}): Promise<Sandbox> {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object');
    const host = options.host ?? '127.0.0.1';
    if (!LOOPBACK.has(host)) {
      throw new ValidationError(
        'host',
        'must be a loopback address (127.0.0.1, ::1 or localhost)',
        'The sandbox has no authentication worth the name: keep it off the network.',
      );
    }
    const port = (name: keyof SandboxPorts) => integerOption(`ports.${name}`, options.ports?.[name], { min: 0, max: 65_535 }, 0);
    const ports = {
      registry: port('registry'),
      httpAdapter: port('httpAdapter'),
      mqttAdapter: port('mqttAdapter'),
      amqp: port('amqp'),
      ditto: port('ditto'),
      mqttAdapterTls: port('mqttAdapterTls'),
    };
    const tls = options.tls;
    if (tls !== undefined && (typeof tls !== 'object' || tls === null || !tls.cert || !tls.key)) {
      throw new ValidationError('tls', 'must be { cert, key } in PEM', 'Pass the server certificate and its private key, e.g. from files.');
    }
    const dittoMaxBodyBytes = integerOption(
      'limits.dittoMaxBodyBytes',
      options.limits?.dittoMaxBodyBytes,
      { min: 1024, max: 64 * 1024 * 1024 },
      102_400,
    );
    const devopsPassword = options.dittoDevopsPassword ?? 'foobar';
    if (typeof devopsPassword !== 'string' || devopsPassword === '')
      throw new ValidationError('dittoDevopsPassword', 'must be a non-empty string');
    const maxBodyBytes = integerOption(
      'limits.registryMaxBodyBytes',
      options.limits?.registryMaxBodyBytes,
      { min: 1024, max: 64 * 1024 * 1024 },
      65_536,
    );
    const maxPayloadBytes = integerOption(
      'limits.maxPayloadBytes',
      options.limits?.maxPayloadBytes,
      { min: 1, max: 64 * 1024 * 1024 },
      2048,
    );
    const mqttMaxConnections = integerOption(
      'limits.mqttMaxConnections',
      options.limits?.mqttMaxConnections,
      { min: 1, max: 1_000_000 },
      10_000,
    );
    const northboundMaxConnections = integerOption(
      'limits.northboundMaxConnections',
      options.limits?.northboundMaxConnections,
      { min: 1, max: 100_000 },
      100,
    );
    const users = options.northboundUsers ?? [DEFAULT_NORTHBOUND_USER];
    if (!Array.isArray(users) || users.some((user) => typeof user?.username !== 'string' || typeof user.password !== 'string')) {
      throw new ValidationError('northboundUsers', 'must be an array of { username, password }');
    }
    const logger = options.logger ?? silentLogger;
    let state: SandboxState;
    try {
      state = await SandboxState.open(options.dataDir === undefined ? undefined : resolve(options.dataDir));
    } catch (error) {
      throw new SandboxStartError(
        'state',
        (error as Error).message,
        'Check that dataDir is a writable folder that no other sandbox uses.',
        error,
      );
    }
    const registry = new RegistryStore(state);
    const requests = new CommandRequests();
    const tenantLimits = new TenantLimits(registry);
    const closing = new AbortController();
    const started: Array<{ close(): Promise<void> }> = [];
    const begin = async <T extends { close(): Promise<void> }>(service: string, portUsed: number, run: () => Promise<T>): Promise<T> => {
      try {
        const running = await run();
        started.push(running);
        return running;
      } catch (error) {
        closing.abort();
        for (const running of started.reverse()) await running.close();
        await state.close();
        const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        throw new SandboxStartError(
          service,
          (error as Error).message,
          taken ? `Port ${portUsed} is taken: choose another, or 0 for a free one.` : 'Check the host and port.',
          error,
        );
      }
    };
    const registryServer = await begin('device registry', ports.registry, () =>
      startRegistryServer(registry, { host, port: ports.registry, maxBodyBytes, logger }),
    );
    const messaging = await begin('AMQP messaging network', ports.amqp, () =>
      startMessaging({ host, port: ports.amqp, users, maxConnections: northboundMaxConnections, logger }),
    );
    const httpAdapter = await begin('HTTP adapter', ports.httpAdapter, () =>
      startHttpAdapter(
        registry,
        messaging,
        { host, port: ports.httpAdapter, maxPayloadBytes, logger },
        closing.signal,
        requests,
        tenantLimits,
      ),
    );
    const mqttAdapter = await begin('MQTT adapter', ports.mqttAdapter, () =>
      startMqttAdapter(registry, messaging, requests, tenantLimits, {
        host,
        port: ports.mqttAdapter,
        maxPayloadBytes,
        maxConnections: mqttMaxConnections,
        logger,
        ...(tls ? { tls: { cert: tls.cert, key: tls.key }, tlsPort: ports.mqttAdapterTls } : {}),
      }),
    );
    const dittoUsers = [
      { username: 'ditto', password: 'ditto', subjects: ['nginx:ditto'] },
      { username: 'devops', password: devopsPassword, subjects: ['nginx:devops'] },
    ];
    const dittoStore = new DittoStore(state);
    const dittoServer = await begin('Ditto', ports.ditto, () =>
      startDittoServer(dittoStore, { host, port: ports.ditto, maxBodyBytes: dittoMaxBodyBytes, users: dittoUsers, logger, messaging }),
    );
    startWiring(dittoStore, messaging, logger);
    const services: Services = { registry: registryServer, messaging, httpAdapter, mqttAdapter, ditto: dittoServer };
    logger.info('sandbox started', {
      host,
      registry: registryServer.port,
      httpAdapter: httpAdapter.port,
      mqttAdapter: mqttAdapter.port,
      amqp: messaging.port,
      ditto: dittoServer.port,
      persistent: state.persistent,
    });
    return new Sandbox(host, services, state, registry, logger, closing, devopsPassword, dittoStore);
  }

  /** The device registry, in-process. */
  get registry(): SandboxRegistryAccess {
    return this.registryStore;
  }

  /** The variables Cloud2Edge's env script prints, pointing at this sandbox: pass them to `Cloud2Edge.fromEnv()`. */
  env(): SandboxEnv {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    const { registry, httpAdapter, mqttAdapter, messaging, ditto } = this.services;
    return {
      REGISTRY_BASE_URL: `http://${host}:${registry.port}`,
      HTTP_ADAPTER_BASE_URL: `http://${host}:${httpAdapter.port}`,
      HTTP_ADAPTER_IP: this.host,
      HTTP_ADAPTER_PORT_HTTP: String(httpAdapter.port),
      MQTT_ADAPTER_IP: this.host,
      MQTT_ADAPTER_PORT_MQTT: String(mqttAdapter.port),
      ...(mqttAdapter.tlsPort === undefined ? {} : { MQTT_ADAPTER_PORT_MQTTS: String(mqttAdapter.tlsPort) }),
      DITTO_API_BASE_URL: `http://${host}:${ditto.port}`,
      DITTO_DEVOPS_PWD: this.devopsPassword,
      AMQP_NETWORK_IP: this.host,
      AMQP_NETWORK_PORT_AMQP: String(messaging.port),
      // TwinLedger's own: the sandbox's messaging network is AMQP 1.0 (Cloud2Edge's AMQP profile).
      TWINLEDGER_MESSAGING: 'amqp',
    };
  }

  /**
   * Changes a stored twin behind Ditto's back, as someone with access to its database could: the value at `path` (a
   * JSON pointer such as `/features/lamp/properties/on`, `/` for the whole thing) is replaced, with no new revision,
   * no change event and no history entry. For demonstrating and testing tamper detection (`auditThing` names such a
   * change as `value-differs`); nothing else in the sandbox uses it. Fails with a `ValidationError` for an unknown thing
   * or a malformed path.
   */
  async tamperWithTwin(thingId: string, path: string, value: unknown): Promise<void> {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new ValidationError('path', 'must be a JSON pointer starting with /');
    if (value === undefined) throw new ValidationError('value', 'must be a JSON value');
    const changed = await this.dittoStore.overwriteUnrecorded(thingId, pointerTokens(path), JSON.parse(JSON.stringify(value)) as Json);
    if (!changed) throw new ValidationError('thingId', `no thing ${thingId} in the sandbox`);
  }

  /** Stops every service and closes the state. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closingSignal.abort();
      await this.services.ditto.close();
      await this.services.httpAdapter.close();
      await this.services.mqttAdapter.close();
      await this.services.messaging.close();
      await this.services.registry.close();
      await this.state.close();
      this.logger.info('sandbox stopped');
    })();
    return this.closing;
  }
}
