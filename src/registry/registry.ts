import { checkedHttpBaseUrl } from '../core/endpoint.js';
import { ValidationError } from '../core/errors.js';
import { type Credentials, HttpClient } from '../core/http.js';
import { type IdRules, idRules } from '../core/ids.js';
import { type Logger, redactingLogger, silentLogger } from '../core/logger.js';
import { durationMs } from '../core/options.js';
import { Redactor } from '../core/redact.js';
import type { RetryPolicy } from '../core/retry.js';
import type { TlsOptions } from '../core/tls.js';
import { CredentialsApi } from './credentials.js';
import { DevicesApi } from './devices.js';
import { registryHints } from './hints.js';
import { TenantsApi } from './tenants.js';
import { RegistryTransport } from './transport.js';

export interface DeviceRegistryOptions {
  /**
   * Base URL of the management API including `/v1`, e.g. `http://192.168.1.10:28080/v1`. A URL with user info
   * (`user:password@`) is refused: pass `credentials` instead.
   */
  baseUrl: string;
  /** Default deadline per call (read-modify-write helpers: for the whole operation). Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * Retries of idempotent requests (GET, PUT, DELETE) on 429, 503 and network errors. POST is never retried,
   * and neither is a request with `If-Match` (`ifMatch` options): a repeat after a lost response would get 412.
   */
  retry?: RetryPolicy;
  tls?: TlsOptions;
  /** Receives log lines with secrets masked. */
  logger?: Logger;
  /** Shared redactor, so passwords given here are also masked elsewhere in the SDK. */
  redactor?: Redactor;
  /** Server-side ID patterns if they differ from Cloud2Edge's defaults. */
  idRules?: Partial<IdRules>;
  /**
   * Basic or bearer authentication of this client, if the registry requires it (Cloud2Edge's does not). The same
   * option name as in every client; not to be confused with `registry.credentials`, the API for devices' credentials.
   */
  credentials?: Credentials;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * A ready HTTP client to use instead of building one; `baseUrl`, `timeoutMs`, `retry`, `tls`, `logger`,
   * `redactor`, `credentials` and `headers` are then ignored (the client's own settings apply). The registry takes
   * it over: `close()` closes it.
   */
  http?: HttpClient;
}

function checkedBaseUrl(baseUrl: unknown): string {
  const base = checkedHttpBaseUrl('baseUrl', baseUrl, {
    example: '"http://192.168.1.10:28080/v1"',
    credentialsIn: "the `credentials` option (Cloud2Edge's registry needs none)",
  });
  if (!/\/v1$/.test(base)) {
    throw new ValidationError(
      'baseUrl',
      'must end with /v1 (the management API version)',
      'Cloud2Edge prints REGISTRY_BASE_URL without it: append "/v1".',
    );
  }
  return base;
}

/**
 * Typed client of Hono's Device Registry Management API v1: tenants, devices and credentials.
 *
 * ```ts
 * const registry = new DeviceRegistry({ baseUrl: 'http://192.168.1.10:28080/v1' });
 * await registry.tenants.create({}, { tenantId: 'org.acme' });
 * await registry.devices.create('org.acme', {}, { deviceId: 'org.acme:lamp-1' });
 * await registry.credentials.setPassword('org.acme', 'org.acme:lamp-1', 'lamp-1', secret);
 * await registry.close();
 * ```
 *
 * It keeps HTTP connections alive: `close()` releases them. `close()` is final, as for every client of the SDK:
 * calls after it fail with `ClientClosedError`.
 */
export class DeviceRegistry {
  readonly tenants: TenantsApi;
  readonly devices: DevicesApi;
  readonly credentials: CredentialsApi;
  /** The HTTP client underneath (shared redactor and logger). */
  readonly http: HttpClient;

  constructor(options: DeviceRegistryOptions) {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object with at least baseUrl');
    const rules = idRules(options.idRules);
    if (options.http !== undefined) {
      this.http = options.http;
    } else {
      const redactor = options.redactor ?? new Redactor();
      const clientOptions: ConstructorParameters<typeof HttpClient>[0] = {
        baseUrl: checkedBaseUrl(options.baseUrl),
        service: 'hono-registry',
        redactor,
        logger: redactingLogger(options.logger ?? silentLogger, redactor),
        hints: registryHints(redactor),
      };
      if (options.timeoutMs !== undefined) clientOptions.timeoutMs = durationMs('timeoutMs', options.timeoutMs);
      if (options.retry !== undefined) clientOptions.retry = options.retry;
      if (options.tls !== undefined) clientOptions.tls = options.tls;
      if (options.credentials !== undefined) clientOptions.credentials = options.credentials;
      if (options.headers !== undefined) clientOptions.headers = options.headers;
      this.http = new HttpClient(clientOptions);
    }
    const transport = new RegistryTransport(this.http, rules);
    this.tenants = new TenantsApi(transport);
    this.devices = new DevicesApi(transport);
    this.credentials = new CredentialsApi(transport);
  }

  /** Closes the HTTP connections; calls in flight and later fail with `ClientClosedError`. Idempotent. */
  close(): Promise<void> {
    return this.http.close();
  }
}
