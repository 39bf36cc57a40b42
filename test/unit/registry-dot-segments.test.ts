// `.` and `..` as tenant or device IDs: URL resolution removes them, so `devices.delete(tenant, '.')`
// would go out as `DELETE /v1/devices/<tenant>/` and `tenants.delete('..')` as `DELETE /v1/`.
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { isDotSegmentError, recordEveryRequest } from '../support/dot-segments.js';
import { BASE, JSON_HEADERS, ORIGIN, newRegistry } from '../fixtures/registry/support.js';

const isValidation = isDotSegmentError;
const catchAll = () => recordEveryRequest(ORIGIN, (method) => (method === 'GET' ? [200, '[]', JSON_HEADERS] : [204]));

describe('registry IDs refuse "." and ".."', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('device IDs "." and ".." are refused by devices.* (would DELETE /devices/<tenant>/)', async () => {
    const { seen } = catchAll();
    const registry = newRegistry();
    for (const deviceId of ['.', '..']) {
      await assert.rejects(registry.devices.delete('org.acme', deviceId), isValidation('deviceId'));
      await assert.rejects(registry.devices.get('org.acme', deviceId), isValidation('deviceId'));
      await assert.rejects(registry.devices.update('org.acme', deviceId, {}), isValidation('deviceId'));
      await assert.rejects(registry.devices.create('org.acme', {}, { deviceId }), isValidation('options.deviceId'));
    }
    assert.deepEqual(seen, []);
  });

  it('tenant IDs "." and ".." are refused by tenants.* and devices.* (would DELETE /tenants or /v1/)', async () => {
    const { seen } = catchAll();
    const registry = newRegistry();
    for (const tenantId of ['.', '..']) {
      await assert.rejects(registry.tenants.delete(tenantId), isValidation('tenantId'));
      await assert.rejects(registry.tenants.get(tenantId), isValidation('tenantId'));
      await assert.rejects(registry.tenants.create({}, { tenantId }), isValidation('options.tenantId'));
      await assert.rejects(registry.devices.deleteAll(tenantId), isValidation('tenantId'));
      await assert.rejects(registry.devices.delete(tenantId, 'org.acme:lamp-1'), isValidation('tenantId'));
    }
    assert.deepEqual(seen, []);
  });

  it('credentials refuse "." and ".." tenant and device IDs (would PUT /credentials/<tenant>/)', async () => {
    const { seen } = catchAll();
    const credentials = newRegistry().credentials;
    await assert.rejects(credentials.get('org.acme', '..'), isValidation('deviceId'));
    await assert.rejects(credentials.clear('org.acme', '.'), isValidation('deviceId'));
    await assert.rejects(credentials.set('..', 'org.acme:lamp-1', []), isValidation('tenantId'));
    await assert.rejects(credentials.setPassword('org.acme', '..', 'lamp-1', 'pw-Abc123!x'), isValidation('deviceId'));
    await assert.rejects(credentials.remove('.', 'org.acme:lamp-1', 'psk', 'lamp-1'), isValidation('tenantId'));
    assert.deepEqual(seen, []);
  });

  it('the check holds with custom ID rules that would let "." through', async () => {
    const { seen } = catchAll();
    const registry = newRegistry({ idRules: { tenant: /^.+$/, device: /^.+$/ } });
    await assert.rejects(registry.devices.delete('org.acme', '..'), isValidation('deviceId'));
    await assert.rejects(registry.tenants.delete('.'), isValidation('tenantId'));
    assert.deepEqual(seen, []);
  });

  it('dotted IDs that are not dot segments still work ("a.b", "org.acme:lamp.1", "...")', async () => {
    const scope = nock(BASE)
      .delete('/devices/a.b/org.acme%3Alamp.1')
      .reply(204)
      .delete('/tenants/...')
      .reply(204)
      .get('/credentials/a.b/x..y')
      .reply(200, [], JSON_HEADERS);
    const registry = newRegistry();
    await registry.devices.delete('a.b', 'org.acme:lamp.1');
    await registry.tenants.delete('...');
    assert.deepEqual((await registry.credentials.get('a.b', 'x..y')).value, []);
    scope.done();
  });
});
