// Every request SearchApi can produce, and every search fixture the unit tests use, against Ditto 3.5.12.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nock from 'nock';
import { HttpClient } from '../../src/core/http.js';
import { defaultIdRules } from '../../src/core/ids.js';
import { and, eq, exists, gt, inList, like, not, or } from '../../src/ditto/rql.js';
import { SEARCH_POST_THRESHOLD, SearchApi, type SearchCallOptions, type ThingSearchQuery } from '../../src/ditto/search.js';
import { type Capture, type Contract, type RecordedRequest, captureRequests, dittoContract, skipReason } from '../support/openapi.js';
import { searchFixtures as fx } from '../fixtures/ditto/search.js';

const BASE = 'http://ditto.contract:8080';

/** A form body is recorded as text; the spec describes it as an object of form fields. */
function asSpecRequest(request: RecordedRequest): RecordedRequest {
  if (typeof request.body === 'string' && request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
    return { ...request, body: Object.fromEntries(new URLSearchParams(request.body)) };
  }
  return request;
}

describe('SearchApi contract (Ditto 3.5.12)', { skip: skipReason() }, () => {
  let contract: Contract;
  let capture: Capture;
  let search: SearchApi;

  before(async () => {
    nock.disableNetConnect();
    contract = await dittoContract();
    capture = captureRequests(BASE, (request) => {
      if (request.path.endsWith('/count')) return { status: 200, body: fx.count };
      return { status: 200, body: request.query.option?.includes('cursor(') ? fx.lastPage : fx.firstPage };
    });
    search = new SearchApi(new HttpClient({ baseUrl: BASE, service: 'ditto' }), defaultIdRules);
  });

  after(() => {
    capture?.stop();
    nock.enableNetConnect();
  });

  const filter = and(
    eq('attributes/location', 'Kitchen "A" (1)'),
    or(gt('features/temperature/properties/value', 21.5), not(exists('attributes/disabled'))),
    inList('thingId', ['org.acme:lamp-1', 'org.acme:lamp-2']),
    like('attributes/name', 'lamp-*'),
  );
  const shapes: Array<[string, ThingSearchQuery, SearchCallOptions?]> = [
    ['no parameters', {}],
    ['filter', { filter }],
    ['raw filter string', { filter: 'exists(features/power)' }],
    ['sort', { sort: [{ field: '_modified', direction: 'desc' }, { field: 'thingId' }] }],
    ['size', { size: 200 }],
    ['cursor', { cursor: fx.firstPage.cursor, size: 10 }],
    ['fields (list)', { fields: ['thingId', 'policyId', 'attributes(location,site)'] }],
    ['fields (string)', { fields: 'thingId,features/power' }],
    ['namespaces', { namespaces: ['org.acme', 'org.acme.test'] }],
    [
      'everything',
      {
        filter,
        sort: [{ field: 'thingId' }],
        size: 25,
        cursor: fx.firstPage.cursor,
        fields: 'thingId,policyId,attributes',
        namespaces: ['org.acme'],
      },
      { correlationId: 'search-7', dittoTimeout: '10s' },
    ],
    [
      'POST form (forced)',
      { filter, namespaces: ['org.acme'], fields: 'thingId,policyId', sort: [{ field: 'thingId' }], size: 5 },
      { method: 'POST' },
    ],
  ];

  for (const [name, query, options] of shapes) {
    it(`query: ${name}`, async () => {
      const before = capture.requests.length;
      await search.query(query, options);
      const sent = capture.requests.slice(before);
      assert.equal(sent.length, 1);
      contract.assertRequest(asSpecRequest(sent[0] as RecordedRequest));
    });
  }

  it('query: a filter too long for a URL goes as a valid form POST', async () => {
    const long = or(...Array.from({ length: 300 }, (_, i) => eq('thingId', `org.acme:lamp-${i}`)));
    assert.ok(long.length > SEARCH_POST_THRESHOLD);
    const before = capture.requests.length;
    await search.query({ filter: long, size: 200 });
    const sent = capture.requests.slice(before);
    assert.equal(sent[0]?.method, 'POST');
    contract.assertRequest(asSpecRequest(sent[0] as RecordedRequest));
  });

  it('count: GET and POST with filter and namespaces', async () => {
    const before = capture.requests.length;
    assert.equal(await search.count({}), fx.count);
    assert.equal(await search.count({ filter, namespaces: ['org.acme'] }), fx.count);
    assert.equal(await search.count({ filter }, { method: 'POST' }), fx.count);
    const sent = capture.requests.slice(before);
    assert.deepEqual(
      sent.map((r) => r.method),
      ['GET', 'GET', 'POST'],
    );
    for (const request of sent) contract.assertRequest(asSpecRequest(request));
  });

  it('all: every page request is valid', async () => {
    const before = capture.requests.length;
    const things = [];
    for await (const thing of search.all({ filter, namespaces: ['org.acme'], sort: [{ field: 'thingId' }] })) things.push(thing);
    const sent = capture.requests.slice(before);
    assert.equal(sent.length, 2, 'first page + cursor page');
    assert.equal(things.length, fx.firstPage.items.length + fx.lastPage.items.length);
    for (const request of sent) contract.assertRequest(asSpecRequest(request));
  });

  it('the harness would catch a wrong request (sanity check)', () => {
    assert.throws(() =>
      contract.assertRequest({ method: 'GET', path: '/api/2/search/things', query: { size: '10' }, headers: {}, body: undefined }),
    );
  });

  it('the search fixtures match the response schemas', () => {
    const things = { method: 'GET', path: '/api/2/search/things' };
    const count = { method: 'GET', path: '/api/2/search/things/count' };
    for (const page of [fx.firstPage, fx.secondPage, fx.lastPage, fx.empty]) {
      contract.assertResponse(things, 200, page);
      contract.assertResponse({ method: 'POST', path: '/api/2/search/things' }, 200, page);
    }
    contract.assertResponse(count, 200, fx.count);
    contract.assertResponse({ method: 'POST', path: '/api/2/search/things/count' }, 200, fx.count);
    contract.assertResponse(things, 400, fx.badFilter);
    contract.assertResponse(things, 400, fx.badOption);
    contract.assertResponse(count, 400, fx.badFilter);
    // and would reject a malformed one
    assert.throws(() => contract.assertResponse(things, 200, { items: [{ attributes: {} }] }));
    assert.throws(() => contract.assertResponse(count, 200, { count: 4 }));
  });
});
