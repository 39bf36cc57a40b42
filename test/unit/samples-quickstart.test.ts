// The README quickstart, run against the stand-in Cloud2Edge.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import nock from 'nock';
import { provisionAndUpdate } from '../../samples/quickstart/provision-and-update.js';
import { Cloud2Edge } from '../../src/index.js';
import { DITTO_URL, type FakeCloud2Edge, REGISTRY_URL, startFakeCloud2Edge } from '../support/fake-c2e.js';

describe('quickstart sample', () => {
  let fake: FakeCloud2Edge;
  beforeEach(() => {
    nock.disableNetConnect();
    fake = startFakeCloud2Edge();
  });
  afterEach(() => fake.stop());

  it('provisions a device and updates its twin', async () => {
    const c2e = Cloud2Edge.fromEnv({}, { REGISTRY_BASE_URL: REGISTRY_URL, DITTO_API_BASE_URL: DITTO_URL, DITTO_DEVOPS_PWD: 'x-devops' });
    const { provisioned, twin } = await provisionAndUpdate(c2e, 'org.acme', 'org.acme:lamp-1', 'pw-1234567');
    assert.equal(provisioned.username, 'lamp-1@org.acme');
    assert.deepEqual(twin.features, { temperature: { properties: { value: 21.5 } } });
    assert.equal(twin.policyId, 'org.acme:lamp-1');
  });
});
