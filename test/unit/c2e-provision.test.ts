import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import nock from 'nock';
import { Cloud2Edge, ExponentialBackoff, ProvisioningError, ValidationError, type LogFields, type Logger } from '../../src/index.js';
import {
  C2E_DEMO_KAFKA_CONNECTION as DEMO_KAFKA,
  C2E_KAFKA_CA as KAFKA_CA,
  DITTO_URL,
  type FakeCloud2Edge,
  REGISTRY_URL,
  startFakeCloud2Edge,
} from '../support/fake-c2e.js';

const TENANT = 'org.acme.plant1';
const THING = 'org.acme:lamp-1';
const PASSWORD = 'lamp-Secret-42!';
const TENANT_KAFKA = 'hono-kafka-connection-for-org_acme_plant1';

function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, fields?: LogFields) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

function c2e(logger?: Logger, devops = true): Cloud2Edge {
  return Cloud2Edge.fromEnv(
    { retry: new ExponentialBackoff({ initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 }), logger, timeoutMs: 5000 },
    {
      REGISTRY_BASE_URL: REGISTRY_URL,
      DITTO_API_BASE_URL: DITTO_URL,
      ...(devops ? { DITTO_DEVOPS_PWD: 'devops-Pwd-9' } : {}),
    },
  );
}

const writes = (fake: FakeCloud2Edge) => fake.log.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);

