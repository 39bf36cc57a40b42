// The sandbox's Ditto streams through the SDK's DittoClient: the change stream (with revision, time and the Ditto
// Protocol context), a thing's history from the recorded revisions, reads at a historical revision; and the
// TwinAuditor of twinledger/anchor on top of them: a device's twin updates anchored, a change made behind its back
// named by auditThing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Anchorer, TwinAuditor } from '../../src/anchor/index.js';
import { Cloud2Edge } from '../../src/c2e/index.js';
import type { ThingChange } from '../../src/ditto/index.js';
import { Sandbox } from '../../src/sandbox/index.js';

const THING = 'org.acme:meter-1';
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('sandbox: Ditto change stream and history', () => {
  let sandbox: Sandbox;
  let c2e: Cloud2Edge;

  before(async () => {
    sandbox = await Sandbox.start();
    c2e = Cloud2Edge.fromEnv({}, sandbox.env());
  });

  after(async () => {
    await c2e?.close();
    await sandbox?.close();
  });

  it('streams changes with revision and context, replays the history, and reads a thing as it was', async () => {
    const controller = new AbortController();
    const changes: ThingChange[] = [];
    const stream = (async () => {
      for await (const change of c2e.ditto.changes.subscribe({
        namespaces: ['org.acme'],
        fields: ['thingId', 'attributes', '_revision', '_context'],
        signal: controller.signal,
      })) {
        changes.push(change);
      }
    })().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await c2e.ditto.things.put(THING, { policyId: THING, attributes: { reading: 1 } });
    await c2e.ditto.things.attributes(THING).put('reading', 2);
    await c2e.ditto.things.merge(THING, { attributes: { unit: 'kWh' } });
    await c2e.ditto.things.put('other.ns:x', { policyId: 'other.ns:x' });
    for (let attempt = 0; attempt < 50 && changes.length < 3; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await stream;
    assert.deepEqual(
      changes.map((change) => [change.thingId, change.data._revision, (change.data._context as { topic: string }).topic.split('/').at(-1)]),
      [
        [THING, 1, 'created'],
        [THING, 2, 'modified'],
        [THING, 3, 'merged'],
      ],
    );
    assert.deepEqual(changes[1]?.data.attributes, { reading: 2 });

    // With an RQL filter: only changes that leave the thing matching it.
    const filtered: number[] = [];
    const stop = new AbortController();
    const filteredStream = (async () => {
      for await (const change of c2e.ditto.changes.subscribe({
        filter: 'gt(attributes/reading,5)',
        fields: ['thingId', '_revision'],
        signal: stop.signal,
      })) {
        filtered.push(change.data._revision as unknown as number);
      }
    })().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await c2e.ditto.things.attributes(THING).put('reading', 3);
    await c2e.ditto.things.attributes(THING).put('reading', 9);
    for (let attempt = 0; attempt < 50 && filtered.length < 1; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    stop.abort();
    await filteredStream;
    assert.deepEqual(filtered, [5]);
    await c2e.ditto.things.attributes(THING).put('reading', 2);

    const history = [];
    for await (const change of c2e.ditto.things.history(THING, { fromHistoricalRevision: 1, toHistoricalRevision: 3, context: true }))
      history.push(change);
    assert.deepEqual(
      history.map((change) => [change.revision, change.context?.path]),
      [
        [1, '/'],
        [2, '/attributes/reading'],
        [3, '/'],
      ],
    );
    const then = await c2e.ditto.things.get(THING, { atHistoricalRevision: 2 });
    assert.deepEqual(then.attributes, { reading: 2 });
    assert.deepEqual((await c2e.ditto.things.get(THING)).attributes, { reading: 2, unit: 'kWh' });
    assert.equal((await c2e.ditto.things.getVersioned(THING)).etag, '"rev:6"');
  });

  it('carries the TwinAuditor: changes anchored as records, a change made while it was stopped named by auditThing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'twinledger-sandbox-auditor-'));
    dirs.push(dataDir);
    const anchorer = await Anchorer.open({ dataDir: join(dataDir, 'anchor'), batch: { maxWaitMs: 20 }, durable: false });
    const checkpoint = join(dataDir, 'auditor.jsonl');
    const thing = 'org.acme:audited';
    try {
      const auditor = await TwinAuditor.start({ ditto: c2e.ditto, anchorer, tenant: 'org.acme', namespaces: ['org.acme'], checkpoint });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await c2e.ditto.things.put(thing, { policyId: thing, attributes: { level: 1 } });
      await c2e.ditto.things.attributes(thing).put('level', 2);
      for (let attempt = 0; attempt < 100; attempt += 1) {
        const report = await auditor.auditThing(thing);
        if (report.ok && report.revisionsChecked === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const clean = await auditor.auditThing(thing);
      assert.equal(clean.ok, true, JSON.stringify(clean.divergences));
      assert.equal(clean.revisionsChecked, 2);
      await auditor.stop();
      // Behind the auditor's back (it is stopped): Ditto changes, nothing is anchored.
      await c2e.ditto.things.attributes(thing).put('level', 99);
      const reader = await TwinAuditor.start({
        ditto: c2e.ditto,
        anchorer,
        tenant: 'org.acme',
        namespaces: ['org.acme'],
        checkpoint,
        follow: false,
      });
      try {
        const tampered = await reader.auditThing(thing);
        assert.equal(tampered.ok, false);
        assert.ok(
          tampered.divergences.some((divergence) => divergence.kind === 'missing-record' && divergence.revision === 3),
          JSON.stringify(tampered.divergences),
        );
      } finally {
        await reader.stop();
      }
    } finally {
      await anchorer.close();
    }
  });
});
