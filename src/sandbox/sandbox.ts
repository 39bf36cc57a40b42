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
import { startRegistryServer } from './registry-server.js';
import { RegistryStore } from './registry-store.js';
import { SandboxState } from './state.js';

export interface SandboxPorts {
  /** Hono device registry (`/v1`). Default 0: a free port. */
  registry?: number;
}

export interface SandboxLimits {
  /** Largest request body the device registry accepts (413 beyond). Default 65,536 bytes. */
  registryMaxBodyBytes?: number;
}

export interface SandboxOptions {
  /** Where the state (registry, twins, policies, revisions) is kept across restarts. Default: in memory only. */
  dataDir?: string;
  /** Loopback address to listen on. Default `127.0.0.1`. */
  host?: string;
  ports?: SandboxPorts;
  limits?: SandboxLimits;
  /** Each service logs through it (requests that fail, start and stop). Default silent. */
  logger?: Logger;
}

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

export class Sandbox {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly host: string,
    private readonly services: { registry: RunningServer },
    private readonly state: SandboxState,
    private readonly registryStore: RegistryStore,
    private readonly logger: Logger,
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
    const registryPort = integerOption('ports.registry', options.ports?.registry, { min: 0, max: 65_535 }, 0);
    const maxBodyBytes = integerOption(
      'limits.registryMaxBodyBytes',
      options.limits?.registryMaxBodyBytes,
      { min: 1024, max: 64 * 1024 * 1024 },
      65_536,
    );
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
    let registryServer: RunningServer;
    try {
      registryServer = await startRegistryServer(registry, { host, port: registryPort, maxBodyBytes, logger });
    } catch (error) {
      await state.close();
      throw new SandboxStartError(
        'device registry',
        (error as Error).message,
        (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
          ? `Port ${registryPort} is taken: choose another, or 0 for a free one.`
          : 'Check the host and port.',
        error,
      );
    }
    logger.info('sandbox started', { host, registry: registryServer.port, persistent: state.persistent });
    return new Sandbox(host, { registry: registryServer }, state, registry, logger);
  }

  /** The device registry, in-process. */
  get registry(): SandboxRegistryAccess {
    return this.registryStore;
  }

  /** The variables Cloud2Edge's env script prints, pointing at this sandbox: pass them to `Cloud2Edge.fromEnv()`. */
  env(): SandboxEnv {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return {
      REGISTRY_BASE_URL: `http://${host}:${this.services.registry.port}`,
    };
  }

  /** Stops every service and closes the state. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.services.registry.close();
      await this.state.close();
      this.logger.info('sandbox stopped');
    })();
    return this.closing;
  }
}
