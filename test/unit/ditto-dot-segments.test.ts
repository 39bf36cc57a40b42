// `.` and `..` as whole path segments: URL resolution (axios, WHATWG URL) removes them, even as %2E%2E,
// so without a check `feature(thing, '..').delete()` would go out as `DELETE /things/{thing}`.
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { ValidationError } from '../../src/core/index.js';
import { isDotSegmentError, recordEveryRequest } from '../support/dot-segments.js';
import { BASE, THING, THING_SEG, makeClient, route } from '../fixtures/ditto/kit.js';

const THING_PATH = `/api/2/things/${THING_SEG}`;
const POLICY = 'org.acme:policy-1';
const POLICY_PATH = `/api/2/policies/${'org.acme%3Apolicy-1'}`;

const isValidation = isDotSegmentError;
const catchAll = () =>
  recordEveryRequest(BASE, (method) =>
    method === 'GET' ? [200, '{}', { 'content-type': 'application/json' }] : [method === 'POST' ? 202 : 204],
  );

describe('Ditto paths refuse "." and ".." segments', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('feature IDs "." and ".." are refused before anything is sent (would DELETE the whole thing)', async () => {
    const { seen } = catchAll();
    const client = makeClient();
    for (const featureId of ['..', '.']) {
      await assert.rejects(client.feature(THING, featureId).delete(), isValidation('featureId'));
      await assert.rejects(client.things.feature(THING, featureId).get(), isValidation('featureId'));
      await assert.rejects(client.feature(THING, featureId).properties.delete('a'), isValidation('featureId'));
    }
    assert.deepEqual(seen, []);
  });

  it('attribute paths with a "." or ".." segment are refused (would DELETE the thing)', async () => {
    const { seen } = catchAll();
    const attributes = makeClient().things.attributes(THING);
    for (const path of ['..', '.', 'a/../..', '/a/..', 'a/./b', '../x']) {
      await assert.rejects(attributes.delete(path), isValidation('path'), path);
    }
    await assert.rejects(attributes.put('..', 1), isValidation('path'));
    await assert.rejects(attributes.get('a/..'), isValidation('path'));
    await assert.rejects(makeClient().feature(THING, 'lamp').desiredProperties.merge('on/..', { x: 1 }), isValidation('path'));
    assert.deepEqual(seen, []);
  });

  it('policy entry labels, subject IDs and resource paths refuse dot segments (would DELETE the policy)', async () => {
    const { seen } = catchAll();
    const entries = makeClient().policies.entries(POLICY);
    await assert.rejects(entries.delete('..'), isValidation('label'));
    await assert.rejects(entries.delete('.'), isValidation('label'));
    await assert.rejects(entries.subjects('..').delete('nginx:ditto'), isValidation('label'));
    await assert.rejects(entries.subjects('DEFAULT').delete('..'), isValidation('subjectId'));
    await assert.rejects(entries.resources('DEFAULT').delete('thing:/..'), isValidation('resourceKey'));
    await assert.rejects(entries.resources('DEFAULT').delete('thing:/features/./x'), isValidation('resourceKey'));
    assert.deepEqual(seen, []);
  });

  it('message subjects and connection IDs refuse dot segments', async () => {
    const { seen } = catchAll();
    const client = makeClient();
    await assert.rejects(client.messages.send({ thingId: THING, subject: '..' }), isValidation('subject'));
    await assert.rejects(client.messages.send({ thingId: THING, subject: 'a/../../..' }), isValidation('subject'));
    await assert.rejects(
      client.connections.delete('..'),
      (error: unknown) => error instanceof ValidationError && error.field === 'connectionId',
    );
    await assert.rejects(
      client.connections.delete('.'),
      (error: unknown) => error instanceof ValidationError && error.field === 'connectionId',
    );
    assert.deepEqual(seen, []);
  });

  it('dotted names that are not dot segments still work: "a.b", "...", "org.acme:lamp.1"', async () => {
    const dotted = route('DELETE', `${THING_PATH}/features/a.b`, { status: 204 });
    const triple = route('DELETE', `${THING_PATH}/attributes/.../a.b/c..d`, { status: 204 });
    const lamp = route('DELETE', '/api/2/things/org.acme%3Alamp.1/attributes/x.y', { status: 204 });
    const label = route('DELETE', `${POLICY_PATH}/entries/a.b`, { status: 204 });
    const client = makeClient();
    await client.feature(THING, 'a.b').delete();
    await client.things.attributes(THING).delete('.../a.b/c..d');
    await client.things.attributes('org.acme:lamp.1').delete('x.y');
    await client.policies.entries(POLICY).delete('a.b');
    assert.equal(dotted.seen.length, 1);
    assert.equal(triple.seen[0]?.path, `${THING_PATH}/attributes/.../a.b/c..d`);
    assert.equal(lamp.seen.length, 1);
    assert.equal(label.seen.length, 1);
  });
});