describe('Cloud2Edge.provisionDevice', () => {
  let fake: FakeCloud2Edge;
  beforeEach(() => {
    nock.disableNetConnect();
    fake = startFakeCloud2Edge();
  });
  afterEach(() => fake.stop());

  it('creates tenant, device, connection, policy and thing, then sets the credentials, in that order', async () => {
    const result = await c2e().provisionDevice({
      tenant: TENANT,
      thingId: THING,
      password: PASSWORD,
      thing: { attributes: { location: 'Hall 1' }, features: { temperature: { properties: { value: null } } } },
    });
    assert.deepEqual(result, {
      tenant: TENANT,
      deviceId: THING,
      thingId: THING,
      policyId: THING,
      authId: 'lamp-1',
      username: `lamp-1@${TENANT}`,
      connectionId: 'hono-kafka-connection-for-org_acme_plant1',
      steps: { tenant: 'created', device: 'created', credentials: 'updated', connection: 'created', policy: 'created', thing: 'created' },
    });
    assert.deepEqual(writes(fake), [
      `POST /v1/tenants/${TENANT}`,
      `POST /v1/devices/${TENANT}/org.acme%3Alamp-1`,
      'PUT /api/2/connections/hono-kafka-connection-for-org_acme_plant1',
      'PUT /api/2/policies/org.acme%3Alamp-1',
      'PUT /api/2/things/org.acme%3Alamp-1',
      `PUT /v1/credentials/${TENANT}/org.acme%3Alamp-1`,
    ]);
    assert.deepEqual(fake.credentials.get(`${TENANT}/${THING}`), [
      { type: 'hashed-password', 'auth-id': 'lamp-1', secrets: [{ 'pwd-plain': PASSWORD }] },
    ]);
    const policy = fake.policies.get(THING);
    assert.deepEqual(Object.keys(policy?.entries ?? {}).sort(), ['HONO', 'OWNER']);
    assert.deepEqual(policy?.entries.HONO, {
      subjects: { [`pre-authenticated:hono-connection-${TENANT}`]: { type: 'Connection to Eclipse Hono' } },
      resources: {
        'thing:/': { grant: ['READ', 'WRITE'], revoke: [] },
        'message:/': { grant: ['READ', 'WRITE'], revoke: [] },
      },
    });
    assert.ok(JSON.stringify(policy?.entries.OWNER).includes('nginx:ditto'), 'owner subject comes from /whoami');
    assert.deepEqual(fake.things.get(THING), {
      attributes: { location: 'Hall 1' },
      features: { temperature: { properties: { value: null } } },
      policyId: THING,
    });
    const connection = fake.connections.get(TENANT_KAFKA);
    assert.equal(connection?.connectionType, 'kafka');
    assert.equal(connection?.ca, KAFKA_CA, "the CA comes from Cloud2Edge's own Kafka connection");
    const devopsAuth = fake.dittoRequests.find((r) => r.path.startsWith('/api/2/connections/'))?.headers.authorization;
    assert.equal(devopsAuth, `Basic ${Buffer.from('devops:devops-Pwd-9').toString('base64')}`);
    const thingAuth = fake.dittoRequests.find((r) => r.path.startsWith('/api/2/things/'))?.headers.authorization;
    assert.equal(thingAuth, `Basic ${Buffer.from('ditto:ditto').toString('base64')}`);
  });

  it('is idempotent: a second run creates nothing and does not fail', async () => {
    const client = c2e();
    await client.provisionDevice({ tenant: TENANT, thingId: THING, password: PASSWORD });
    const firstState = JSON.stringify([...fake.things, ...fake.policies, ...fake.connections, ...fake.devices, ...fake.tenants]);
    fake.log.length = 0;
    const again = await client.provisionDevice({ tenant: TENANT, thingId: THING, password: PASSWORD });
    assert.deepEqual(again.steps, {
      tenant: 'existing',
      device: 'existing',
      credentials: 'updated',
      connection: 'existing',
      policy: 'existing',
      thing: 'existing',
    });
    assert.deepEqual(writes(fake), [`PUT /v1/credentials/${TENANT}/org.acme%3Alamp-1`]);
    assert.equal(JSON.stringify([...fake.things, ...fake.policies, ...fake.connections, ...fake.devices, ...fake.tenants]), firstState);
    assert.deepEqual(fake.credentials.get(`${TENANT}/${THING}`), [
      { type: 'hashed-password', 'auth-id': 'lamp-1', secrets: [{ 'pwd-plain': PASSWORD }] },
    ]);
  });

  it('uses the AMQP connection when configured, and skips connections on request', async () => {
    const amqp = Cloud2Edge.fromEnv(
      { messaging: 'amqp' },
      { REGISTRY_BASE_URL: REGISTRY_URL, DITTO_API_BASE_URL: DITTO_URL, DITTO_DEVOPS_PWD: 'x-devops' },
    );
    const result = await amqp.provisionDevice({ tenant: TENANT, thingId: THING });
    assert.equal(result.connectionId, 'hono-amqp-connection-for-org_acme_plant1');
    assert.equal(fake.connections.get('hono-amqp-connection-for-org_acme_plant1')?.connectionType, 'amqp-10');
    assert.equal(result.steps.credentials, 'skipped');
    const other = await c2e(undefined, false).provisionDevice({ tenant: TENANT, thingId: 'org.acme:lamp-2', connection: false });
    assert.equal(other.steps.connection, 'skipped');
    assert.equal(other.connectionId, undefined);
  });

  it('adds the HONO entry to an existing policy that lacks it', async () => {
    fake.policies.set(THING, { entries: { ADMIN: { subjects: { 'nginx:admin': { type: 'x' } }, resources: {} } } });
    const result = await c2e().provisionDevice({ tenant: TENANT, thingId: THING });
    assert.equal(result.steps.policy, 'updated');
    assert.deepEqual(Object.keys(fake.policies.get(THING)?.entries ?? {}).sort(), ['ADMIN', 'HONO']);
  });

  it('rolls back everything it created when a later step fails', async () => {
    fake.failOn = (r) =>
      r.method === 'PUT' && r.path.startsWith('/api/2/things/')
        ? { status: 403, body: { status: 403, error: 'things:thing.notmodifiable', message: 'no WRITE permission' } }
        : undefined;
    const error = await c2e()
      .provisionDevice({ tenant: TENANT, thingId: THING, password: PASSWORD })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ProvisioningError, String(error));
    assert.equal(error.step, 'thing');
    assert.deepEqual(error.created, [
      `tenant ${TENANT}`,
      `device ${TENANT}/${THING} (with its credentials)`,
      'Ditto connection hono-kafka-connection-for-org_acme_plant1',
      `policy ${THING}`,
    ]);
    assert.deepEqual(error.rolledBack, [...error.created].reverse());
    assert.deepEqual(error.leftBehind, []);
    assert.match(error.message, /removed again/);
    for (const store of [fake.tenants, fake.devices, fake.policies, fake.things]) assert.equal(store.size, 0);
    assert.ok(!fake.connections.has(TENANT_KAFKA));
  });

  it('leaves the credentials of an existing device untouched when a step fails (they are set last)', async () => {
    fake.tenants.set(TENANT, {});
    fake.devices.set(`${TENANT}/${THING}`, {});
    const before = [{ type: 'psk', 'auth-id': 'lamp-1', secrets: [{ id: 's1' }] }];
    fake.credentials.set(`${TENANT}/${THING}`, before);
    fake.failOn = (r) =>
      r.method === 'PUT' && r.path.startsWith('/api/2/policies/') ? { status: 503, body: { status: 503, error: 'gateway' } } : undefined;
    const error = await c2e()
      .provisionDevice({ tenant: TENANT, thingId: THING, password: PASSWORD })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ProvisioningError);
    assert.equal(error.step, 'policy');
    assert.deepEqual(fake.credentials.get(`${TENANT}/${THING}`), before);
    assert.ok(
      !fake.log.some((r) => r.path.startsWith('/v1/credentials/') && r.method === 'PUT'),
      'no credentials write before every other step succeeded',
    );
    assert.ok(fake.tenants.has(TENANT));
    assert.ok(fake.devices.has(`${TENANT}/${THING}`));
    assert.ok(!fake.connections.has(TENANT_KAFKA));
  });

  it("needs Kafka's CA for an ssl connection: from Cloud2Edge's demo connection, the request, or it refuses before any write", async () => {
    fake.connections.delete(DEMO_KAFKA);
    const error = await c2e()
      .provisionDevice({ tenant: TENANT, thingId: THING })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ProvisioningError, String(error));
    assert.equal(error.step, 'preparation');
    assert.ok(error.cause instanceof ValidationError && error.cause.field === 'connection.kafka.ca', String(error.cause));
    assert.match(error.message, /kafka-example-keys/);
    assert.equal(error.message.split('(hint:').length, 2, 'the hint is said once');
    assert.deepEqual(writes(fake), []);

    const ca = '-----BEGIN CERTIFICATE-----\nMIIBown\n-----END CERTIFICATE-----\n';
    await c2e().provisionDevice({ tenant: TENANT, thingId: THING, connection: { kafka: { ca } } });
    assert.equal(fake.connections.get(TENANT_KAFKA)?.ca, ca);
  });

  it('never rolls back what a concurrent caller created between its look and its create', async () => {
    const connectionId = 'hono-kafka-connection-for-org_acme_plant1';
    fake.failOn = (r) => {
      if (r.method === 'POST' && r.path === `/v1/tenants/${TENANT}`) {
        fake.tenants.set(TENANT, {}); // the other caller won the race
        return { status: 409, body: { error: 'tenant already exists' } };
      }
      if (r.method === 'GET' && r.path === `/api/2/connections/${connectionId}`) {
        fake.connections.set(connectionId, { connectionType: 'kafka' }); // created right after our look
        return { status: 404, body: { status: 404, error: 'connectivity:connection.notfound' } };
      }
      if (r.method === 'PUT' && r.path.startsWith('/api/2/things/'))
        return { status: 403, body: { status: 403, error: 'things:thing.notmodifiable' } };
      return undefined;
    };
    const error = await c2e()
      .provisionDevice({ tenant: TENANT, thingId: THING })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ProvisioningError, String(error));
    assert.deepEqual(error.created, [`device ${TENANT}/${THING} (with its credentials)`, `policy ${THING}`]);
    assert.ok(fake.tenants.has(TENANT), 'the tenant the other caller created survives the rollback');
    assert.ok(fake.connections.has(connectionId), 'so does the connection');
    assert.equal(fake.devices.size, 0);
    assert.equal(fake.policies.size, 0);
  });

  it('counts a thing created concurrently (412 on the create-only PUT) as existing', async () => {
    fake.failOn = (r) => {
      if (r.method === 'PUT' && r.path.startsWith('/api/2/things/') && !fake.things.has(THING)) {
        fake.things.set(THING, { policyId: THING });
        return { status: 412, body: { status: 412, error: 'things:precondition.failed' } };
      }
      return undefined;
    };
    const result = await c2e().provisionDevice({ tenant: TENANT, thingId: THING, password: PASSWORD });
    assert.equal(result.steps.thing, 'existing');
    assert.equal(result.steps.credentials, 'updated');
  });

  it('adds its Hono entry under HONO-<tenant> when HONO belongs to another tenant, and removes only that on rollback', async () => {
    const otherHono = {
      subjects: { 'pre-authenticated:hono-connection-other.tenant': { type: 'Connection to Eclipse Hono' } },
      resources: {},
    };
    fake.policies.set(THING, { entries: { HONO: otherHono } });
    const result = await c2e().provisionDevice({ tenant: TENANT, thingId: THING, connection: false });
    assert.equal(result.steps.policy, 'updated');
    const entries = fake.policies.get(THING)?.entries ?? {};
    assert.deepEqual(entries.HONO, otherHono, 'the other tenant keeps its entry');
    const added = entries[`HONO-${TENANT}`] as { subjects: Record<string, unknown> } | undefined;
    assert.ok(added?.subjects[`pre-authenticated:hono-connection-${TENANT}`]);

    fake.policies.set(THING, { entries: { HONO: otherHono } });
    fake.things.clear();
    fake.failOn = (r) =>
      r.method === 'PUT' && r.path.startsWith('/api/2/things/')
        ? { status: 403, body: { status: 403, error: 'things:thing.notmodifiable' } }
        : undefined;
    const error = await c2e()
      .provisionDevice({ tenant: TENANT, thingId: THING, connection: false })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ProvisioningError, String(error));
    assert.deepEqual(fake.policies.get(THING)?.entries, { HONO: otherHono });
  });

  it('reports exactly what is left when the rollback fails too', async () => {
    fake.failOn = (r) => {
      if (r.method === 'PUT' && r.path.startsWith('/api/2/things/'))
        return { status: 400, body: { status: 400, error: 'things:attributes.invalid' } };
      if (r.method === 'DELETE' && r.path.startsWith('/v1/devices/')) return { status: 500, body: { error: 'db down' } };
      return undefined;
    };
    const error = await c2e()
      .provisionDevice({ tenant: TENANT, thingId: THING })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ProvisioningError);
    assert.deepEqual(error.leftBehind, [`device ${TENANT}/${THING} (with its credentials)`]);
    assert.match(error.message, /Left behind .*device org\.acme\.plant1\/org\.acme:lamp-1/);
    assert.ok(fake.devices.has(`${TENANT}/${THING}`));
    assert.equal(fake.policies.size, 0);
  });

  it('validates everything before the first request', async () => {
    const cases: [Parameters<Cloud2Edge['provisionDevice']>[0], RegExp][] = [
      [{ tenant: 'bad tenant', thingId: THING }, /^tenant: /],
      [{ tenant: TENANT, thingId: 'no-namespace' }, /^thingId: /],
      [{ tenant: TENANT, thingId: 'org.acme:lamp 1' }, /not a valid Hono device ID/],
      [{ tenant: TENANT, thingId: THING, authId: 'lamp@1', password: 'x-1234' }, /^authId: .*"@"/],
      [{ tenant: TENANT, thingId: THING, authId: 'a:b', password: 'x-1234' }, /^authId: .*":"/],
      [{ tenant: TENANT, thingId: THING, password: '' }, /^password: /],
      [{ tenant: TENANT, thingId: THING, policyId: 'nope' }, /^policyId: /],
      [{ tenant: TENANT, thingId: THING, ownerSubject: 'ditto' }, /^ownerSubject: /],
      [
        {
          tenant: TENANT,
          thingId: THING,
          policy: {
            entries: {
              HONO: { subjects: { 'x:other': { type: 't' } }, resources: {} },
              [`HONO-${TENANT}`]: { subjects: { 'x:y': { type: 't' } }, resources: {} },
            },
          },
        },
        /^policy: .*HONO/,
      ],
    ];
    for (const [request, message] of cases) {
      await assert.rejects(c2e().provisionDevice(request), (e: unknown) => e instanceof ValidationError && message.test(e.message));
    }
    await assert.rejects(c2e(undefined, false).provisionDevice({ tenant: TENANT, thingId: THING }), /DITTO_DEVOPS_PWD/);
    assert.equal(fake.log.length, 0, 'no request was sent');
  });

  it('never shows the password in errors or logs', async () => {
    const logger = capturingLogger();
    fake.failOn = (r) =>
      r.path.startsWith('/v1/credentials/') && r.method === 'PUT' ? { status: 400, body: { error: `bad secret ${PASSWORD}` } } : undefined;
    const error = await c2e(logger)
      .provisionDevice({ tenant: TENANT, thingId: THING, password: PASSWORD })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ProvisioningError);
    const text = [error.message, JSON.stringify(error), String((error.cause as Error).message), ...logger.lines].join('\n');
    assert.ok(!text.includes(PASSWORD), text);
    assert.ok(!text.includes('devops-Pwd-9'));
  });
});

