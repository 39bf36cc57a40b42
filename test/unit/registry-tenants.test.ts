import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { NotFoundError, PreconditionFailedError } from '../../src/core/index.js';
import type { Tenant, TenantWithId } from '../../src/registry/index.js';
import { BASE, JSON_HEADERS, fixture, newRegistry } from '../fixtures/registry/support.js';

describe('registry tenants', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('create() without an ID posts {} to /tenants and returns the generated ID and ETag', async () => {
    const scope = nock(BASE, { reqheaders: { 'content-type': 'application/json' } })
      .post('/tenants', {})
      .reply(201, fixture('created-tenant'), { ...JSON_HEADERS, ETag: 'v1', Location: '/v1/tenants/a1b2c3d4-generated-tenant' });
    const created = await newRegistry().tenants.create();
    assert.deepEqual(created, { id: 'a1b2c3d4-generated-tenant', etag: 'v1' });
    scope.done();
  });

  it('create() with options.tenantId posts the body to /tenants/{id}', async () => {
    const tenant: Tenant = { enabled: true, ext: { owner: 'acme' }, adapters: [{ type: 'hono-mqtt', enabled: true }] };
    const scope = nock(BASE)
      .post('/tenants/org.acme', tenant as nock.RequestBodyMatcher)
      .reply(201, { id: 'org.acme' }, { ...JSON_HEADERS, ETag: 'v7' });
    assert.deepEqual(await newRegistry().tenants.create(tenant, { tenantId: 'org.acme' }), { id: 'org.acme', etag: 'v7' });
    scope.done();
  });

  it('create() falls back to the Location header, then to the requested ID, when the body has no id', async () => {
    nock(BASE).post('/tenants').reply(201, '', { Location: 'http://registry.test:28080/v1/tenants/gen%2D42', ETag: 'v1' });
    assert.deepEqual(await newRegistry().tenants.create({}), { id: 'gen-42', etag: 'v1' });
    nock(BASE).post('/tenants/org.acme').reply(201);
    assert.deepEqual(await newRegistry().tenants.create({}, { tenantId: 'org.acme' }), { id: 'org.acme', etag: undefined });
  });

  it('get() returns the tenant and its ETag', async () => {
    nock(BASE)
      .get('/tenants/org.acme')
      .reply(200, fixture('tenant'), { ...JSON_HEADERS, ETag: 'v3' });
    const { value, etag } = await newRegistry().tenants.get('org.acme');
    assert.equal(etag, 'v3');
    assert.deepEqual(value, fixture('tenant'));
  });

  it('update() PUTs the tenant with If-Match and returns the new ETag; the read-only id is not sent', async () => {
    const scope = nock(BASE, { reqheaders: { 'if-match': 'v3', 'x-trace': 'abc' } })
      .put('/tenants/org.acme', { enabled: false })
      .reply(204, '', { ETag: 'v4' });
    const searchResult: TenantWithId = { id: 'org.acme', enabled: false };
    const result = await newRegistry().tenants.update('org.acme', searchResult, { ifMatch: 'v3', headers: { 'x-trace': 'abc' } });
    assert.deepEqual(result, { etag: 'v4' });
    scope.done();
  });

  it('update() and delete() without ifMatch send no If-Match header', async () => {
    const scope = nock(BASE, { badheaders: ['if-match'] })
      .put('/tenants/org.acme', {})
      .reply(204, '', { ETag: 'v2' })
      .delete('/tenants/org.acme')
      .reply(204);
    const registry = newRegistry();
    await registry.tenants.update('org.acme', {});
    assert.equal(await registry.tenants.delete('org.acme'), undefined);
    scope.done();
  });

  it('delete() sends If-Match when given', async () => {
    const scope = nock(BASE, { reqheaders: { 'if-match': 'v9' } })
      .delete('/tenants/org.acme')
      .reply(204);
    await newRegistry().tenants.delete('org.acme', { ifMatch: 'v9' });
    scope.done();
  });

  it('search() encodes paging, each filter as filterJson and each sort as sortJson', async () => {
    const scope = nock(BASE)
      .get('/tenants')
      .query((q) => {
        assert.deepEqual(
          { ...q },
          {
            pageSize: '10',
            pageOffset: '2',
            filterJson: ['{"field":"/enabled","value":true}', '{"field":"/ext/site","value":"Gr*","op":"eq"}'],
            sortJson: '{"field":"/ext/site","direction":"desc"}',
          },
        );
        return true;
      })
      .reply(200, fixture('search-tenants'), JSON_HEADERS);
    const result = await newRegistry().tenants.search({
      pageSize: 10,
      pageOffset: 2,
      filter: [
        { field: '/enabled', value: true },
        { field: '/ext/site', value: 'Gr*', op: 'eq' },
      ],
      sort: [{ field: '/ext/site', direction: 'desc' }],
    });
    assert.equal(result.total, 2);
    assert.deepEqual(
      result.result.map((tenant) => tenant.id),
      ['org.acme.plant1', 'org.acme.plant2'],
    );
    scope.done();
  });

  it('search() without a query sends no query parameters', async () => {
    const scope = nock(BASE)
      .get('/tenants')
      .query((q) => Object.keys(q).length === 0)
      .reply(200, fixture('search-tenants'), JSON_HEADERS);
    await newRegistry().tenants.search();
    scope.done();
  });

  it("search() turns Hono's nothing-found 404 into an empty result, unless emptyOnNotFound is false", async () => {
    nock(BASE).get('/tenants').reply(404, fixture('error-404'), JSON_HEADERS);
    assert.deepEqual(await newRegistry().tenants.search(), { total: 0, result: [] });
    nock(BASE).get('/tenants').reply(404, fixture('error-404'), JSON_HEADERS);
    await assert.rejects(newRegistry().tenants.search(undefined, { emptyOnNotFound: false }), NotFoundError);
  });

  it('all() walks the pages (pageOffset counts pages) and stops at the total', async () => {
    const pages = [
      { total: 5, result: [{ id: 't1' }, { id: 't2' }] },
      { total: 5, result: [{ id: 't3' }, { id: 't4' }] },
      { total: 5, result: [{ id: 't5' }] },
    ];
    const seen: string[] = [];
    nock(BASE)
      .get('/tenants')
      .query(true)
      .times(3)
      .reply(function (uri) {
        const params = new URL(uri, BASE).searchParams;
        seen.push(`${params.get('pageSize')}/${params.get('pageOffset')}`);
        return [200, pages[Number(params.get('pageOffset'))], JSON_HEADERS];
      });
    const ids: string[] = [];
    for await (const tenant of newRegistry().tenants.all({ pageSize: 2 })) ids.push(tenant.id);
    assert.deepEqual(ids, ['t1', 't2', 't3', 't4', 't5']);
    assert.deepEqual(seen, ['2/0', '2/1', '2/2']);
  });

  it('all() makes no further request when a full page reaches the total, and ends on 404', async () => {
    const exact = nock(BASE)
      .get('/tenants')
      .query({ pageSize: '2', pageOffset: '0' })
      .reply(200, { total: 2, result: [{ id: 't1' }, { id: 't2' }] }, JSON_HEADERS);
    const ids: string[] = [];
    for await (const tenant of newRegistry().tenants.all({ pageSize: 2 })) ids.push(tenant.id);
    assert.deepEqual(ids, ['t1', 't2']);
    exact.done();
    nock(BASE).get('/tenants').query(true).reply(404, fixture('error-404'), JSON_HEADERS);
    const none: TenantWithId[] = [];
    for await (const tenant of newRegistry().tenants.all()) none.push(tenant);
    assert.deepEqual(none, []);
  });

  it('modify() reads, applies the change to a copy and writes with If-Match; on 412 it re-reads and retries', async () => {
    const scope = nock(BASE)
      .get('/tenants/org.acme')
      .reply(200, { enabled: true, ext: { n: 1 } }, { ...JSON_HEADERS, ETag: 'v1' })
      .put('/tenants/org.acme', { enabled: true, ext: { n: 2 } })
      .matchHeader('if-match', 'v1')
      .reply(412, fixture('error-412'), JSON_HEADERS)
      .get('/tenants/org.acme')
      .reply(200, { enabled: true, ext: { n: 5 } }, { ...JSON_HEADERS, ETag: 'v2' })
      .put('/tenants/org.acme', { enabled: true, ext: { n: 6 } })
      .matchHeader('if-match', 'v2')
      .reply(204, '', { ETag: 'v3' });
    const calls: number[] = [];
    const result = await newRegistry().tenants.modify('org.acme', (current) => {
      const n = (current.ext?.n as number) ?? 0;
      calls.push(n);
      return { ...current, ext: { n: n + 1 } };
    });
    assert.deepEqual(calls, [1, 5]);
    assert.deepEqual(result, { value: { enabled: true, ext: { n: 6 } }, etag: 'v3' });
    scope.done();
  });

  it('modify() gives up after maxAttempts with the last PreconditionFailedError', async () => {
    const scope = nock(BASE)
      .get('/tenants/org.acme')
      .times(2)
      .reply(200, { enabled: true }, { ...JSON_HEADERS, ETag: 'v1' })
      .put('/tenants/org.acme')
      .times(2)
      .reply(412, fixture('error-412'), JSON_HEADERS);
    await assert.rejects(
      newRegistry().tenants.modify('org.acme', (tenant) => tenant, { maxAttempts: 2 }),
      (error: unknown) => error instanceof PreconditionFailedError && /modify\(\)/.test(error.hint ?? ''),
    );
    scope.done();
  });

  it('modify() passes an async change function a copy, so mutating it has no effect on a retry', async () => {
    nock(BASE)
      .get('/tenants/org.acme')
      .reply(200, { enabled: true }, { ...JSON_HEADERS, ETag: 'v1' })
      .put('/tenants/org.acme', { enabled: false })
      .reply(204, '', { ETag: 'v2' });
    const result = await newRegistry().tenants.modify('org.acme', async (tenant) => {
      tenant.enabled = false;
      return tenant;
    });
    assert.deepEqual(result, { value: { enabled: false }, etag: 'v2' });
  });
});
