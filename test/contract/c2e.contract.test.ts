// Provisioning against the official specs and the Cloud2Edge chart's own post-install files.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import nock from 'nock';
import { Cloud2Edge, honoAmqpConnection, honoConnectionId, honoKafkaConnection } from '../../src/index.js';
import { DITTO_URL, type FakeCloud2Edge, REGISTRY_URL, startFakeCloud2Edge } from '../support/fake-c2e.js';
import { dittoContract, honoRegistryContract, skipReason, specsDir } from '../support/openapi.js';

const rendered = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(specsDir() ?? '', 'cloud2edge', 'post-install', 'rendered', file), 'utf8')) as Record<string, unknown>;

// Upstream writes the placeholder once as `{{thing:id}}`; Ditto reads both spellings the same way.
const normalise = (value: unknown) => JSON.parse(JSON.stringify(value).replace(/\{\{thing:id\}\}/g, '{{ thing:id }}')) as unknown;

describe('Cloud2Edge contract', { skip: skipReason() }, () => {
  it('builds the Kafka connection exactly as the chart post-install does', () => {
    assert.deepEqual(normalise(honoKafkaConnection('org.eclipse.packages.c2e')), normalise(rendered('hono-kafka-connection.json')));
    assert.equal(honoConnectionId('org.eclipse.packages.c2e', 'kafka'), 'hono-kafka-connection-for-org_eclipse_packages_c2e');
  });

  it('builds the AMQP connection exactly as the chart post-install does', () => {
    assert.deepEqual(honoAmqpConnection('org.eclipse.packages.c2e'), rendered('hono-amqp-connection.json'));
    assert.equal(honoConnectionId('org.eclipse.packages.c2e', 'amqp'), 'hono-amqp-connection-for-org_eclipse_packages_c2e');
  });

  it('gives the HONO policy entry the chart demo thing has', async () => {
    const demo = rendered('demo-device-thing.json') as { _policy: { entries: { HONO: unknown } } };
    const { honoPolicyEntry } = await import('../../src/c2e/provision.js');
    assert.deepEqual(honoPolicyEntry('org.eclipse.packages.c2e'), demo._policy.entries.HONO);
  });

  describe('every request of provisioning and deprovisioning', () => {
    let fake: FakeCloud2Edge;
    before(async () => {
      nock.disableNetConnect();
      fake = startFakeCloud2Edge();
      const c2e = Cloud2Edge.fromEnv({}, { REGISTRY_BASE_URL: REGISTRY_URL, DITTO_API_BASE_URL: DITTO_URL, DITTO_DEVOPS_PWD: 'x-devops' });
      await c2e.provisionDevice({ tenant: 't1', thingId: 'org.acme:lamp-1', password: 'pw-123456', thing: { attributes: { a: 1 } } });
      await c2e.provisionDevice({ tenant: 't1', thingId: 'org.acme:lamp-1', password: 'pw-123456', passwordHashing: 'sha-256' });
      fake.policies.set('org.acme:lamp-2', { entries: {} });
      await c2e.provisionDevice({ tenant: 't1', thingId: 'org.acme:lamp-2', connection: { messaging: 'amqp' } });
      await c2e.deprovisionDevice({ tenant: 't1', thingId: 'org.acme:lamp-1', deleteConnection: true, deleteTenant: true });
    });
    after(() => fake.stop());

    it('registry requests match the Hono device registry spec', async () => {
      const hono = await honoRegistryContract();
      assert.ok(fake.registryRequests.length >= 10);
      for (const request of fake.registryRequests) hono.assertRequest(request);
    });

    it('Ditto requests match the Ditto 3.5.12 spec', async () => {
      const ditto = await dittoContract();
      assert.ok(fake.dittoRequests.length >= 10);
      for (const request of fake.dittoRequests) ditto.assertRequest(request);
    });
  });
});
