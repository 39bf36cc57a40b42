import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import {
  NotFoundError,
  PreconditionFailedError,
  ServiceUnavailableError,
  TooManyRequestsError,
  ValidationError,
} from '../../src/core/index.js';
import type { Thing } from '../../src/ditto/index.js';
import { BASIC, THING, THING_SEG, errorBody, fixture, makeClient, route, watchUnmatched } from '../fixtures/ditto/kit.js';

const THING_PATH = `/api/2/things/${THING_SEG}`;
const thing = fixture<Thing>('thing.json');

function isValidation(field: string) {
  return (error: unknown) => error instanceof ValidationError && error.field === field;
}

describe('ThingsApi', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  describe('create', () => {
    it('POSTs the thing with namespace and lockout options and returns the created thing', async () => {
      const created = fixture<Thing>('thing-created.json');
      const { seen } = route('POST', '/api/2/things', {
        status: 201,
        body: created,
        headers: { etag: '"rev:1"', location: '/api/2/things/x' },
      });
      const result = await makeClient().things.create(
        { attributes: { serial: 'SN-0044' } },
        { namespace: 'org.acme', allowPolicyLockout: true, requestedAcks: ['twin-persisted'] },
      );
      assert.deepEqual(result, created);
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0]?.query, { namespace: 'org.acme', 'allow-policy-lockout': 'true' });
      assert.deepEqual(seen[0]?.body, { attributes: { serial: 'SN-0044' } });
      assert.equal(seen[0]?.headers['content-type'], 'application/json');
      assert.equal(seen[0]?.headers.authorization, BASIC);
      assert.equal(seen[0]?.headers['requested-acks'], 'twin-persisted');
    });

    it('sends {} when no thing is given', async () => {
      const { seen } = route('POST', '/api/2/things', { status: 201, body: fixture('thing-created.json') });
      await makeClient().things.create();
      assert.deepEqual(seen[0]?.body, {});
      assert.deepEqual(seen[0]?.query, {});
    });

    it('is not retried on 503 (POST is not idempotent)', async () => {
      const { seen } = route('POST', '/api/2/things', { status: 503, body: errorBody(503) }, { status: 201, body: {} });
      await assert.rejects(makeClient().things.create({}), ServiceUnavailableError);
      assert.equal(seen.length, 1);
    });

    it('conditional writes (ifMatch / ifNoneMatch) are not retried on 503; unconditional ones are', async () => {
      const attribute = `${THING_PATH}/attributes/on`;
      const put = route('PUT', attribute, { status: 503, body: errorBody(503) }, { status: 412, body: errorBody(412) });
      await assert.rejects(makeClient().things.attributes(THING).put('on', true, { ifMatch: '"rev:1"' }), ServiceUnavailableError);
      assert.equal(put.seen.length, 1);
      nock.cleanAll();
      const merge = route('PATCH', attribute, { status: 503, body: errorBody(503) }, { status: 412, body: errorBody(412) });
      await assert.rejects(makeClient().things.attributes(THING).merge('on', true, { ifMatch: '"rev:1"' }), ServiceUnavailableError);
      assert.equal(merge.seen.length, 1);
      nock.cleanAll();
      const create = route('PUT', THING_PATH, { status: 503, body: errorBody(503) }, { status: 412, body: errorBody(412) });
      await assert.rejects(makeClient().things.put(THING, {}, { ifNoneMatch: '*' }), ServiceUnavailableError);
      assert.equal(create.seen.length, 1);
      nock.cleanAll();
      const plain = route('PUT', attribute, { status: 503, body: errorBody(503) }, { status: 204 });
      await makeClient().things.attributes(THING).put('on', true);
      assert.equal(plain.seen.length, 2);
    });

    it('rejects bad input before sending', async () => {
      const unmatched = watchUnmatched();
      const things = makeClient().things;
      await assert.rejects(things.create({ thingId: THING }), isValidation('thing.thingId'));
      await assert.rejects(things.create({}, { namespace: '1bad' }), isValidation('namespace'));
      await assert.rejects(things.create({}, { responseRequired: false }), isValidation('responseRequired'));
      await assert.rejects(things.create({}, { dittoTimeout: 0 }), isValidation('responseRequired'));
      await assert.rejects(things.create({ policyId: 'no-colon' }), isValidation('thing.policyId'));
      unmatched.stop();
      assert.equal(unmatched.count(), 0);
    });
  });

  describe('put', () => {
    it('reports created: true with the thing and ETag on 201', async () => {
      const { seen } = route('PUT', THING_PATH, { status: 201, body: thing, headers: { etag: '"rev:1"' } });
      const body = { policyId: THING, attributes: thing.attributes };
      const result = await makeClient().things.put(THING, body as never, { ifNoneMatch: '*' });
      assert.deepEqual(result, { status: 201, created: true, etag: '"rev:1"', thing });
      assert.deepEqual(seen[0]?.body, body);
      assert.equal(seen[0]?.headers['if-none-match'], '*');
      assert.equal(seen[0]?.headers['content-type'], 'application/json');
    });

    it('reports created: false without a body on 204', async () => {
      route('PUT', THING_PATH, { status: 204, headers: { etag: '"rev:5"' } });
      const result = await makeClient().things.put(THING, { policyId: THING }, { ifMatch: 4 });
      assert.deepEqual(result, { status: 204, created: false, etag: '"rev:5"', thing: undefined });
    });

    it('reports 202 when Ditto did not wait for the write', async () => {
      const { seen } = route('PUT', THING_PATH, { status: 202 });
      const result = await makeClient().things.put(THING, { policyId: THING }, { responseRequired: false });
      assert.equal(result.status, 202);
      assert.equal(result.created, false);
      assert.equal(seen[0]?.headers['response-required'], 'false');
    });

    it('is retried on 503 and 429 (PUT is idempotent)', async () => {
      const { seen } = route(
        'PUT',
        THING_PATH,
        { status: 503, body: errorBody(503) },
        { status: 429, body: errorBody(429), headers: { 'retry-after': '0' } },
        { status: 204 },
      );
      const result = await makeClient().things.put(THING, { policyId: THING });
      assert.equal(result.status, 204);
      assert.equal(seen.length, 3);
    });

    it('gives up after the retry policy and throws the typed error', async () => {
      const { seen } = route(
        'PUT',
        THING_PATH,
        { status: 429, body: errorBody(429) },
        { status: 429, body: errorBody(429) },
        { status: 429, body: errorBody(429) },
      );
      await assert.rejects(makeClient().things.put(THING, { policyId: THING }), (error: unknown) => {
        assert.ok(error instanceof TooManyRequestsError);
        assert.equal(error.upstreamCode, 'things:thing.toomanymodifyingrequests');
        return true;
      });
      assert.equal(seen.length, 3);
    });

    it('rejects bad thing IDs and inconsistent bodies before sending', async () => {
      const unmatched = watchUnmatched();
      const things = makeClient().things;
      for (const bad of ['no-namespace-colon', 'org.acme:a/b', '1org:x', '', 'org.acme:' + 'x'.repeat(300)]) {
        await assert.rejects(things.put(bad, {}), isValidation('thingId'), bad);
      }
      await assert.rejects(things.put(THING, { thingId: 'org.acme:other' }), isValidation('thing.thingId'));
      await assert.rejects(
        things.put(THING, { _policy: { entries: {} }, _copyPolicyFrom: 'org.acme:p' }),
        isValidation('thing._copyPolicyFrom'),
      );
      await assert.rejects(things.put(THING, { features: { 'bad/feature': {} } }), isValidation('thing.features.bad/feature'));
      await assert.rejects(things.put(THING, [] as never), isValidation('thing'));
      await assert.rejects(things.put(THING, { attributes: 'x' as never }), isValidation('thing.attributes'));
      unmatched.stop();
      assert.equal(unmatched.count(), 0);
    });

    it('accepts the thing ID in the body when it matches the path', async () => {
      const { seen } = route('PUT', THING_PATH, { status: 204 });
      await makeClient().things.put(THING, { thingId: THING, policyId: THING });
      assert.deepEqual(seen[0]?.body, { thingId: THING, policyId: THING });
    });
  });

  describe('get', () => {
    it('GETs the thing with the fields selector and returns it', async () => {
      const { seen } = route('GET', THING_PATH, { status: 200, body: thing, headers: { etag: '"rev:3"' } });
      const result = await makeClient().things.get(THING, { fields: ['thingId', 'attributes/location', '_revision'] });
      assert.deepEqual(result, thing);
      assert.deepEqual(seen[0]?.query, { fields: 'thingId,attributes/location,_revision' });
      assert.equal(seen[0]?.headers.accept, 'application/json');
      assert.equal(seen[0]?.headers.authorization, BASIC);
    });

    it('getVersioned returns the ETag for optimistic locking', async () => {
      route('GET', THING_PATH, { status: 200, body: thing, headers: { etag: '"rev:3"' } });
      const versioned = await makeClient().things.getVersioned(THING, { fields: 'thingId,policyId' });
      assert.equal(versioned.etag, '"rev:3"');
      assert.deepEqual(versioned.value, thing);
    });

    it('sends read headers (live channel, condition, timeout)', async () => {
      const { seen } = route('GET', THING_PATH, { status: 200, body: thing });
      await makeClient().things.get(THING, {
        channel: 'live',
        liveChannelTimeoutStrategy: 'use-twin',
        condition: 'exists(features/switch)',
        dittoTimeout: '3s',
      });
      assert.equal(seen[0]?.headers.channel, 'live');
      assert.equal(seen[0]?.headers['live-channel-timeout-strategy'], 'use-twin');
      assert.equal(seen[0]?.headers.condition, 'exists(features/switch)');
      assert.equal(seen[0]?.headers.timeout, '3s');
    });

    it('is retried on 503 and then succeeds', async () => {
      const { seen } = route('GET', THING_PATH, { status: 503, body: errorBody(503) }, { status: 200, body: thing });
      assert.deepEqual(await makeClient().things.get(THING), thing);
      assert.equal(seen.length, 2);
    });

    it("maps 404 to NotFoundError with Ditto's code and the policy hint", async () => {
      route('GET', THING_PATH, { status: 404, body: errorBody(404) });
      await assert.rejects(makeClient().things.get(THING), (error: unknown) => {
        assert.ok(error instanceof NotFoundError);
        assert.equal(error.status, 404);
        assert.equal(error.upstreamCode, 'things:thing.notfound');
        assert.match(error.upstreamMessage ?? '', /could not be found/);
        assert.match(error.hint ?? '', /not found or not visible to you/i);
        assert.match(error.hint ?? '', /policy/);
        return true;
      });
    });

    it('rejects an empty fields selector', async () => {
      await assert.rejects(makeClient().things.get(THING, { fields: [] }), isValidation('fields'));
      await assert.rejects(makeClient().things.get(THING, { fields: ['thingId', ' '] }), isValidation('fields'));
    });
  });

  describe('merge and delete', () => {
    it('PATCHes with application/merge-patch+json', async () => {
      const { seen } = route('PATCH', THING_PATH, { status: 204, headers: { etag: '"rev:6"' } });
      const patch = { attributes: { serial: null, floor: 3 }, features: { switch: { properties: { on: false } } } };
      const result = await makeClient().things.merge(THING, patch, { ifMatch: '"rev:5"', condition: 'eq(attributes/serial,"SN-0042")' });
      assert.deepEqual(result, { status: 204, created: false, etag: '"rev:6"' });
      assert.deepEqual(seen[0]?.body, patch);
      assert.equal(seen[0]?.headers['content-type'], 'application/merge-patch+json');
      assert.equal(seen[0]?.headers['if-match'], '"rev:5"');
      assert.equal(seen[0]?.headers.condition, 'eq(attributes/serial,"SN-0042")');
    });

    it('retries a merge on 503: a JSON merge patch gives the same result when applied twice', async () => {
      const { seen } = route('PATCH', THING_PATH, { status: 503, body: errorBody(503) }, { status: 204 });
      await makeClient().things.merge(THING, { attributes: { on: true } });
      assert.equal(seen.length, 2);
      assert.deepEqual(seen[1]?.body, { attributes: { on: true } });
    });

    it('rejects a non-object patch and a foreign thing ID', async () => {
      await assert.rejects(makeClient().things.merge(THING, 5 as never), isValidation('patch'));
      await assert.rejects(makeClient().things.merge(THING, { thingId: 'org.acme:other' }), isValidation('patch.thingId'));
    });

    it('DELETEs and maps a failed If-Match to PreconditionFailedError with a hint', async () => {
      const { seen } = route('DELETE', THING_PATH, { status: 412, body: errorBody(412), headers: { etag: '"rev:5"' } });
      await assert.rejects(makeClient().things.delete(THING, { ifMatch: 4 }), (error: unknown) => {
        assert.ok(error instanceof PreconditionFailedError);
        assert.equal(error.upstreamCode, 'things:precondition.failed');
        assert.equal(error.etag, '"rev:5"');
        assert.match(error.hint ?? '', /revision changed \(If-Match "rev:4"/i);
        return true;
      });
      assert.equal(seen.length, 1, '412 is not retried');
      assert.equal(seen[0]?.headers['if-match'], '"rev:4"');
    });

    it('DELETE answers 204', async () => {
      route('DELETE', THING_PATH, { status: 204 });
      assert.deepEqual(await makeClient().things.delete(THING), { status: 204, created: false, etag: undefined });
    });
  });

  describe('list', () => {
    it('GETs /things?ids= in the given order', async () => {
      const list = fixture<Thing[]>('things-list.json');
      const { seen } = route('GET', '/api/2/things', { status: 200, body: list });
      const result = await makeClient().things.list(['org.acme:lamp-1', 'org.acme:lamp-2'], { fields: 'thingId,attributes' });
      assert.deepEqual(result, list);
      assert.deepEqual(seen[0]?.query, { ids: 'org.acme:lamp-1,org.acme:lamp-2', fields: 'thingId,attributes' });
    });

    it('returns [] for no IDs without a request, and validates every ID', async () => {
      const unmatched = watchUnmatched();
      assert.deepEqual(await makeClient().things.list([]), []);
      await assert.rejects(makeClient().things.list([THING, 'bad']), isValidation('thingIds[1]'));
      unmatched.stop();
      assert.equal(unmatched.count(), 0);
    });

    it('splits long ID lists to stay below the URI limit', async () => {
      const ids = Array.from({ length: 120 }, (_, i) => `org.acme:${'device-with-a-long-name-'.repeat(3)}${i}`);
      const { seen } = route(
        'GET',
        '/api/2/things',
        { status: 200, body: [{ thingId: ids[0], policyId: ids[0] }] },
        { status: 200, body: [{ thingId: ids[119], policyId: ids[119] }] },
      );
      const result = await makeClient().things.list(ids);
      assert.equal(seen.length, 2);
      const sent = seen.flatMap((request) => (request.query.ids ?? '').split(','));
      assert.deepEqual(sent, ids);
      assert.ok(seen.every((request) => (request.query.ids ?? '').length < 6000));
      assert.deepEqual(
        result.map((t) => t.thingId),
        [ids[0], ids[119]],
      );
    });
  });

  describe('attributes', () => {
    const base = `${THING_PATH}/attributes`;

    it('gets the whole attributes with fields, or one attribute by path', async () => {
      const all = route('GET', base, { status: 200, body: thing.attributes });
      const one = route('GET', `${base}/location/building`, { status: 200, body: 'B1', headers: { etag: '"hash:1a2b"' } });
      const attributes = makeClient().things.attributes(THING);
      assert.deepEqual(await attributes.get(undefined, { fields: 'location' }), thing.attributes);
      assert.deepEqual(all.seen[0]?.query, { fields: 'location' });
      assert.deepEqual(await attributes.getVersioned('/location/building/'), { value: 'B1', etag: '"hash:1a2b"' });
      assert.equal(one.seen.length, 1);
    });

    it('puts any JSON value at a path, serialised exactly', async () => {
      const values = [21.5, 'on', true, null, [1, 2, 3], { nested: { a: 1 } }];
      const { seen } = route('PUT', `${base}/state`, ...values.map(() => ({ status: 204 })));
      const attributes = makeClient().things.attributes(THING);
      for (const value of values) await attributes.put('state', value);
      assert.deepEqual(
        seen.map((request) => request.body),
        values,
      );
      assert.ok(seen.every((request) => request.headers['content-type'] === 'application/json'));
    });

    it('reports created with the echoed value on 201', async () => {
      route('PUT', `${base}/serial`, { status: 201, body: 'SN-1', headers: { etag: '"hash:9f"' } });
      const result = await makeClient().things.attributes(THING).put('serial', 'SN-1');
      assert.deepEqual(result, { status: 201, created: true, etag: '"hash:9f"', value: 'SN-1' });
    });

    it('encodes each path segment', async () => {
      const { seen } = route('PUT', `${base}/a%20b/%E6%B8%A9%3F`, { status: 204 });
      await makeClient().things.attributes(THING).put('a b/温?', 1);
      assert.equal(seen[0]?.path, `${base}/a%20b/%E6%B8%A9%3F`);
      // "ü" (U+00FC) is in the range Ditto refuses in keys (U+007F–U+00FF).
      await assert.rejects(makeClient().things.attributes(THING).put('a b/ü?', 1), isValidation('path'));
    });

    it('replaces, merges and deletes the whole attributes', async () => {
      const put = route('PUT', base, { status: 204 });
      const patch = route('PATCH', base, { status: 204 });
      const del = route('DELETE', base, { status: 204 });
      const attributes = makeClient().things.attributes(THING);
      await attributes.put(undefined, { a: 1 });
      await attributes.merge(undefined, { a: null, b: 2 });
      await attributes.delete();
      assert.deepEqual(put.seen[0]?.body, { a: 1 });
      assert.deepEqual(patch.seen[0]?.body, { a: null, b: 2 });
      assert.equal(patch.seen[0]?.headers['content-type'], 'application/merge-patch+json');
      assert.equal(del.seen.length, 1);
    });

    it('merges and deletes at a path', async () => {
      const patch = route('PATCH', `${base}/location`, { status: 204 });
      const del = route('DELETE', `${base}/location/floor`, { status: 204 });
      const attributes = makeClient().things.attributes(THING);
      await attributes.merge('location', { floor: 3 });
      await attributes.delete('location/floor');
      assert.deepEqual(patch.seen[0]?.body, { floor: 3 });
      assert.equal(del.seen.length, 1);
    });

    it('rejects bad paths and values before sending', async () => {
      const unmatched = watchUnmatched();
      const attributes = makeClient().things.attributes(THING);
      await assert.rejects(attributes.put('a//b', 1), isValidation('path'));
      await assert.rejects(attributes.get('//a'), isValidation('path'));
      await assert.rejects(attributes.put('a', undefined as never), isValidation('value'));
      await assert.rejects(attributes.put('a', Number.NaN), isValidation('value'));
      await assert.rejects(attributes.put('a', { x: Infinity }), isValidation('value.x'));
      await assert.rejects(attributes.put(undefined, 5), isValidation('attributes'));
      await assert.rejects(attributes.merge('/', [1]), isValidation('attributes'));
      await assert.rejects(attributes.get('location', { fields: 'a' }), isValidation('fields'));
      await assert.rejects(makeClient().things.attributes('bad').get(), isValidation('thingId'));
      unmatched.stop();
      assert.equal(unmatched.count(), 0);
    });
  });

  describe('definition and policyId', () => {
    it('gets, puts and deletes the thing definition', async () => {
      const get = route('GET', `${THING_PATH}/definition`, { status: 200, body: 'org.acme:lamp:1.0.0' });
      const put = route('PUT', `${THING_PATH}/definition`, { status: 204 });
      const del = route('DELETE', `${THING_PATH}/definition`, { status: 204 });
      const definition = makeClient().things.definition(THING);
      assert.equal(await definition.get(), 'org.acme:lamp:1.0.0');
      await definition.put('org.acme:lamp:2.0.0');
      await definition.delete();
      assert.equal(put.seen[0]?.body, 'org.acme:lamp:2.0.0');
      assert.equal(put.seen[0]?.headers['content-length'], String('"org.acme:lamp:2.0.0"'.length), 'sent as a JSON string');
      assert.equal(get.seen.length + del.seen.length, 2);
      await assert.rejects(definition.put(''), isValidation('definition'));
    });

    it('gets and puts the policy ID', async () => {
      route('GET', `${THING_PATH}/policyId`, { status: 200, body: 'org.acme:policy-1' });
      const put = route('PUT', `${THING_PATH}/policyId`, { status: 204 });
      const policyId = makeClient().things.policyId(THING);
      assert.equal(await policyId.get(), 'org.acme:policy-1');
      await policyId.put('org.acme:policy-2', { ifMatch: '*' });
      assert.equal(put.seen[0]?.body, 'org.acme:policy-2');
      assert.equal(put.seen[0]?.headers['if-match'], '*');
      await assert.rejects(policyId.put('nope'), isValidation('policyId'));
    });
  });
});
