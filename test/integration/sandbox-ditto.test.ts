// The sandbox's Ditto (things, their parts, policies, whoami): the SDK's DittoClient through
// Cloud2Edge.fromEnv(sandbox.env()) runs its real call paths against it, every exchange validated against the official
// Ditto 3.5.12 spec; revisions and conditional requests; policy enforcement for another subject; restart with a dataDir.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cloud2Edge } from '../../src/c2e/index.js';
import { ForbiddenError, NotFoundError, PreconditionFailedError } from '../../src/core/index.js';
import { DittoClient, rql } from '../../src/ditto/index.js';
import { Sandbox } from '../../src/sandbox/index.js';
import { type Contract, dittoContract, skipReason } from '../support/openapi.js';
import type { RecordingProxy } from '../support/recording-proxy.js';
import { type ProxiedSandbox, proxiedSandbox, rejectsWith } from '../support/sandbox.js';

const LAMP = 'org.acme:lamp-1';
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('sandbox: Ditto things and policies', { skip: skipReason() }, () => {
  let sandbox: Sandbox;
  let proxy: RecordingProxy;
  let contract: Contract;
  let c2e: Cloud2Edge;
  let running: ProxiedSandbox | undefined;

  before(async () => {
    contract = await dittoContract();
    running = await proxiedSandbox('DITTO_API_BASE_URL');
    ({ sandbox, proxy, c2e } = running);
  });

  after(async () => {
    await running?.close();
  });

  it('serves the SDK client: things and their parts with revisions, merge patches, conditions; every exchange as the spec says', async () => {
    const { things } = c2e.ditto;
    // (The spec's NewThing requires policyId; Ditto itself, and the sandbox, also create a default policy without one.)
    const created = await things.put(LAMP, {
      policyId: LAMP,
      attributes: { room: 'hall', location: { lat: 1 } },
      features: { lamp: { properties: { on: false } } },
    });
    assert.equal(created.created, true);
    assert.equal(created.etag, '"rev:1"');
    assert.equal(created.thing?.thingId, LAMP);
    assert.equal(created.thing?.policyId, LAMP, 'a policy that does not exist yet is created as the default policy');
    const policy = await c2e.ditto.policies.get(LAMP);
    assert.deepEqual(Object.keys(policy.entries ?? {}), ['DEFAULT']);

    const attributes = things.attributes(LAMP);
    assert.equal(await attributes.get('room'), 'hall');
    assert.equal((await attributes.put('room', 'kitchen')).created, false);
    assert.equal((await attributes.put('floor', 2)).created, true);
    await attributes.merge(undefined, { location: { lat: 2, lon: 3 }, floor: null });
    assert.deepEqual(await attributes.get(), { room: 'kitchen', location: { lat: 2, lon: 3 } });
    const lamp = things.feature(LAMP, 'lamp');
    await lamp.properties.put('on', true);
    await lamp.desiredProperties.put('on', false);
    assert.deepEqual(await lamp.get(), { properties: { on: true }, desiredProperties: { on: false } });
    await lamp.desiredProperties.delete();
    await rejectsWith(lamp.desiredProperties.get(), NotFoundError);

    const versioned = await things.getVersioned(LAMP, { fields: ['thingId', '_revision', 'attributes/room'] });
    assert.deepEqual(versioned.value, { thingId: LAMP, _revision: 7, attributes: { room: 'kitchen' } });
    assert.equal(versioned.etag, '"rev:7"');
    await rejectsWith(things.merge(LAMP, { attributes: { room: 'attic' } }, { ifMatch: '"rev:3"' }), PreconditionFailedError);
    await things.merge(LAMP, { attributes: { room: 'attic' } }, { ifMatch: '"rev:7"' });
    await rejectsWith(things.put(LAMP, { policyId: LAMP }, { ifNoneMatch: '*' }), PreconditionFailedError);
    // `condition`: applied only when the thing matches.
    const refused = await rejectsWith(
      attributes.put('room', 'cellar', { condition: 'eq(attributes/room,"hall")' }),
      PreconditionFailedError,
    );
    assert.equal((refused as unknown as { upstreamCode?: string }).upstreamCode, 'things:condition.failed');
    await attributes.put('note', 'ok', { condition: 'eq(attributes/room,"attic")' });
    await attributes.delete('note');
    assert.equal((await things.get(LAMP)).attributes?.room, 'attic');

    await things.delete(LAMP);
    await rejectsWith(things.get(LAMP), NotFoundError);
    await rejectsWith(things.attributes('org.acme:nothing').get('x'), NotFoundError);

    assert.ok(proxy.exchanges.length > 15, `${proxy.exchanges.length} exchanges`);
    for (const exchange of proxy.exchanges) {
      contract.assertRequest(exchange.request);
      // Two spec imprecisions for responses to `fields` selections: the spec's Thing requires policyId even when
      // `fields` leaves it out, and types `_revision` as a string while Ditto returns a number. Those responses are
      // checked by the assertions above instead.
      const selected = exchange.request.query.fields !== undefined;
      if (exchange.status !== 304 && !selected) contract.assertResponse(exchange.request, exchange.status, exchange.body ?? null);
      if ([200, 201, 204].includes(exchange.status) && exchange.request.method !== 'DELETE') {
        assert.match(exchange.headers.etag ?? '', /^"rev:\d+"$/, `${exchange.request.method} ${exchange.request.path}`);
      }
    }
  });

  it('searches with RQL: filter, namespaces, sort, size and cursor, count, fields; malformed RQL is a 400', async () => {
    const { things, search } = c2e.ditto;
    for (let n = 1; n <= 7; n += 1) {
      await things.put(`org.meters:m-${n}`, {
        policyId: `org.meters:m-${n}`,
        attributes: { type: n % 2 === 0 ? 'gas' : 'power', reading: n * 10, site: `site-${n}` },
      });
    }
    const filter = rql.and(rql.eq('attributes/type', 'power'), rql.gt('attributes/reading', 10));
    const first = await search.query({
      filter,
      namespaces: ['org.meters'],
      sort: [{ field: 'attributes/reading', direction: 'desc' }],
      size: 2,
      fields: ['thingId', 'attributes/reading'],
    });
    assert.deepEqual(first.items, [
      { thingId: 'org.meters:m-7', attributes: { reading: 70 } },
      { thingId: 'org.meters:m-5', attributes: { reading: 50 } },
    ]);
    assert.ok(first.cursor);
    const second = await search.query({
      filter,
      namespaces: ['org.meters'],
      sort: [{ field: 'attributes/reading', direction: 'desc' }],
      size: 2,
      cursor: first.cursor,
      fields: ['thingId'],
    });
    assert.deepEqual(second.items, [{ thingId: 'org.meters:m-3' }]);
    assert.equal(second.cursor, undefined);
    assert.equal(await search.count({ filter: rql.like('attributes/site', 'site-?'), namespaces: ['org.meters'] }), 7);
    assert.equal(
      await search.count({ filter: rql.or(rql.inList('attributes/reading', [10, 20]), rql.not(rql.exists('attributes/site'))) }),
      2,
    );
    const all: string[] = [];
    for await (const thing of search.all({ filter: rql.eq('attributes/type', 'gas'), size: 1 })) all.push(thing.thingId!);
    assert.deepEqual(all, ['org.meters:m-2', 'org.meters:m-4', 'org.meters:m-6']);
    const base = sandbox.env().DITTO_API_BASE_URL!;
    const bad = await fetch(`${base}/api/2/search/things?filter=${encodeURIComponent('eq(attributes/type,unquoted words)')}`, {
      headers: { authorization: `Basic ${Buffer.from('ditto:ditto').toString('base64')}` },
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: string }).error, 'rql.expression.invalid');
    for (const exchange of proxy.exchanges.filter((entry) => entry.request.path.startsWith('/api/2/search'))) {
      contract.assertRequest(exchange.request);
      // The spec's Thing requires policyId even when `fields` leaves it out (see the first test).
      if (exchange.request.query.fields === undefined) contract.assertResponse(exchange.request, exchange.status, exchange.body ?? null);
    }
  });

  it('enforces policies: another subject sees nothing without READ, cannot write without WRITE, and sees only what is granted', async () => {
    const ditto = c2e.ditto;
    await ditto.policies.put('org.acme:shared', {
      entries: {
        OWNER: {
          subjects: { 'nginx:ditto': { type: 'owner' } },
          resources: { 'thing:/': { grant: ['READ', 'WRITE'], revoke: [] }, 'policy:/': { grant: ['READ', 'WRITE'], revoke: [] } },
        },
        OPS: {
          subjects: { 'nginx:devops': { type: 'operator' } },
          resources: {
            'thing:/': { grant: ['READ'], revoke: [] },
            'thing:/attributes/secret': { grant: [], revoke: ['READ'] },
            'thing:/features/lamp/properties': { grant: ['WRITE'], revoke: [] },
          },
        },
      },
    });
    await ditto.things.put('org.acme:shared-lamp', {
      policyId: 'org.acme:shared',
      attributes: { secret: 42, room: 'hall' },
      features: { lamp: { properties: { on: false } } },
    });
    await ditto.things.put('org.acme:private', { attributes: { x: 1 } });
    const ops = new DittoClient({
      baseUrl: sandbox.env().DITTO_API_BASE_URL!,
      credentials: { type: 'basic', username: 'devops', password: sandbox.env().DITTO_DEVOPS_PWD! },
    });
    try {
      assert.equal(await ops.things.attributes('org.acme:shared-lamp').get('room'), 'hall');
      await rejectsWith(ops.things.attributes('org.acme:shared-lamp').get('secret'), NotFoundError);
      await ops.things.feature('org.acme:shared-lamp', 'lamp').properties.put('on', true);
      await rejectsWith(ops.things.attributes('org.acme:shared-lamp').put('room', 'attic'), ForbiddenError);
      await rejectsWith(ops.things.get('org.acme:private'), NotFoundError);
      await rejectsWith(ops.things.attributes('org.acme:private').put('x', 2), NotFoundError);
      await rejectsWith(ops.policies.get('org.acme:shared'), NotFoundError);
      const whoami = await ops.whoami();
      assert.deepEqual(whoami.subjects, ['nginx:devops']);
    } finally {
      await ops.close();
    }
    assert.equal(await ditto.things.feature('org.acme:shared-lamp', 'lamp').properties.get('on'), true);
  });

  it('answers bad input as Ditto does: 400 bad IDs and JSON, 401, 404, 413, 415', async () => {
    const base = sandbox.env().DITTO_API_BASE_URL!;
    const login = `Basic ${Buffer.from('ditto:ditto').toString('base64')}`;
    const call = async (
      method: string,
      path: string,
      body?: string,
      headers: Record<string, string> = { authorization: login, 'content-type': 'application/json' },
    ) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(5_000),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as { status?: number; error?: string }) };
    };
    const cases: Array<[string, string, string | undefined, number, string, Record<string, string>?]> = [
      ['PUT', '/api/2/things/no-namespace', '{}', 400, 'things:id.invalid'],
      ['PUT', '/api/2/things/org.acme:bad-json', '{"attributes": ', 400, 'json.invalid'],
      ['PUT', '/api/2/things/org.acme:other-id', '{"thingId": "org.acme:else"}', 400, 'things:id.notsettable'],
      ['PUT', '/api/2/things/org.acme:big', `{"attributes": {"x": "${'x'.repeat(110_000)}"}}`, 413, 'things:thing.toolarge'],
      ['GET', '/api/2/things/org.acme:missing', undefined, 404, 'things:thing.notfound'],
      ['GET', '/api/2/things/org.acme:missing', undefined, 401, 'gateway:authentication.failed', {}],
      ['PATCH', '/api/2/things/org.acme:missing', '{}', 415, 'mediatype.unsupported'],
    ];
    for (const [method, path, body, status, error, headers] of cases) {
      const answer = await call(method, path, body, headers);
      assert.equal(answer.status, status, `${method} ${path} → ${answer.status} ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body?.status, status);
      assert.equal(answer.body?.error, error);
    }
  });
});

describe('sandbox: Ditto across a restart with a dataDir', () => {
  it('keeps things, policies, revisions and ETags', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'twinledger-sandbox-ditto-'));
    dirs.push(dataDir);
    const first = await Sandbox.start({ dataDir });
    const c2e = Cloud2Edge.fromEnv({}, first.env());
    try {
      await c2e.ditto.things.put(LAMP, { policyId: LAMP, attributes: { kept: true } });
      await c2e.ditto.things.attributes(LAMP).put('kept', 'yes');
    } finally {
      await c2e.close();
      await first.close();
    }
    const second = await Sandbox.start({ dataDir });
    const again = Cloud2Edge.fromEnv({}, second.env());
    try {
      const thing = await again.ditto.things.getVersioned(LAMP);
      assert.equal(thing.etag, '"rev:2"');
      assert.deepEqual(thing.value.attributes, { kept: 'yes' });
      assert.equal((await again.ditto.policies.get(LAMP)).policyId, LAMP);
    } finally {
      await again.close();
      await second.close();
    }
  });
});
