import { TwinLedgerError, ValidationError } from '../core/errors.js';
import type { HttpCallOptions } from '../core/http.js';
import { pathSegment, validateTenantId } from '../core/ids.js';
import { encodeSearchQuery, validateSearchQuery } from './query.js';
import { type RegistrySearchOptions, allPages, searchOrEmpty, toSearchResult, validateSearchOptions } from './search.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  Deadline,
  type IfMatchOptions,
  type ModifyOptions,
  type RegistryTransport,
  createdId,
  jsonCopy,
  requestOptions,
  retryOnConflict,
  validateCallOptions,
} from './transport.js';
import type { Created, RegistrySearchQuery, SearchResult, Tenant, TenantWithId, Versioned } from './types.js';
import { isPlainObject, validateTenantBody } from './validation.js';

export interface TenantCreateOptions extends HttpCallOptions {
  /** Create the tenant with this ID (`POST /tenants/{id}`); without it the registry generates one. */
  tenantId?: string;
}

/** `/tenants`: create, read, update, delete, search. */
export class TenantsApi {
  constructor(private readonly transport: RegistryTransport) {}

  private path(tenantId: string): string {
    return `/tenants/${pathSegment(tenantId)}`;
  }

  /** `POST /tenants` or, with `options.tenantId`, `POST /tenants/{tenantId}`. 409 if the ID is taken. */
  async create(tenant?: Tenant, options?: TenantCreateOptions): Promise<Created> {
    validateCallOptions(options);
    const tenantId =
      options?.tenantId === undefined ? undefined : validateTenantId(options.tenantId, this.transport.rules, 'options.tenantId');
    const body = tenant === undefined ? {} : validateTenantBody(tenant);
    const response = await this.transport.send({
      method: 'POST',
      path: tenantId === undefined ? '/tenants' : this.path(tenantId),
      body,
      ...requestOptions(options),
    });
    return { id: createdId(response, tenantId), etag: response.etag };
  }

  /** `GET /tenants/{tenantId}`: the configuration and its ETag. */
  async get(tenantId: string, options?: HttpCallOptions): Promise<Versioned<Tenant>> {
    validateTenantId(tenantId, this.transport.rules);
    validateCallOptions(options);
    const response = await this.transport.send<unknown>({ method: 'GET', path: this.path(tenantId), ...requestOptions(options) });
    if (!isPlainObject(response.data)) {
      throw new TwinLedgerError(`the registry answered GET tenant ${tenantId} without a JSON object`, {
        code: 'registry.unexpected-response',
      });
    }
    return { value: response.data as Tenant, etag: response.etag };
  }

  /** `PUT /tenants/{tenantId}`: replaces the whole configuration. 412 if `ifMatch` is outdated. */
  async update(tenantId: string, tenant: Tenant, options?: IfMatchOptions): Promise<{ etag: string | undefined }> {
    validateTenantId(tenantId, this.transport.rules);
    const body = validateTenantBody(tenant);
    validateCallOptions(options);
    const response = await this.transport.send({
      method: 'PUT',
      path: this.path(tenantId),
      body,
      ...requestOptions(options, options?.ifMatch),
    });
    return { etag: response.etag };
  }

  /** `DELETE /tenants/{tenantId}`: removes the tenant with all its devices and credentials. */
  async delete(tenantId: string, options?: IfMatchOptions): Promise<void> {
    validateTenantId(tenantId, this.transport.rules);
    validateCallOptions(options);
    await this.transport.send({ method: 'DELETE', path: this.path(tenantId), ...requestOptions(options, options?.ifMatch) });
  }

  /** `GET /tenants?pageSize&pageOffset&filterJson&sortJson`: one page. */
  async search(query?: RegistrySearchQuery, options?: RegistrySearchOptions): Promise<SearchResult<TenantWithId>> {
    validateSearchQuery(query, false);
    validateCallOptions(options);
    validateSearchOptions(options);
    return searchOrEmpty(options, async () => {
      const response = await this.transport.send<unknown>({
        method: 'GET',
        path: '/tenants',
        query: encodeSearchQuery(query),
        ...requestOptions(options),
      });
      return toSearchResult<TenantWithId>(response.data);
    });
  }

  /** Every tenant matching `query`, page by page (`query.pageSize` per request, default 100). */
  all(query?: RegistrySearchQuery, options?: RegistrySearchOptions): AsyncIterable<TenantWithId> {
    validateSearchQuery(query, false);
    validateCallOptions(options);
    validateSearchOptions(options);
    return allPages(query, (page) => this.search(page, options));
  }

  /**
   * Read-modify-write: GET the tenant, apply `change` to a copy, PUT the result with `If-Match`; when
   * someone else changed the tenant in between (412), start over, up to `maxAttempts` times.
   */
  async modify(
    tenantId: string,
    change: (current: Tenant) => Tenant | Promise<Tenant>,
    options?: ModifyOptions,
  ): Promise<{ value: Tenant; etag: string | undefined }> {
    validateTenantId(tenantId, this.transport.rules);
    if (typeof change !== 'function') throw new ValidationError('change', 'must be a function (current) => updated tenant');
    validateCallOptions(options);
    const deadline = new Deadline(`modify tenant ${tenantId}`, options, this.transport.http.timeoutMs);
    return retryOnConflict(options?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, this.transport.logger, 'tenants.modify', async () => {
      const current = await this.get(tenantId, deadline.next());
      const value = validateTenantBody(await change(jsonCopy(current.value)), 'change() result');
      const { etag } = await this.update(tenantId, value, { ...deadline.next(), ifMatch: current.etag });
      return { value, etag };
    });
  }
}
