import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { NotFoundError, PreconditionFailedError, ValidationError } from '../../src/core/index.js';
import type { Policy } from '../../src/ditto/index.js';
import { errorBody, fixture, makeClient, route, watchUnmatched } from '../fixtures/ditto/kit.js';

const POLICY = 'org.acme:lamp-1';
const POLICY_PATH = '/api/2/policies/org.acme%3Alamp-1';
const policy = fixture<Policy>('policy.json');
const { policyId: _omit, ...newPolicy } = policy;

function isValidation(field: string) {
  return (error: unknown) => error instanceof ValidationError && error.field === field;
}

describe('PoliciesApi', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('gets a policy with fields and its ETag', async () => {
    const { seen } = route('GET', POLICY_PATH, { status: 200, body: policy, headers: { etag: '"rev:2"' } }, { status: 200, body: policy });
    const policies = makeClient().policies;
    assert.deepEqual(await policies.getVersioned(POLICY, { fields: ['policyId', 'entries'] }), { value: policy, etag: '"rev:2"' });
    assert.deepEqual(seen[0]?.query, { fields: 'policyId,entries' });
    assert.deepEqual(await policies.get(POLICY), policy);
  });

  it('puts a policy: 201 created with body, 204 replaced', async () => {
    const { seen } = route(
      'PUT',
      POLICY_PATH,
      { status: 201, body: policy, headers: { etag: '"rev:1"' } },
      { status: 204, headers: { etag: '"rev:2"' } },
    );
    const policies = makeClient().policies;
    const created = await policies.put(POLICY, newPolicy, { allowPolicyLockout: true, ifNoneMatch: '*' });
    assert.deepEqual(created, { status: 201, created: true, etag: '"rev:1"', policy });
    const replaced = await policies.put(POLICY, policy, { ifMatch: 1 });
    assert.deepEqual(replaced, { status: 204, created: false, etag: '"rev:2"', policy: undefined });
    assert.deepEqual(seen[0]?.body, newPolicy);
    assert.deepEqual(seen[0]?.query, { 'allow-policy-lockout': 'true' });
    assert.equal(seen[0]?.headers['if-none-match'], '*');
    assert.deepEqual(seen[1]?.query, {});
    assert.equal(seen[1]?.headers['if-match'], '"rev:1"');
  });

  it('deletes a policy and explains a 412', async () => {
    route('DELETE', POLICY_PATH, { status: 204 }, { status: 412, body: { ...errorBody(412), error: 'policies:precondition.failed' } });
    const policies = makeClient().policies;
    assert.equal((await policies.delete(POLICY)).status, 204);
    await assert.rejects(policies.delete(POLICY, { ifMatch: 3 }), (error: unknown) => {
      assert.ok(error instanceof PreconditionFailedError);
      assert.equal(error.upstreamCode, 'policies:precondition.failed');
      assert.match(error.hint ?? '', /If-Match "rev:3"/);
      return true;
    });
  });

  it('rejects invalid policies before sending', async () => {
    const unmatched = watchUnmatched();
    const policies = makeClient().policies;
    await assert.rejects(policies.put('bad id', newPolicy), isValidation('policyId'));
    await assert.rejects(policies.put(POLICY, { ...newPolicy, policyId: 'org.acme:other' }), isValidation('policy.policyId'));
    await assert.rejects(policies.put(POLICY, {} as never), isValidation('policy.entries'));
    await assert.rejects(
      policies.put(POLICY, { entries: { 'A/B': { subjects: {}, resources: {} } } }),
      (error: unknown) => error instanceof ValidationError && /contains "\/"/.test(error.message),
    );
    await assert.rejects(
      policies.put(POLICY, { entries: { A: { subjects: {}, resources: { 'thing:/': { grant: ['EXECUTE' as 'READ'] } } } } }),
      isValidation('policy.entries.A.resources["thing:/"].grant'),
    );
    await assert.rejects(
      policies.put(POLICY, { entries: { A: { subjects: {}, resources: { things: { grant: ['READ'] } } } } }),
      isValidation('policy.entries.A.resources["things"]'),
    );
    await assert.rejects(
      policies.put(POLICY, { entries: { A: { subjects: { 'nginx:ditto': {} as never }, resources: {} } } }),
      isValidation('policy.entries.A.subjects["nginx:ditto"].type'),
    );
    await assert.rejects(policies.put(POLICY, { ...newPolicy, imports: { bad: {} } }), isValidation('policy.imports key'));
    unmatched.stop();
    assert.equal(unmatched.count(), 0);
  });

  describe('entries', () => {
    const ENTRIES = `${POLICY_PATH}/entries`;

    it('gets all entries or one by label', async () => {
      route('GET', ENTRIES, { status: 200, body: policy.entries });
      route('GET', `${ENTRIES}/HONO`, { status: 200, body: policy.entries.HONO, headers: { etag: '"hash:h"' } });
      const entries = makeClient().policies.entries(POLICY);
      assert.deepEqual(await entries.get(), policy.entries);
      assert.deepEqual(await entries.getVersioned('HONO'), { value: policy.entries.HONO, etag: '"hash:h"' });
    });

    it('puts one entry (201 with body), all entries, and deletes one', async () => {
      const putOne = route('PUT', `${ENTRIES}/HONO`, { status: 201, body: policy.entries.HONO });
      const putAll = route('PUT', ENTRIES, { status: 204 });
      const del = route('DELETE', `${ENTRIES}/OLD%20ENTRY`, { status: 204 });
      const entries = makeClient().policies.entries(POLICY);
      const created = await entries.put('HONO', policy.entries.HONO!);
      assert.equal(created.created, true);
      assert.deepEqual(created.value, policy.entries.HONO);
      await entries.putAll(policy.entries);
      await entries.delete('OLD ENTRY');
      assert.deepEqual(putOne.seen[0]?.body, policy.entries.HONO);
      assert.deepEqual(putAll.seen[0]?.body, policy.entries);
      assert.equal(del.seen.length, 1);
    });

    it('manages the subjects of an entry', async () => {
      const subjects = policy.entries.HONO!.subjects;
      const SUBJECTS = `${ENTRIES}/HONO/subjects`;
      const SUBJECT = `${SUBJECTS}/pre-authenticated%3Ahono-connection-org.acme`;
      route('GET', SUBJECTS, { status: 200, body: subjects });
      route('GET', SUBJECT, { status: 200, body: { type: 'Connection to Eclipse Hono' } });
      const put = route('PUT', SUBJECT, { status: 204 });
      const putAll = route('PUT', SUBJECTS, { status: 204 });
      const del = route('DELETE', SUBJECT, { status: 204 });
      const handle = makeClient().policies.entries(POLICY).subjects('HONO');
      assert.deepEqual(await handle.get(), subjects);
      assert.deepEqual(await handle.get('pre-authenticated:hono-connection-org.acme'), { type: 'Connection to Eclipse Hono' });
      await handle.put('pre-authenticated:hono-connection-org.acme', { type: 'Hono', expiry: '2030-01-01T00:00:00Z' });
      await handle.putAll(subjects);
      await handle.delete('pre-authenticated:hono-connection-org.acme');
      assert.deepEqual(put.seen[0]?.body, { type: 'Hono', expiry: '2030-01-01T00:00:00Z' });
      assert.deepEqual(putAll.seen[0]?.body, subjects);
      assert.equal(del.seen.length, 1);
      await assert.rejects(handle.put('', { type: 'x' }), isValidation('subjectId'));
      await assert.rejects(handle.put('nginx:x', {} as never), isValidation('subject.type'));
    });

    it('manages the resources of an entry, keeping resource paths as paths', async () => {
      const RESOURCES = `${ENTRIES}/DEFAULT/resources`;
      route('GET', RESOURCES, { status: 200, body: policy.entries.DEFAULT!.resources });
      const root = route('PUT', `${RESOURCES}/thing%3A/`, { status: 204 });
      const nested = route('PUT', `${RESOURCES}/thing%3A/features/lamp%201`, { status: 201, body: { grant: ['READ'], revoke: [] } });
      const putAll = route('PUT', RESOURCES, { status: 204 });
      const del = route('DELETE', `${RESOURCES}/message%3A/inbox/messages/switch`, { status: 204 });
      const get = route('GET', `${RESOURCES}/policy%3A/`, { status: 200, body: { grant: ['READ', 'WRITE'], revoke: [] } });
      const handle = makeClient().policies.entries(POLICY).resources('DEFAULT');
      assert.deepEqual(await handle.get(), policy.entries.DEFAULT!.resources);
      await handle.put('thing:/', { grant: ['READ', 'WRITE'], revoke: [] });
      const created = await handle.put('thing:/features/lamp 1', { grant: ['READ'], revoke: [] });
      await handle.putAll({ 'thing:/': { grant: ['READ'] } });
      await handle.delete('message:/inbox/messages/switch');
      assert.deepEqual(await handle.get('policy:/'), { grant: ['READ', 'WRITE'], revoke: [] });
      assert.equal(root.seen.length + nested.seen.length + putAll.seen.length + del.seen.length + get.seen.length, 5);
      assert.equal(created.created, true);
      assert.deepEqual(root.seen[0]?.body, { grant: ['READ', 'WRITE'], revoke: [] });
      await assert.rejects(handle.put('thing', { grant: ['READ'] }), isValidation('resourceKey'));
      await assert.rejects(handle.put('thing://x', { grant: ['READ'] }), isValidation('resourceKey'));
    });

    it('rejects bad labels before sending', async () => {
      const entries = makeClient().policies.entries(POLICY);
      await assert.rejects(entries.get(''), isValidation('label'));
      await assert.rejects(entries.put('a/b', policy.entries.HONO!), isValidation('label'));
      await assert.rejects(entries.subjects('a/b').get(), isValidation('label'));
      await assert.rejects(
        entries.put('X', { subjects: {}, resources: {}, importable: 'sometimes' as never }),
        isValidation('entry.importable'),
      );
    });

    it('maps a missing entry to NotFoundError', async () => {
      route('GET', `${ENTRIES}/NOPE`, {
        status: 404,
        body: { status: 404, error: 'policies:entry.notfound', message: 'The PolicyEntry with Label NOPE could not be found.' },
      });
      await assert.rejects(makeClient().policies.entries(POLICY).get('NOPE'), (error: unknown) => {
        assert.ok(error instanceof NotFoundError);
        assert.equal(error.upstreamCode, 'policies:entry.notfound');
        return true;
      });
    });
  });

  describe('imports', () => {
    const IMPORTS = `${POLICY_PATH}/imports`;

    it('gets, puts and deletes imports keyed by policy ID', async () => {
      route('GET', IMPORTS, { status: 200, body: { 'org.acme:base': { entries: ['DEFAULT'] } } });
      const put = route('PUT', `${IMPORTS}/org.acme%3Abase`, { status: 201, body: { entries: ['DEFAULT'] } });
      const putAll = route('PUT', IMPORTS, { status: 204 });
      const del = route('DELETE', `${IMPORTS}/org.acme%3Abase`, { status: 204 });
      const imports = makeClient().policies.imports(POLICY);
      assert.deepEqual(await imports.get(), { 'org.acme:base': { entries: ['DEFAULT'] } });
      assert.equal((await imports.put('org.acme:base', { entries: ['DEFAULT'] })).created, true);
      await imports.putAll({ 'org.acme:base': {} });
      await imports.delete('org.acme:base');
      assert.deepEqual(put.seen[0]?.body, { entries: ['DEFAULT'] });
      assert.deepEqual(putAll.seen[0]?.body, { 'org.acme:base': {} });
      assert.equal(del.seen.length, 1);
      await assert.rejects(imports.put('no-colon', {}), isValidation('importedPolicyId'));
      await assert.rejects(imports.put('org.acme:base', { entries: [1] as never }), isValidation('import.entries'));
    });
  });
});
