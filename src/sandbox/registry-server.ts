/**
 * The Hono device registry's management API (`/v1`) over HTTP: routing, bodies, ETag and Location headers. What each
 * operation does is in registry-store.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import { type RunningServer, parseJsonBody, pathSegments, readBody, sendEmpty, sendJson, startHttpServer } from './http.js';
import { checkId, malformed, registryError } from './registry-model.js';
import { parseSearch } from './registry-search.js';
import type { RegistryStore } from './registry-store.js';

export interface RegistryServerOptions {
  host: string;
  port: number;
  /** Request bodies larger than this are refused with 413. */
  maxBodyBytes: number;
  logger: Logger;
}

type Route = (request: IncomingMessage, response: ServerResponse, ids: string[], url: URL) => Promise<void>;

export function startRegistryServer(store: RegistryStore, options: RegistryServerOptions): Promise<RunningServer> {
  const body = async (request: IncomingMessage): Promise<unknown> => {
    const type = request.headers['content-type'];
    const raw = await readBody(request, options.maxBodyBytes, () => registryError(413, `the body exceeds ${options.maxBodyBytes} bytes`));
    if (raw.byteLength > 0 && type !== undefined && !/^application\/json\b/i.test(type)) {
      throw registryError(400, `the content type must be application/json, not ${type}`);
    }
    return parseJsonBody(raw, malformed);
  };
  const ifMatch = (request: IncomingMessage) => request.headers['if-match'];
  const created = (response: ServerResponse, location: string, result: { id: string; version: string }) =>
    sendJson(response, 201, { id: result.id }, { location, etag: result.version });

  const routes: Record<string, Partial<Record<string, Route>>> = {
    tenants: {
      POST: async (request, response) => {
        const result = await store.createTenant(undefined, await body(request));
        created(response, `/v1/tenants/${encodeURIComponent(result.id)}`, result);
      },
      GET: async (_request, response, _ids, url) => sendJson(response, 200, store.searchTenants(parseSearch(url.searchParams))),
    },
    'tenants/:tenant': {
      POST: async (request, response, [tenant]) =>
        created(response, `/v1/tenants/${encodeURIComponent(tenant!)}`, await store.createTenant(tenant, await body(request))),
      GET: async (_request, response, [tenant]) => {
        const { value, version } = store.getTenant(tenant!);
        sendJson(response, 200, value, { etag: version });
      },
      PUT: async (request, response, [tenant]) => {
        const version = await store.updateTenant(tenant!, await body(request), ifMatch(request));
        sendEmpty(response, 204, { etag: version });
      },
      DELETE: async (request, response, [tenant]) => {
        await store.deleteTenant(tenant!, ifMatch(request));
        sendEmpty(response, 204);
      },
    },
    'devices/:tenant': {
      POST: async (request, response, [tenant]) => {
        const result = await store.createDevice(tenant!, undefined, await body(request));
        created(response, `/v1/devices/${encodeURIComponent(tenant!)}/${encodeURIComponent(result.id)}`, result);
      },
      GET: async (_request, response, [tenant], url) => {
        const gateway = url.searchParams.get('isGateway');
        if (gateway !== null && gateway !== 'true' && gateway !== 'false') throw malformed('isGateway must be true or false');
        sendJson(
          response,
          200,
          store.searchDevices(tenant!, parseSearch(url.searchParams), gateway === null ? undefined : gateway === 'true'),
        );
      },
      DELETE: async (_request, response, [tenant]) => {
        await store.deleteDevicesOf(tenant!);
        sendEmpty(response, 204);
      },
    },
    'devices/:tenant/:device': {
      POST: async (request, response, [tenant, device]) =>
        created(
          response,
          `/v1/devices/${encodeURIComponent(tenant!)}/${encodeURIComponent(device!)}`,
          await store.createDevice(tenant!, device, await body(request)),
        ),
      GET: async (_request, response, [tenant, device]) => {
        const found = store.getDevice(tenant!, device!);
        sendJson(response, 200, found.device, { etag: found.version });
      },
      PUT: async (request, response, [tenant, device]) =>
        sendEmpty(response, 204, { etag: await store.updateDevice(tenant!, device!, await body(request), ifMatch(request)) }),
      DELETE: async (request, response, [tenant, device]) => {
        await store.deleteDevice(tenant!, device!, ifMatch(request));
        sendEmpty(response, 204);
      },
    },
    'credentials/:tenant/:device': {
      GET: async (_request, response, [tenant, device]) => {
        const found = store.getCredentials(tenant!, device!);
        sendJson(response, 200, found.credentials, { etag: found.version });
      },
      PUT: async (request, response, [tenant, device]) =>
        sendEmpty(response, 204, { etag: await store.setCredentials(tenant!, device!, await body(request), ifMatch(request)) }),
    },
  };

  return startHttpServer(
    'device registry',
    async (request, response) => {
      const url = new URL(request.url ?? '/', 'http://registry');
      const segments = pathSegments(url.pathname, malformed);
      if (segments[0] !== 'v1' || segments.length < 2) throw registryError(404, `no resource at ${url.pathname}`);
      const [resource, ...ids] = segments.slice(1);
      if (ids.length > 2) throw registryError(404, `no resource at ${url.pathname}`);
      const pattern = [resource, ...ids.map((_, index) => (index === 0 ? ':tenant' : ':device'))].join('/');
      const route = routes[pattern];
      if (route === undefined) throw registryError(404, `no resource at ${url.pathname}`);
      const handler = route[request.method ?? ''];
      if (handler === undefined) {
        throw registryError(405, `${request.method} is not allowed on ${url.pathname}`);
      }
      if (ids[0] !== undefined) checkId('tenant', ids[0]);
      if (ids[1] !== undefined) checkId('device', ids[1]);
      if (resource === 'tenants' && ids.length > 1) throw registryError(404, `no resource at ${url.pathname}`);
      await handler(request, response, ids, url);
    },
    { ...options, internalError: (message) => ({ error: message }) },
  );
}
