// The quickstart sample on the embedded sandbox: provisioning and a twin update through the same code that runs
// against a real Cloud2Edge.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { provisionAndUpdate } from '../../samples/quickstart/provision-and-update.js';
import { Cloud2Edge } from '../../src/index.js';
import { Sandbox } from '../../src/sandbox/index.js';

describe('quickstart sample on the sandbox', () => {
  it('provisions a device and updates its twin; a second run finds everything in place', async () => {
    const sandbox = await Sandbox.start();
    const c2e = Cloud2Edge.fromEnv({}, sandbox.env());
    try {
      const first = await provisionAndUpdate(c2e, 'org.acme', 'org.acme:lamp-1', 'pw-1234567');
      assert.equal(first.provisioned.username, 'lamp-1@org.acme');
      assert.deepEqual(first.twin.features, { temperature: { properties: { value: 21.5 } } });
      assert.equal(first.provisioned.steps.thing, 'created');
      const second = await provisionAndUpdate(c2e, 'org.acme', 'org.acme:lamp-1', 'pw-1234567');
      assert.equal(second.provisioned.steps.thing, 'existing');
      assert.equal((await sandbox.registry.authenticate('org.acme', 'lamp-1', 'pw-1234567'))?.deviceId, 'org.acme:lamp-1');
    } finally {
      await c2e.close();
      await sandbox.close();
    }
  });
});
