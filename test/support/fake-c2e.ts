/**
 * A small stateful stand-in for the parts of Hono's registry and Ditto that provisioning touches,
 * served through nock. Every request is recorded so tests can check it against the official specs.
 */
import { type Capture, type RecordedRequest, captureRequests } from './openapi.js';

export const REGISTRY_URL = 'http://registry.test:28080';
export const DITTO_URL = 'http://ditto.test:38443';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

export interface FakeCloud2Edge {
  tenants: Map<string, unknown>;
  devices: Map<string, unknown>;
  credentials: Map<string, unknown[]>;
  connections: Map<string, Record<string, unknown>>;
  policies: Map<string, { entries: Record<string, unknown> }>;
  things: Map<string, Record<string, unknown>>;
  /** Every request, registry and Ditto, in order. */
  log: RecordedRequest[];
  registryRequests: RecordedRequest[];
  dittoRequests: RecordedRequest[];
  /** Return a reply to make a request fail; undefined lets it through. */
  failOn: (request: RecordedRequest) => Reply | undefined;
  stop(): void;
}

const decode = (segment: string | undefined) => decodeURIComponent(segment ?? '');
const notFound = (what: string): Reply => ({ status: 404, body: { error: `${what} not found` } });
const dittoNotFound = (error: string): Reply => ({ status: 404, body: { status: 404, error, message: 'not found' } });

/** What Cloud2Edge's post-install leaves in Ditto: the demo tenant's Kafka connection, with the example Kafka CA. */
export const C2E_DEMO_KAFKA_CONNECTION = 'hono-kafka-connection-for-org_eclipse_packages_c2e';
export const C2E_KAFKA_CA = '-----BEGIN CERTIFICATE-----\nMIIBexampleKafkaCA\n-----END CERTIFICATE-----\n';