describe('Cloud2Edge.deprovisionDevice', () => {
  let fake: FakeCloud2Edge;
  beforeEach(() => {
    nock.disableNetConnect();
    fake = startFakeCloud2Edge();
  });
  afterEach(() => fake.stop());

  it('removes thing, policy and device; connection and tenant on request', async () => {
    const client = c2e();
    await client.provisionDevice({ tenant: TENANT, thingId: THING, password: PASSWORD });
    const result = await client.deprovisionDevice({ tenant: TENANT, thingId: THING });
    assert.deepEqual(result, { thing: 'deleted', policy: 'deleted', device: 'deleted', connection: 'kept', tenant: 'kept' });
    assert.equal(fake.things.size + fake.policies.size + fake.devices.size, 0);
    assert.ok(fake.tenants.has(TENANT));
    const all = await client.deprovisionDevice({ tenant: TENANT, thingId: THING, deleteConnection: true, deleteTenant: true });
    assert.deepEqual(all, { thing: 'absent', policy: 'kept', device: 'absent', connection: 'deleted', tenant: 'deleted' });
    assert.equal(fake.tenants.size, 0);
    assert.ok(!fake.connections.has(TENANT_KAFKA));
  });

  it('keeps a policy that belongs to another thing', async () => {
    fake.things.set(THING, { policyId: 'org.acme:shared' });
    fake.policies.set('org.acme:shared', { entries: {} });
    const result = await c2e().deprovisionDevice({ tenant: TENANT, thingId: THING });
    assert.equal(result.policy, 'kept');
    assert.ok(fake.policies.has('org.acme:shared'));
  });

  it('validates input before any request', async () => {
    await assert.rejects(c2e().deprovisionDevice({ tenant: TENANT, thingId: 'bad' }), ValidationError);
    await assert.rejects(
      c2e(undefined, false).deprovisionDevice({ tenant: TENANT, thingId: THING, deleteConnection: true }),
      ValidationError,
    );
    assert.equal(fake.log.length, 0);
  });
});

describe('Cloud2Edge configuration', () => {
  it('explains a missing endpoint', () => {
    const empty = Cloud2Edge.fromEnv({}, {});
    assert.throws(() => empty.registry, /REGISTRY_BASE_URL/);
    assert.throws(() => empty.ditto, /DITTO_API_BASE_URL/);
  });

  it('shares one redactor across registry and Ditto', () => {
    const client = c2e();
    assert.equal(client.registry.http.redactor, client.ditto.http.redactor);
  });
});
