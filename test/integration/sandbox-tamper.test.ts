// Sandbox.tamperWithTwin: a change behind Ditto's back, for tamper-detection demos and tests — the stored value
// changes, the revision, the change stream and the history do not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cloud2Edge } from '../../src/c2e/index.js';
import { Sandbox } from '../../src/sandbox/index.js';
import { ValidationError } from '../../src/core/index.js';
import { rejectsWith } from '../support/rejects.js';

describe('sandbox: tamperWithTwin', () => {
  it('changes the stored twin without a revision, an event or a history entry; refuses unknown things and bad paths', async () => {
    const sandbox = await Sandbox.start();
    const c2e = Cloud2Edge.fromEnv({}, sandbox.env());
    try {
      await c2e.provisionDevice({
        tenant: 'org.acme',
        thingId: 'org.acme:bay-1',
        thing: { features: { occupancy: { properties: { occupied: true } } } },
      });
      const before = await c2e.ditto.things.getVersioned('org.acme:bay-1');
      await sandbox.tamperWithTwin('org.acme:bay-1', '/features/occupancy/properties/occupied', false);
      const after = await c2e.ditto.things.getVersioned('org.acme:bay-1');
      assert.deepEqual(after.value.features?.occupancy?.properties, { occupied: false });
      assert.equal(after.etag, before.etag, 'no new revision');
      const revisions: number[] = [];
      for await (const past of c2e.ditto.things.history('org.acme:bay-1', {
        fromHistoricalRevision: 1,
        toHistoricalRevision: 1,
        signal: AbortSignal.timeout(5_000),
      }))
        revisions.push(past.revision);
      assert.deepEqual(revisions, [1], 'no history entry');
      const recorded = await c2e.ditto.things.get('org.acme:bay-1', { atHistoricalRevision: 1 });
      assert.deepEqual(recorded.features?.occupancy?.properties, { occupied: true }, 'the history still tells what happened');
      assert.match(
        (await rejectsWith(sandbox.tamperWithTwin('org.acme:nothing', '/attributes/x', 1), ValidationError)).message,
        /no thing org\.acme:nothing/,
      );
      assert.match(
        (await rejectsWith(sandbox.tamperWithTwin('org.acme:bay-1', 'attributes/x', 1), ValidationError)).message,
        /JSON pointer/,
      );
    } finally {
      await c2e.close();
      await sandbox.close();
    }
  });
});
