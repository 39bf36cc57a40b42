import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { NetworkError, NotFoundError, PreconditionFailedError } from '../../src/core/index.js';
import type { Device, DeviceWithId } from '../../src/registry/index.js';
import { BASE, JSON_HEADERS, fixture, newRegistry } from '../fixtures/registry/support.js';

const TENANT = 'org.acme';
const DEVICE = 'org.acme:lamp-1';
const DEVICE_PATH = '/devices/org.acme/org.acme%3Alamp-1';

const asBody = (value: unknown) => value as nock.RequestBodyMatcher;

describe('registry devices', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('create() without an ID posts {} to /devices/{tenant} and returns the generated ID', async () => {
    const scope = nock(BASE)
      .post('/devices/org.acme', {})
      .reply(201, fixture('created-device'), { ...JSON_HEADERS, ETag: 'd1' });
    assert.deepEqual(await newRegistry().devices.create(TENANT), { id: '4711-generated-device', etag: 'd1' });
    scope.done();
  });

  it('create() with options.deviceId posts to /devices/{tenant}/{device}, the ":" percent-encoded', async () => {
    const device: Device = { enabled: true, via: ['org.acme:gw-1'], ext: { ep: 'IMEI4711' } };
    const scope = nock(BASE)
      .post(DEVICE_PATH, asBody(device))
      .reply(201, { id: DEVICE }, { ...JSON_HEADERS, ETag: 'd1' });
    assert.deepEqual(await newRegistry().devices.create(TENANT, device, { deviceId: DEVICE }), { id: DEVICE, etag: 'd1' });
    scope.done();
  });

  it('get() returns the registration and its ETag', async () => {
    nock(BASE)
      .get(DEVICE_PATH)
      .reply(200, fixture('device'), { ...JSON_HEADERS, ETag: 'd2' });
    const { value, etag } = await newRegistry().devices.get(TENANT, DEVICE);
    assert.equal(etag, 'd2');
    assert.deepEqual(value, fixture('device'));
  });

  it('update() sends the device without the read-only status and id, with If-Match', async () => {
    const current = fixture<Device>('device');
    const { status: _status, ...expected } = current;
    const fromSearch: DeviceWithId = { ...current, id: DEVICE };
    const scope = nock(BASE, { reqheaders: { 'if-match': 'd2' } })
      .put(DEVICE_PATH, asBody(expected))
      .reply(204, '', { ETag: 'd3' });
    assert.deepEqual(await newRegistry().devices.update(TENANT, DEVICE, fromSearch, { ifMatch: 'd2' }), { etag: 'd3' });
    scope.done();
  });

  it('delete() removes one device, deleteAll() every device of the tenant', async () => {
    const scope = nock(BASE).delete(DEVICE_PATH).matchHeader('if-match', 'd3').reply(204).delete('/devices/org.acme').reply(204);
    const registry = newRegistry();
    assert.equal(await registry.devices.delete(TENANT, DEVICE, { ifMatch: 'd3' }), undefined);
    assert.equal(await registry.devices.deleteAll(TENANT), undefined);
    scope.done();
  });

  it('search() sends filters, sort and isGateway', async () => {
    const scope = nock(BASE)
      .get('/devices/org.acme')
      .query((q) => {
        assert.deepEqual(
          { ...q },
          {
            pageSize: '2',
            filterJson: '{"field":"/ext/brand","value":"eclipse*"}',
            sortJson: ['{"field":"/ext/brand"}', '{"field":"/status/created","direction":"desc"}'],
            isGateway: 'false',
          },
        );
        return true;
      })
      .reply(200, fixture('search-devices-page-0'), JSON_HEADERS);
    const page = await newRegistry().devices.search(TENANT, {
      pageSize: 2,
      filter: [{ field: '/ext/brand', value: 'eclipse*' }],
      sort: [{ field: '/ext/brand' }, { field: '/status/created', direction: 'desc' }],
      isGateway: false,
    });
    assert.equal(page.total, 5);
    assert.deepEqual(
      page.result.map((device) => device.id),
      ['org.acme:lamp-1', 'org.acme:lamp-2'],
    );
    scope.done();
  });

  it('search() answers an empty result for 404 by default and NotFoundError when asked', async () => {
    nock(BASE).get('/devices/org.acme').query(true).reply(404, fixture('error-404'), JSON_HEADERS);
    assert.deepEqual(await newRegistry().devices.search(TENANT, { isGateway: true }), { total: 0, result: [] });
    nock(BASE).get('/devices/org.acme').reply(404, fixture('error-404'), JSON_HEADERS);
    await assert.rejects(newRegistry().devices.search(TENANT, undefined, { emptyOnNotFound: false }), NotFoundError);
  });

  it('all() iterates over three pages with the same filter on every request', async () => {
    const requested: string[] = [];
    nock(BASE)
      .get('/devices/org.acme')
      .query(true)
      .times(3)
      .reply(function (uri) {
        const params = new URL(uri, BASE).searchParams;
        assert.equal(params.get('filterJson'), '{"field":"/enabled","value":true}');
        assert.equal(params.get('isGateway'), null);
        requested.push(params.get('pageOffset') ?? '');
        return [200, fixture(`search-devices-page-${params.get('pageOffset')}`), JSON_HEADERS];
      });
    const ids: string[] = [];
    for await (const device of newRegistry().devices.all(TENANT, { pageSize: 2, filter: [{ field: '/enabled', value: true }] })) {
      ids.push(device.id);
    }
    assert.deepEqual(ids, ['org.acme:lamp-1', 'org.acme:lamp-2', 'org.acme:lamp-3', 'org.acme:gw-1', 'org.acme:lamp-5']);
    assert.deepEqual(requested, ['0', '1', '2']);
  });

  it('all() stops after a short page even if total claims more', async () => {
    const scope = nock(BASE)
      .get('/devices/org.acme')
      .query({ pageSize: '2', pageOffset: '0' })
      .reply(200, { total: 99, result: [{ id: 'a:1' }] }, JSON_HEADERS);
    const ids: string[] = [];
    for await (const device of newRegistry().devices.all(TENANT, { pageSize: 2 })) ids.push(device.id);
    assert.deepEqual(ids, ['a:1']);
    scope.done();
  });

  it('modify() strips status from what it read, writes with If-Match and retries on 412', async () => {
    const { status: _status, ...withoutStatus } = fixture<Device>('device');
    const scope = nock(BASE)
      .get(DEVICE_PATH)
      .reply(200, fixture('device'), { ...JSON_HEADERS, ETag: 'd1' })
      .put(DEVICE_PATH, asBody({ ...withoutStatus, enabled: false }))
      .matchHeader('if-match', 'd1')
      .reply(412, fixture('error-412'), JSON_HEADERS)
      .get(DEVICE_PATH)
      .reply(200, fixture('device'), { ...JSON_HEADERS, ETag: 'd2' })
      .put(DEVICE_PATH, asBody({ ...withoutStatus, enabled: false }))
      .matchHeader('if-match', 'd2')
      .reply(204, '', { ETag: 'd3' });
    const result = await newRegistry().devices.modify(TENANT, DEVICE, (device) => ({ ...device, enabled: false }));
    assert.equal(result.etag, 'd3');
    assert.equal(result.value.enabled, false);
    assert.equal(result.value.status, undefined);
    scope.done();
  });

  it('modify() throws PreconditionFailedError after maxAttempts', async () => {
    nock(BASE)
      .get(DEVICE_PATH)
      .times(3)
      .reply(200, {}, { ...JSON_HEADERS, ETag: 'd1' })
      .put(DEVICE_PATH)
      .times(3)
      .reply(412, fixture('error-412'), JSON_HEADERS);
    await assert.rejects(
      newRegistry().devices.modify(TENANT, DEVICE, (d) => d, { maxAttempts: 3 }),
      PreconditionFailedError,
    );
    assert.ok(nock.isDone());
  });

  it('update() with ifMatch is not repeated after a lost response (the repeat would answer 412)', async () => {
    let repeats = 0;
    nock(BASE)
      .put(DEVICE_PATH)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .put(DEVICE_PATH)
      .reply(() => {
        repeats += 1;
        return [412, fixture('error-412'), JSON_HEADERS];
      });
    await assert.rejects(newRegistry().devices.update(TENANT, DEVICE, { enabled: true }, { ifMatch: 'd1' }), NetworkError);
    assert.equal(repeats, 0);
  });

  it('update() without ifMatch is still retried after a network error', async () => {
    const scope = nock(BASE)
      .put(DEVICE_PATH)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .put(DEVICE_PATH)
      .reply(204, '', { ETag: 'd2' });
    assert.deepEqual(await newRegistry().devices.update(TENANT, DEVICE, { enabled: true }), { etag: 'd2' });
    scope.done();
  });
});
