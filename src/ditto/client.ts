import { checkedHttpBaseUrl } from '../core/endpoint.js';
import { ValidationError } from '../core/errors.js';
import { type HttpCallOptions, type Credentials, HttpClient } from '../core/http.js';
import { type IdRules, idRules } from '../core/ids.js';
import { type Logger, redactingLogger, silentLogger } from '../core/logger.js';
import { durationMs } from '../core/options.js';
import { Redactor } from '../core/redact.js';
import type { RetryPolicy } from '../core/retry.js';
import type { TlsOptions } from '../core/tls.js';
import { ChangeStreamApi } from './changes.js';
import { ConnectionsApi } from './connections.js';
import type { FeatureHandle } from './features.js';
import { dittoHints } from './hints.js';
import { MessagesApi } from './messages.js';
import { API_PREFIX } from './paths.js';
import { PoliciesApi } from './policies.js';
import { DittoResource } from './resource.js';
import { SearchApi } from './search.js';
import { ThingsApi } from './things.js';

export interface DittoClientOptions {
  /**
   * Ditto's base URL without `/api/2`, e.g. Cloud2Edge's `DITTO_API_BASE_URL`. A URL with user info
   * (`user:password@`) is refused: pass `credentials` instead.
   */
  baseUrl: string;
  /** Cloud2Edge default: basic `ditto`/`ditto`. */
  credentials?: Credentials;
  /** Default per-call deadline (ms). Default 10 000. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  tls?: TlsOptions;
  logger?: Logger;
  /** Shared with the rest of the SDK so that secrets given anywhere are masked everywhere. */
  redactor?: Redactor;
  idRules?: Partial<IdRules>;
  /** For `connections` (Cloud2Edge: `devops` / `$DITTO_DEVOPS_PWD`). Without it connections use `credentials`. */
  devopsCredentials?: Credentials;
  /**
   * A ready HTTP client (base URL without `/api/2`) to use instead of building one; it should have been
   * built with `hints: dittoHints` to get Ditto-specific hints on errors. The client takes it over: `close()` closes it.
   */
  http?: HttpClient;
}

export interface WhoAmI {
  subjects: string[];
  defaultSubject: string;
  [key: string]: unknown;
}

/**
 * A typed client for Ditto's HTTP API v2 as Cloud2Edge deploys it (Ditto 3.5). It keeps HTTP connections alive:
 * `close()` releases them. `close()` is final, as for every client of the SDK: calls after it (and change streams
 * still open) fail with `ClientClosedError`.
 */
export class DittoClient {
  readonly things: ThingsApi;
  readonly policies: PoliciesApi;
  readonly messages: MessagesApi;
  /** Uses the devops credentials. */
  readonly connections: ConnectionsApi;
  readonly search: SearchApi;
  readonly changes: ChangeStreamApi;
  readonly http: HttpClient;
  readonly idRules: IdRules;
  private readonly resource: DittoResource;
  private readonly devops: HttpClient;

  constructor(options: DittoClientOptions) {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object with at least baseUrl');
    const baseUrl = checkedHttpBaseUrl('baseUrl', options.baseUrl, {
      example: '"http://ditto.example.com:8080" (without /api/2)',
      credentialsIn: 'the `credentials` option (and `devopsCredentials` for connections)',
    }).replace(/\/api\/2$/, '');
    const redactor = options.redactor ?? options.http?.redactor ?? new Redactor();
    const logger = redactingLogger(options.logger ?? options.http?.logger ?? silentLogger, redactor);
    const shared = {
      timeoutMs: durationMs('timeoutMs', options.timeoutMs),
      retry: options.retry,
      tls: options.tls,
      logger,
      redactor,
      hints: dittoHints,
    };
    this.idRules = idRules(options.idRules);
    this.http = options.http ?? new HttpClient({ baseUrl, service: 'ditto', credentials: options.credentials, ...shared });
    this.devops =
      options.devopsCredentials === undefined
        ? this.http
        : new HttpClient({
            baseUrl: options.http?.baseUrl ?? baseUrl,
            service: 'ditto-devops',
            credentials: options.devopsCredentials,
            ...shared,
            timeoutMs: shared.timeoutMs ?? options.http?.timeoutMs,
            retry: options.retry ?? options.http?.retry,
          });
    this.resource = new DittoResource(this.http);
    this.things = new ThingsApi(this.resource, this.idRules, logger);
    this.policies = new PoliciesApi(this.resource, this.idRules);
    this.messages = new MessagesApi(this.resource, this.idRules);
    this.connections = new ConnectionsApi(this.devops, redactor);
    this.search = new SearchApi(this.http, this.idRules);
    this.changes = new ChangeStreamApi(this.http, this.idRules, logger);
  }

  /** Same as `things.feature(thingId, featureId)`. */
  feature(thingId: string, featureId: string): FeatureHandle {
    return this.things.feature(thingId, featureId);
  }

  /** Closes the HTTP connections (also the devops client's); calls in flight and later fail with `ClientClosedError`. Idempotent. */
  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.devops.close()]);
  }

  /** `GET /api/2/whoami`: the subjects Ditto sees for these credentials (a cheap credentials check). */
  async whoami(options: HttpCallOptions = {}): Promise<WhoAmI> {
    return this.resource.get<WhoAmI>(`${API_PREFIX}/whoami`, options);
  }
}