export function startFakeCloud2Edge(): FakeCloud2Edge {
  let etag = 0;
  const nextEtag = () => `"${++etag}"`;
  const fake: Omit<FakeCloud2Edge, 'registryRequests' | 'dittoRequests' | 'stop'> = {
    tenants: new Map(),
    devices: new Map(),
    credentials: new Map(),
    connections: new Map([
      [C2E_DEMO_KAFKA_CONNECTION, { connectionType: 'kafka', uri: 'ssl://ditto-c2e:verysecret@c2e-kafka:9092', ca: C2E_KAFKA_CA }],
    ]),
    policies: new Map(),
    things: new Map(),
    log: [],
    failOn: () => undefined,
  };

  const registry = (req: RecordedRequest): Reply => {
    const [, , kind, tenant, device] = req.path.split('/').map(decode);
    const key = `${tenant}/${device}`;
    if (kind === 'tenants' && tenant) {
      if (req.method === 'GET')
        return fake.tenants.has(tenant)
          ? { status: 200, body: fake.tenants.get(tenant), headers: { etag: nextEtag() } }
          : notFound('tenant');
      if (req.method === 'POST') {
        if (fake.tenants.has(tenant)) return { status: 409, body: { error: 'tenant exists' } };
        fake.tenants.set(tenant, req.body ?? {});
        return { status: 201, body: { id: tenant }, headers: { etag: nextEtag() } };
      }
      if (req.method === 'DELETE') return fake.tenants.delete(tenant) ? { status: 204 } : notFound('tenant');
    }
    if (kind === 'devices' && tenant && device) {
      if (!fake.tenants.has(tenant)) return notFound('tenant');
      if (req.method === 'GET')
        return fake.devices.has(key) ? { status: 200, body: fake.devices.get(key), headers: { etag: nextEtag() } } : notFound('device');
      if (req.method === 'POST') {
        if (fake.devices.has(key)) return { status: 409, body: { error: 'device exists' } };
        fake.devices.set(key, req.body ?? {});
        fake.credentials.set(key, []);
        return { status: 201, body: { id: device }, headers: { etag: nextEtag() } };
      }
      if (req.method === 'DELETE') {
        fake.credentials.delete(key);
        return fake.devices.delete(key) ? { status: 204 } : notFound('device');
      }
    }
    if (kind === 'credentials' && tenant && device) {
      if (!fake.devices.has(key)) return notFound('device');
      if (req.method === 'GET') return { status: 200, body: fake.credentials.get(key) ?? [], headers: { etag: nextEtag() } };
      if (req.method === 'PUT') {
        fake.credentials.set(key, req.body as unknown[]);
        return { status: 204, headers: { etag: nextEtag() } };
      }
    }
    return { status: 400, body: { error: `fake registry does not serve ${req.method} ${req.path}` } };
  };

  const ditto = (req: RecordedRequest): Reply => {
    const parts = req.path.split('/').map(decode);
    const [, , , kind, id, sub, label] = parts;
    if (kind === 'whoami') return { status: 200, body: { subjects: ['nginx:ditto'], defaultSubject: 'nginx:ditto' } };
    if (kind === 'connections' && id) {
      if (req.method === 'GET')
        return fake.connections.has(id)
          ? { status: 200, body: { id, ...fake.connections.get(id) } }
          : dittoNotFound('connectivity:connection.notfound');
      if (req.method === 'PUT') {
        const existed = fake.connections.has(id);
        fake.connections.set(id, req.body as Record<string, unknown>);
        return existed ? { status: 204 } : { status: 201, body: { id, ...(req.body as object) } };
      }
      if (req.method === 'DELETE') return fake.connections.delete(id) ? { status: 204 } : dittoNotFound('connectivity:connection.notfound');
    }
    if (kind === 'policies' && id) {
      const policy = fake.policies.get(id);
      if (sub === 'entries' && label) {
        if (!policy) return dittoNotFound('policies:policy.notfound');
        if (req.method === 'PUT') {
          const existed = label in policy.entries;
          policy.entries[label] = req.body;
          return existed ? { status: 204 } : { status: 201, body: req.body };
        }
        if (req.method === 'DELETE') {
          delete policy.entries[label];
          return { status: 204 };
        }
      }
      if (req.method === 'GET')
        return policy
          ? { status: 200, body: { policyId: id, ...policy }, headers: { etag: '"rev:1"' } }
          : dittoNotFound('policies:policy.notfound');
      if (req.method === 'PUT') {
        if (policy && req.headers['if-none-match'] === '*')
          return { status: 412, body: { status: 412, error: 'policies:precondition.failed' } };
        fake.policies.set(id, req.body as { entries: Record<string, unknown> });
        return policy ? { status: 204 } : { status: 201, body: { policyId: id, ...(req.body as object) }, headers: { etag: '"rev:1"' } };
      }
      if (req.method === 'DELETE') return fake.policies.delete(id) ? { status: 204 } : dittoNotFound('policies:policy.notfound');
    }
    if (kind === 'things' && id) {
      const thing = fake.things.get(id);
      if (sub === 'policyId' && req.method === 'GET')
        return thing ? { status: 200, body: thing.policyId } : dittoNotFound('things:thing.notfound');
      if (sub === 'features' && parts[7] === 'properties' && req.method === 'PUT') {
        const feature = (thing?.features as Record<string, { properties?: Record<string, unknown> }> | undefined)?.[label ?? ''];
        if (!feature) return dittoNotFound('things:feature.notfound');
        const path = parts.slice(8);
        let node = (feature.properties ??= {});
        for (const segment of path.slice(0, -1)) node = (node[segment] ??= {}) as Record<string, unknown>;
        node[path[path.length - 1] ?? ''] = req.body;
        return { status: 204 };
      }
      if (req.method === 'GET')
        return thing
          ? { status: 200, body: { thingId: id, ...thing }, headers: { etag: '"rev:1"' } }
          : dittoNotFound('things:thing.notfound');
      if (req.method === 'PUT') {
        if (thing && req.headers['if-none-match'] === '*')
          return { status: 412, body: { status: 412, error: 'things:precondition.failed' } };
        fake.things.set(id, req.body as Record<string, unknown>);
        return thing ? { status: 204 } : { status: 201, body: { thingId: id, ...(req.body as object) }, headers: { etag: '"rev:1"' } };
      }
      if (req.method === 'DELETE') return fake.things.delete(id) ? { status: 204 } : dittoNotFound('things:thing.notfound');
    }
    return { status: 400, body: { status: 400, error: 'fake:unsupported', message: `${req.method} ${req.path}` } };
  };

  const wrap = (handler: (req: RecordedRequest) => Reply) => (req: RecordedRequest) => {
    fake.log.push(req);
    return fake.failOn(req) ?? handler(req);
  };
  const registryCapture: Capture = captureRequests(REGISTRY_URL, wrap(registry));
  const dittoCapture: Capture = captureRequests(DITTO_URL, wrap(ditto));
  return Object.assign(fake, {
    registryRequests: registryCapture.requests,
    dittoRequests: dittoCapture.requests,
    stop() {
      registryCapture.stop();
      dittoCapture.stop();
    },
  });
}
