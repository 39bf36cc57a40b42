import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { ForbiddenError, ValidationError } from '../../src/core/index.js';
import type { Thing } from '../../src/ditto/index.js';
import { THING, THING_SEG, errorBody, fixture, makeClient, route, watchUnmatched } from '../fixtures/ditto/kit.js';

const thing = fixture<Thing>('thing.json');
const temperature = thing.features?.temperature;
const FEATURES = `/api/2/things/${THING_SEG}/features`;
const FEATURE = `${FEATURES}/temperature`;

function isValidation(field: string) {
  return (error: unknown) => error instanceof ValidationError && error.field === field;
}

describe('FeatureHandle', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('client.feature() and things.feature() address the same feature', async () => {
    const { seen } = route('GET', FEATURE, { status: 200, body: temperature }, { status: 200, body: temperature });
    const client = makeClient();
    assert.deepEqual(await client.feature(THING, 'temperature').get(), temperature);
    assert.deepEqual(await client.things.feature(THING, 'temperature').get(), temperature);
    assert.equal(seen.length, 2);
    assert.equal(client.feature(THING, 'temperature').featureId, 'temperature');
    assert.equal(client.feature(THING, 'temperature').thingId, THING);
  });

  it('gets a feature with fields and its ETag', async () => {
    const { seen } = route('GET', FEATURE, { status: 200, body: { properties: temperature?.properties }, headers: { etag: '"hash:77"' } });
    const versioned = await makeClient().feature(THING, 'temperature').getVersioned({ fields: 'properties' });
    assert.deepEqual(versioned, { value: { properties: temperature?.properties }, etag: '"hash:77"' });
    assert.deepEqual(seen[0]?.query, { fields: 'properties' });
  });

  it('puts (201 / 204), merges and deletes a feature', async () => {
    const put = route('PUT', FEATURE, { status: 201, body: temperature, headers: { etag: '"hash:1"' } }, { status: 204 });
    const patch = route('PATCH', FEATURE, { status: 204 });
    const del = route('DELETE', FEATURE, { status: 204 });
    const feature = makeClient().feature(THING, 'temperature');
    const created = await feature.put(temperature ?? {});
    assert.deepEqual(created, { status: 201, created: true, etag: '"hash:1"', value: temperature });
    const replaced = await feature.put({ properties: { value: 1 } });
    assert.equal(replaced.created, false);
    assert.equal(replaced.value, undefined);
    await feature.merge({ properties: { value: 22, unit: null } });
    await feature.delete({ ifMatch: '*' });
    assert.deepEqual(put.seen[1]?.body, { properties: { value: 1 } });
    assert.deepEqual(patch.seen[0]?.body, { properties: { value: 22, unit: null } });
    assert.equal(patch.seen[0]?.headers['content-type'], 'application/merge-patch+json');
    assert.equal(del.seen[0]?.headers['if-match'], '*');
  });

  it('gets, puts and deletes the feature definition', async () => {
    route('GET', `${FEATURE}/definition`, { status: 200, body: ['org.acme:temperature:1.0.0'] });
    const put = route('PUT', `${FEATURE}/definition`, { status: 204 });
    const del = route('DELETE', `${FEATURE}/definition`, { status: 204 });
    const definition = makeClient().feature(THING, 'temperature').definition;
    assert.deepEqual(await definition.get(), ['org.acme:temperature:1.0.0']);
    await definition.put(['org.acme:temperature:2.0.0']);
    await definition.delete();
    assert.deepEqual(put.seen[0]?.body, ['org.acme:temperature:2.0.0']);
    assert.equal(del.seen.length, 1);
    await assert.rejects(definition.put([]), isValidation('definition'));
    await assert.rejects(definition.put('org.acme:x:1' as never), isValidation('definition'));
  });

  for (const tree of ['properties', 'desiredProperties'] as const) {
    describe(tree, () => {
      const base = `${FEATURE}/${tree}`;

      it('gets the whole tree with fields, and a value by multi-segment path', async () => {
        const all = route('GET', base, { status: 200, body: { value: 21.5 } });
        route('GET', `${base}/status/value`, { status: 200, body: 21.5 });
        const handle = makeClient().feature(THING, 'temperature')[tree];
        assert.deepEqual(await handle.get(undefined, { fields: ['value', 'unit'] }), { value: 21.5 });
        assert.deepEqual(all.seen[0]?.query, { fields: 'value,unit' });
        assert.equal(await handle.get('status/value'), 21.5);
      });

      it('puts scalars, null and arrays at a path', async () => {
        const values = [21.5, 'Celsius', false, null, [20, 21]];
        const { seen } = route('PUT', `${base}/value`, ...values.map(() => ({ status: 204 })));
        const handle = makeClient().feature(THING, 'temperature')[tree];
        for (const value of values) await handle.put('value', value, { requestedAcks: ['twin-persisted'] });
        assert.deepEqual(
          seen.map((request) => request.body),
          values,
        );
        assert.ok(seen.every((request) => request.headers['requested-acks'] === 'twin-persisted'));
      });

      it('merges at a path and at the root, deletes at a path and the root', async () => {
        const patchPath = route('PATCH', `${base}/value`, { status: 204 });
        const patchRoot = route('PATCH', base, { status: 204 });
        const delPath = route('DELETE', `${base}/value`, { status: 204 });
        const delRoot = route('DELETE', base, { status: 204 });
        const handle = makeClient().feature(THING, 'temperature')[tree];
        await handle.merge('value', 23);
        await handle.merge(undefined, { value: 23, unit: null });
        await handle.delete('value');
        await handle.delete();
        assert.equal(patchPath.seen[0]?.body, 23);
        assert.deepEqual(patchRoot.seen[0]?.body, { value: 23, unit: null });
        assert.equal(delPath.seen.length + delRoot.seen.length, 2);
      });

      it('replaces the whole tree, which must be an object', async () => {
        const { seen } = route('PUT', base, { status: 204 });
        const handle = makeClient().feature(THING, 'temperature')[tree];
        await handle.put(undefined, { value: 1 });
        assert.deepEqual(seen[0]?.body, { value: 1 });
        await assert.rejects(handle.put(undefined, 1), isValidation(tree));
      });
    });
  }

  it('maps 403 on a property write to ForbiddenError with the policy hint', async () => {
    route('PUT', `${FEATURE}/properties/value`, { status: 403, body: errorBody(403) });
    await assert.rejects(makeClient().feature(THING, 'temperature').properties.put('value', 1), (error: unknown) => {
      assert.ok(error instanceof ForbiddenError);
      assert.equal(error.upstreamCode, 'things:thing.notmodifiable');
      assert.match(error.hint ?? '', /WRITE/);
      return true;
    });
  });

  it('rejects bad feature IDs, thing IDs and paths before sending', async () => {
    const unmatched = watchUnmatched();
    const client = makeClient();
    await assert.rejects(client.feature(THING, 'a/b').get(), isValidation('featureId'));
    await assert.rejects(client.feature(THING, '').properties.get(), isValidation('featureId'));
    await assert.rejects(client.feature('nope', 'f').properties.put('a', 1), isValidation('thingId'));
    await assert.rejects(client.feature(THING, 'f').properties.put('a//b', 1), isValidation('path'));
    await assert.rejects(client.feature(THING, 'f').desiredProperties.merge('x', (() => 1) as never), isValidation('value'));
    await assert.rejects(client.feature(THING, 'f').put([] as never), isValidation('feature'));
    unmatched.stop();
    assert.equal(unmatched.count(), 0);
  });
});

