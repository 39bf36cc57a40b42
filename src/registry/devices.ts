import { TwinLedgerError, ValidationError } from '../core/errors.js';
import type { HttpCallOptions } from '../core/http.js';
import { pathSegment, validateDeviceId, validateTenantId } from '../core/ids.js';
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
import type { Created, Device, DeviceSearchQuery, DeviceWithId, SearchResult, Versioned } from './types.js';
import { isPlainObject, validateDeviceBody } from './validation.js';

export interface DeviceCreateOptions extends HttpCallOptions {
  /** Register the device with this ID (`POST /devices/{tenant}/{id}`); without it the registry generates one. */
  deviceId?: string;
}

/** `/devices/{tenantId}`: register, read, update, delete, search devices. */
export class DevicesApi {
  constructor(private readonly transport: RegistryTransport) {}

  private tenantPath(tenantId: string): string {
    return `/devices/${pathSegment(tenantId)}`;
  }

  private path(tenantId: string, deviceId: string): string {
    return `${this.tenantPath(tenantId)}/${pathSegment(deviceId)}`;
  }

  private ids(tenantId: unknown, deviceId: unknown): void {
    validateTenantId(tenantId, this.transport.rules);
    validateDeviceId(deviceId, this.transport.rules);
  }

  /**
   * `POST /devices/{tenantId}` or, with `options.deviceId`, `POST /devices/{tenantId}/{deviceId}`.
   * 404 if the tenant does not exist, 409 if the device ID is taken.
   */
  async create(tenantId: string, device?: Device, options?: DeviceCreateOptions): Promise<Created> {
    validateTenantId(tenantId, this.transport.rules);
    validateCallOptions(options);
    const deviceId =
      options?.deviceId === undefined ? undefined : validateDeviceId(options.deviceId, this.transport.rules, 'options.deviceId');
    const body = device === undefined ? {} : validateDeviceBody(device, this.transport.rules);
    const response = await this.transport.send({
      method: 'POST',
      path: deviceId === undefined ? this.tenantPath(tenantId) : this.path(tenantId, deviceId),
      body,
      ...requestOptions(options),
    });
    return { id: createdId(response, deviceId), etag: response.etag };
  }

  /** `GET /devices/{tenantId}/{deviceId}`: the registration and its ETag. */
  async get(tenantId: string, deviceId: string, options?: HttpCallOptions): Promise<Versioned<Device>> {
    this.ids(tenantId, deviceId);
    validateCallOptions(options);
    const response = await this.transport.send<unknown>({
      method: 'GET',
      path: this.path(tenantId, deviceId),
      ...requestOptions(options),
    });
    if (!isPlainObject(response.data)) {
      throw new TwinLedgerError(`the registry answered GET device ${deviceId} without a JSON object`, {
        code: 'registry.unexpected-response',
      });
    }
    return { value: response.data as Device, etag: response.etag };
  }

  /** `PUT /devices/{tenantId}/{deviceId}`: replaces the registration (read-only `status`/`id` are not sent). */
  async update(tenantId: string, deviceId: string, device: Device, options?: IfMatchOptions): Promise<{ etag: string | undefined }> {
    this.ids(tenantId, deviceId);
    const body = validateDeviceBody(device, this.transport.rules);
    validateCallOptions(options);
    const response = await this.transport.send({
      method: 'PUT',
      path: this.path(tenantId, deviceId),
      body,
      ...requestOptions(options, options?.ifMatch),
    });
    return { etag: response.etag };
  }

  /** `DELETE /devices/{tenantId}/{deviceId}`: removes the device and its credentials. */
  async delete(tenantId: string, deviceId: string, options?: IfMatchOptions): Promise<void> {
    this.ids(tenantId, deviceId);
    validateCallOptions(options);
    await this.transport.send({
      method: 'DELETE',
      path: this.path(tenantId, deviceId),
      ...requestOptions(options, options?.ifMatch),
    });
  }

  /** `DELETE /devices/{tenantId}`: removes every device of the tenant (and their credentials). */
  async deleteAll(tenantId: string, options?: HttpCallOptions): Promise<void> {
    validateTenantId(tenantId, this.transport.rules);
    validateCallOptions(options);
    await this.transport.send({ method: 'DELETE', path: this.tenantPath(tenantId), ...requestOptions(options) });
  }

  /** `GET /devices/{tenantId}?pageSize&pageOffset&filterJson&sortJson&isGateway`: one page. */
  async search(tenantId: string, query?: DeviceSearchQuery, options?: RegistrySearchOptions): Promise<SearchResult<DeviceWithId>> {
    validateTenantId(tenantId, this.transport.rules);
    validateSearchQuery(query, true);
    validateCallOptions(options);
    validateSearchOptions(options);
    return searchOrEmpty(options, async () => {
      const response = await this.transport.send<unknown>({
        method: 'GET',
        path: this.tenantPath(tenantId),
        query: encodeSearchQuery(query),
        ...requestOptions(options),
      });
      return toSearchResult<DeviceWithId>(response.data);
    });
  }

  /** Every device of the tenant matching `query`, page by page (`query.pageSize` per request, default 100). */
  all(tenantId: string, query?: DeviceSearchQuery, options?: RegistrySearchOptions): AsyncIterable<DeviceWithId> {
    validateTenantId(tenantId, this.transport.rules);
    validateSearchQuery(query, true);
    validateCallOptions(options);
    validateSearchOptions(options);
    return allPages(query, (page) => this.search(tenantId, page, options));
  }

  /**
   * Read-modify-write: GET the device, apply `change` to a copy, PUT it with `If-Match`; on 412 start
   * over, up to `maxAttempts` times.
   */
  async modify(
    tenantId: string,
    deviceId: string,
    change: (current: Device) => Device | Promise<Device>,
    options?: ModifyOptions,
  ): Promise<{ value: Device; etag: string | undefined }> {
    this.ids(tenantId, deviceId);
    if (typeof change !== 'function') throw new ValidationError('change', 'must be a function (current) => updated device');
    validateCallOptions(options);
    const deadline = new Deadline(`modify device ${deviceId}`, options, this.transport.http.timeoutMs);
    return retryOnConflict(options?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, this.transport.logger, 'devices.modify', async () => {
      const current = await this.get(tenantId, deviceId, deadline.next());
      const value = validateDeviceBody(await change(jsonCopy(current.value)), this.transport.rules, 'change() result');
      const { etag } = await this.update(tenantId, deviceId, value, { ...deadline.next(), ifMatch: current.etag });
      return { value, etag };
    });
  }
}
