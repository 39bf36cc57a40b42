// Proves the contract harness itself: it accepts what the specs allow and rejects what they do not,
// including the spec corrections documented in test/support/openapi.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RecordedRequest, dittoContract, honoRegistryContract, skipReason } from '../support/openapi.js';

function req(method: string, path: string, body?: unknown, query: Record<string, string> = {}): RecordedRequest {
  return {
    method,
    path,
    query,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
  };
}

describe('contract harness', { skip: skipReason() }, () => {
  it('accepts a valid Hono credentials body despite the spec quirk', async () => {
    const hono = await honoRegistryContract();
    hono.assertRequest(
      req('PUT', '/v1/credentials/t1/org.acme%3Alamp-1', [
        { type: 'hashed-password', 'auth-id': 'lamp-1', secrets: [{ 'pwd-plain': 'x-secret-1' }] },
        { type: 'psk', 'auth-id': 'lamp-1', secrets: [{ key: 'c2VjcmV0' }] },
      ]),
    );
  });

  it('still rejects a credential carrying device-id', async () => {
    const hono = await honoRegistryContract();
    assert.throws(() =>
      hono.assertRequest(
        req('PUT', '/v1/credentials/t1/d1', [
          { type: 'hashed-password', 'auth-id': 'lamp-1', 'device-id': 'd1', secrets: [{ 'pwd-plain': 'x' }] },
        ]),
      ),
    );
  });

  it('rejects unknown paths, unknown query parameters and wrong content types', async () => {
    const hono = await honoRegistryContract();
    assert.throws(() => hono.assertRequest(req('GET', '/v1/nothing/here')), /not an operation/);
    assert.throws(() => hono.assertRequest(req('GET', '/v1/devices/t1', undefined, { page: '1' })), /query parameters/);
    const ditto = await dittoContract();
    assert.throws(
      () =>
        ditto.assertRequest({
          ...req('PUT', '/api/2/things/org.acme%3Alamp-1', { attributes: {} }),
          headers: { 'content-type': 'text/plain' },
        }),
      /content type/,
    );
  });

  it('accepts any JSON value for Ditto property values, and multi-segment property paths', async () => {
    const ditto = await dittoContract();
    for (const value of [21.5, 'on', [1, 2], null, { a: 1 }]) {
      ditto.assertRequest(req('PUT', '/api/2/things/org.acme%3Alamp-1/features/temp/properties/a/b/c', value));
    }
  });

  it('routes JSON-pointer parameters that repeat a keyword, such as message resource keys', async () => {
    const ditto = await dittoContract();
    ditto.assertRequest(
      req('PUT', '/api/2/policies/org.acme%3Ap/entries/OWNER/resources/message:/inbox/messages/switch', {
        grant: ['READ'],
        revoke: [],
      }),
    );
    ditto.assertRequest(req('PUT', '/api/2/things/org.acme%3Al/features/properties/properties/a/b', 1));
  });

  it('validates response bodies against the response schema', async () => {
    const hono = await honoRegistryContract();
    hono.assertResponse({ method: 'POST', path: '/v1/tenants' }, 201, { id: 'generated' });
    assert.throws(() => hono.assertResponse({ method: 'POST', path: '/v1/tenants' }, 201, { id: 42 }));
  });
});