describe('FeaturesHandle', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('gets, puts, merges and deletes all features', async () => {
    const get = route(
      'GET',
      FEATURES,
      { status: 200, body: thing.features, headers: { etag: '"hash:f"' } },
      { status: 200, body: thing.features },
    );
    const put = route('PUT', FEATURES, { status: 204 });
    const patch = route('PATCH', FEATURES, { status: 204 });
    const del = route('DELETE', FEATURES, { status: 204 });
    const features = makeClient().things.features(THING);
    assert.deepEqual(await features.getVersioned({ fields: 'temperature' }), { value: thing.features, etag: '"hash:f"' });
    assert.deepEqual(get.seen[0]?.query, { fields: 'temperature' });
    await features.put({ switch: { properties: { on: true } } });
    await features.merge({ switch: null, lamp: { properties: { on: false } } });
    await features.delete();
    assert.deepEqual(put.seen[0]?.body, { switch: { properties: { on: true } } });
    assert.deepEqual(patch.seen[0]?.body, { switch: null, lamp: { properties: { on: false } } });
    assert.equal(patch.seen[0]?.headers['content-type'], 'application/merge-patch+json');
    assert.equal(del.seen.length, 1);
    assert.deepEqual(await features.get(), thing.features);
  });

  it('validates feature IDs used as keys', async () => {
    const features = makeClient().things.features(THING);
    await assert.rejects(features.put({ 'a/b': {} }), isValidation('features.a/b'));
    await assert.rejects(features.merge({ 'x\u0001': null }), isValidation('patch.x\u0001'));
  });
});
