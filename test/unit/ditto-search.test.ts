import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { BadRequestError, ExponentialBackoff, TwinLedgerError, ValidationError } from '../../src/core/index.js';
import { HttpClient } from '../../src/core/http.js';
import { defaultIdRules } from '../../src/core/ids.js';
import { and, eq, like, sortOption } from '../../src/ditto/rql.js';
import { SEARCH_POST_THRESHOLD, SearchApi, type ThingSearchQuery } from '../../src/ditto/search.js';
import type { Thing } from '../../src/ditto/types.js';
import { searchFixtures as fx } from '../fixtures/ditto/search.js';

const BASE = 'http://ditto.test:8080';

function searchApi(): SearchApi {
  const http = new HttpClient({
    baseUrl: BASE,
    service: 'ditto',
    credentials: { type: 'basic', username: 'ditto', password: 'ditto' },
    retry: new ExponentialBackoff({ initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 }),
  });
  return new SearchApi(http, defaultIdRules);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

before(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe('SearchApi.query', () => {
  it('sends filter, namespaces, fields and option=sort,size,cursor as query parameters', async () => {
    const filter = and(eq('attributes/site', 'plant-1'), like('attributes/location', 'Kitchen "*'));
    const scope = nock(BASE)
      .get('/api/2/search/things')
      .query({
        filter: 'and(eq(attributes/site,"plant-1"),like(attributes/location,"Kitchen \\"*"))',
        namespaces: 'org.acme,org.acme.test',
        fields: 'thingId,policyId,attributes(site,location)',
        option: 'sort(-_modified,+thingId),size(2),cursor(abc_DEF-1)',
      })
      .matchHeader('accept', 'application/json')
      .reply(200, fx.firstPage);
    const page = await searchApi().query({
      filter,
      namespaces: ['org.acme', 'org.acme.test'],
      fields: ['thingId', 'policyId', 'attributes(site,location)'],
      sort: [{ field: '_modified', direction: 'desc' }, { field: 'thingId' }],
      size: 2,
      cursor: 'abc_DEF-1',
    });
    assert.ok(scope.isDone());
    assert.deepEqual(page, { items: fx.firstPage.items, cursor: fx.firstPage.cursor });
  });

  it('sends no parameters for an empty query and returns no cursor on the last page', async () => {
    const scope = nock(BASE)
      .get('/api/2/search/things')
      .query((query) => Object.keys(query).length === 0)
      .reply(200, fx.lastPage);
    const page = await searchApi().query();
    assert.ok(scope.isDone());
    assert.deepEqual(page, { items: fx.lastPage.items });
    assert.equal('cursor' in page, false);
  });

  it('accepts a prebuilt sort option, a raw RQL string filter and a fields string', async () => {
    const scope = nock(BASE)
      .get('/api/2/search/things')
      .query({ filter: 'exists(features/power)', fields: 'thingId,attributes', option: 'sort(+attributes/site)' })
      .reply(200, fx.empty);
    const page = await searchApi().query({
      filter: 'exists(features/power)',
      fields: 'thingId,attributes',
      sort: sortOption([{ field: 'attributes/site' }]),
    });
    assert.ok(scope.isDone());
    assert.deepEqual(page.items, []);
  });

  it('sends correlation-id and Ditto timeout as headers', async () => {
    const scope = nock(BASE)
      .get('/api/2/search/things')
      .matchHeader('correlation-id', 'search-1')
      .matchHeader('timeout', '5s')
      .matchHeader('x-extra', 'yes')
      .reply(200, fx.empty);
    await searchApi().query({}, { correlationId: 'search-1', dittoTimeout: 5, headers: { 'x-extra': 'yes' } });
    assert.ok(scope.isDone());
  });

  it('switches to a form POST when the query string gets long, and on request', async () => {
    const values = Array.from({ length: 400 }, (_, i) => `org.acme:lamp-${i}`);
    const filter = and(...values.map((id) => eq('thingId', id)));
    assert.ok(filter.length > SEARCH_POST_THRESHOLD);
    let body = '';
    const scope = nock(BASE)
      .post('/api/2/search/things', (raw: string) => {
        body = raw;
        return true;
      })
      .matchHeader('content-type', 'application/x-www-form-urlencoded')
      .reply(200, fx.firstPage);
    const page = await searchApi().query({ filter, namespaces: ['org.acme'], size: 200 });
    assert.ok(scope.isDone());
    const form = new URLSearchParams(body);
    assert.equal(form.get('filter'), filter);
    assert.equal(form.get('namespaces'), 'org.acme');
    assert.equal(form.get('option'), 'size(200)');
    assert.equal(page.cursor, fx.firstPage.cursor);

    const forced = nock(BASE)
      .post('/api/2/search/things/count', 'filter=exists%28thingId%29')
      .reply(200, '4', { 'content-type': 'application/json' });
    assert.equal(await searchApi().count({ filter: 'exists(thingId)' }, { method: 'POST' }), 4);
    assert.ok(forced.isDone());
  });

  it('retries the POST form like a GET (searching changes nothing)', async () => {
    const scope = nock(BASE)
      .post('/api/2/search/things')
      .reply(503, { status: 503, error: 'thing-search:unavailable', message: 'busy' })
      .post('/api/2/search/things')
      .reply(200, fx.empty);
    await searchApi().query({}, { method: 'POST' });
    assert.ok(scope.isDone());
  });

  it('maps Ditto errors to typed errors', async () => {
    nock(BASE).get('/api/2/search/things').query(true).reply(400, fx.badFilter);
    await assert.rejects(searchApi().query({ filter: 'eq(attributes/x' }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.upstreamCode, 'rql.expression.invalid');
      return true;
    });
  });

  it('rejects a body that is not a search result', async () => {
    nock(BASE).get('/api/2/search/things').reply(200, [1, 2]);
    await assert.rejects(
      searchApi().query(),
      (error: unknown) => error instanceof TwinLedgerError && error.code === 'ditto.unexpected-response',
    );
    nock(BASE).get('/api/2/search/things').reply(200, { items: 'nope' });
    await assert.rejects(searchApi().query(), TwinLedgerError);
  });

  it('validates the query before sending anything', async () => {
    const invalid: Array<[ThingSearchQuery, string]> = [
      [{ size: 0 }, 'size'],
      [{ size: 201 }, 'size'],
      [{ size: 2.5 }, 'size'],
      [{ cursor: 'a,b' }, 'cursor'],
      [{ cursor: 'a)' }, 'cursor'],
      [{ cursor: '' }, 'cursor'],
      [{ filter: '  ' }, 'filter'],
      [{ namespaces: [] }, 'namespaces'],
      [{ namespaces: ['org.acme', '1bad'] }, 'namespaces[1]'],
      [{ namespaces: ['org:acme'] }, 'namespaces[0]'],
      [{ fields: [] }, 'fields'],
      [{ sort: [] }, 'sort'],
      [{ sort: 'thingId' as never }, 'sort'],
      [{ sort: [{ field: 'a b' }] }, 'sort[0].field'],
    ];
    for (const [query, field] of invalid) {
      await assert.rejects(searchApi().query(query), (error: unknown) => error instanceof ValidationError && error.field === field, field);
    }
    await assert.rejects(
      searchApi().query({}, { method: 'PUT' as never }),
      (error: unknown) => error instanceof ValidationError && error.field === 'method',
    );
    await assert.rejects(searchApi().query({}, { dittoTimeout: 61 }), ValidationError);
  });
});

describe('SearchApi.count', () => {
  it('GETs /api/2/search/things/count with filter and namespaces', async () => {
    const scope = nock(BASE)
      .get('/api/2/search/things/count')
      .query({ filter: 'eq(attributes/site,"plant-1")', namespaces: 'org.acme' })
      .reply(200, String(fx.count), { 'content-type': 'application/json' });
    assert.equal(await searchApi().count({ filter: eq('attributes/site', 'plant-1'), namespaces: ['org.acme'] }), 4);
    assert.ok(scope.isDone());
  });

  it('rejects a count that is not a non-negative integer', async () => {
    nock(BASE).get('/api/2/search/things/count').reply(200, { count: 3 });
    await assert.rejects(searchApi().count(), TwinLedgerError);
  });
});

describe('SearchApi.all', () => {
  it('follows cursors with the same query until a page has none', async () => {
    const filter = eq('attributes/kind', 'lamp');
    const common = { filter: 'eq(attributes/kind,"lamp")', namespaces: 'org.acme' };
    const scope = nock(BASE)
      .get('/api/2/search/things')
      .query({ ...common, option: 'sort(+thingId),size(200)' })
      .reply(200, fx.firstPage)
      .get('/api/2/search/things')
      .query({ ...common, option: `sort(+thingId),size(200),cursor(${fx.firstPage.cursor})` })
      .reply(200, fx.secondPage)
      .get('/api/2/search/things')
      .query({ ...common, option: `sort(+thingId),size(200),cursor(${fx.secondPage.cursor})` })
      .reply(200, fx.lastPage);
    const things = await collect(searchApi().all({ filter, namespaces: ['org.acme'], sort: [{ field: 'thingId' }] }));
    assert.ok(scope.isDone());
    assert.deepEqual(
      things.map((thing) => thing.thingId),
      ['org.acme:lamp-1', 'org.acme:lamp-2', 'org.acme:lamp-3', 'org.acme:lamp-4'],
    );
  });

  it('keeps a caller-chosen page size and starting cursor', async () => {
    const scope = nock(BASE).get('/api/2/search/things').query({ option: 'size(2),cursor(start)' }).reply(200, fx.lastPage);
    const things = await collect(searchApi().all({ size: 2, cursor: 'start' }));
    assert.ok(scope.isDone());
    assert.equal(things.length, 1);
  });

  it('stops cleanly between pages when the signal aborts', async () => {
    const controller = new AbortController();
    const first = nock(BASE).get('/api/2/search/things').query(true).reply(200, fx.firstPage);
    const second = nock(BASE).get('/api/2/search/things').query(true).reply(200, fx.lastPage);
    const seen: Thing[] = [];
    for await (const thing of searchApi().all({}, { signal: controller.signal })) {
      seen.push(thing);
      controller.abort();
    }
    assert.equal(seen.length, 1);
    assert.ok(first.isDone());
    assert.equal(second.isDone(), false, 'no request after the abort');
  });

  it('stops cleanly when the signal aborts during a page request', async () => {
    const controller = new AbortController();
    nock(BASE).get('/api/2/search/things').query(true).reply(200, fx.firstPage);
    nock(BASE).get('/api/2/search/things').query(true).delay(2000).reply(200, fx.lastPage);
    const seen: string[] = [];
    const started = Date.now();
    for await (const thing of searchApi().all({}, { signal: controller.signal })) {
      seen.push(thing.thingId);
      if (seen.length === 2) setTimeout(() => controller.abort(), 10);
    }
    assert.deepEqual(seen, ['org.acme:lamp-1', 'org.acme:lamp-2']);
    assert.ok(Date.now() - started < 1500, 'did not wait for the delayed page');
  });

  it('validates before iterating and guards against a repeating cursor', async () => {
    assert.throws(
      () => searchApi().all({ size: 500 }),
      (error: unknown) => error instanceof ValidationError && error.field === 'size',
    );
    nock(BASE).get('/api/2/search/things').query(true).times(2).reply(200, { items: [], cursor: 'same' });
    await assert.rejects(
      collect(searchApi().all()),
      (error: unknown) => error instanceof TwinLedgerError && error.code === 'ditto.search.cursor-loop',
    );
  });

  it('passes errors of a page through', async () => {
    nock(BASE).get('/api/2/search/things').query(true).reply(200, fx.firstPage);
    nock(BASE).get('/api/2/search/things').query(true).reply(400, fx.badOption);
    await assert.rejects(collect(searchApi().all()), BadRequestError);
  });
});
