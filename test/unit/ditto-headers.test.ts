import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/core/index.js';
import { DITTO_MAX_TIMEOUT_SECONDS, dittoCallOptions, dittoHeaders, dittoTimeoutMs } from '../../src/ditto/headers.js';

describe('dittoHeaders', () => {
  it('renders every option as the exact Ditto header value', () => {
    const headers = dittoHeaders({
      ifMatch: 4,
      ifNoneMatch: '*',
      ifEqual: 'skip',
      condition: 'eq(attributes/on,true)',
      liveChannelCondition: 'exists(features/switch)',
      liveChannelTimeoutStrategy: 'use-twin',
      responseRequired: false,
      requestedAcks: ['twin-persisted', 'search-persisted', 'my-conn:custom'],
      dittoTimeout: 30,
      channel: 'live',
      correlationId: 'corr-1',
      putMetadata: [{ key: '*/unit', value: 'Celsius' }],
      getMetadata: ['features/temperature', 'attributes'],
      deleteMetadata: 'attributes/old',
    });
    assert.deepEqual(headers, {
      'if-match': '"rev:4"',
      'if-none-match': '*',
      'if-equal': 'skip',
      condition: 'eq(attributes/on,true)',
      'live-channel-condition': 'exists(features/switch)',
      'live-channel-timeout-strategy': 'use-twin',
      'response-required': 'false',
      'requested-acks': 'twin-persisted,search-persisted,my-conn:custom',
      timeout: '30s',
      channel: 'live',
      'correlation-id': 'corr-1',
      'put-metadata': '[{"key":"*/unit","value":"Celsius"}]',
      'get-metadata': 'features/temperature,attributes',
      'delete-metadata': 'attributes/old',
    });
  });

  it('passes ETag strings through, renders revision numbers, and allows an empty ack list', () => {
    assert.deepEqual(dittoHeaders({ ifMatch: '"rev:7"', ifNoneMatch: 3, requestedAcks: [] }), {
      'if-match': '"rev:7"',
      'if-none-match': '"rev:3"',
      'requested-acks': '',
    });
    assert.deepEqual(dittoHeaders({ ifMatch: '"hash:a75ece4e"' }), { 'if-match': '"hash:a75ece4e"' });
    assert.deepEqual(dittoHeaders({ responseRequired: true }), { 'response-required': 'true' });
    assert.deepEqual(dittoHeaders(), {});
  });

  it('keeps caller headers (lower-cased) under the typed ones', () => {
    assert.deepEqual(dittoHeaders({ headers: { 'X-Trace': 't1', 'Correlation-Id': 'old' }, correlationId: 'new' }), {
      'x-trace': 't1',
      'correlation-id': 'new',
    });
  });

  it('renders Ditto durations', () => {
    assert.equal(dittoHeaders({ dittoTimeout: 0 }).timeout, '0s');
    assert.equal(dittoHeaders({ dittoTimeout: 1.5 }).timeout, '1500ms');
    assert.equal(dittoHeaders({ dittoTimeout: '500ms' }).timeout, '500ms');
    assert.equal(dittoHeaders({ dittoTimeout: '1m' }).timeout, '1m');
    assert.equal(dittoHeaders({ dittoTimeout: '42' }).timeout, '42');
    assert.equal(dittoTimeoutMs('1m'), 60_000);
    assert.equal(dittoTimeoutMs(60), DITTO_MAX_TIMEOUT_SECONDS * 1000);
    assert.equal(dittoTimeoutMs('250ms'), 250);
  });

  const bad: Array<[string, Parameters<typeof dittoHeaders>[0], string]> = [
    ['timeout over 60 s', { dittoTimeout: 61 }, 'dittoTimeout'],
    ['timeout over 60 s as a string', { dittoTimeout: '2m' }, 'dittoTimeout'],
    ['negative timeout', { dittoTimeout: -1 }, 'dittoTimeout'],
    ['unparsable timeout', { dittoTimeout: '10 seconds' }, 'dittoTimeout'],
    ['negative revision', { ifMatch: -1 }, 'ifMatch'],
    ['fractional revision', { ifNoneMatch: 1.5 }, 'ifNoneMatch'],
    ['empty If-Match', { ifMatch: '' }, 'ifMatch'],
    ['line break in a condition', { condition: 'eq(a,1)\r\nX-Evil: 1' }, 'condition'],
    ['unknown channel', { channel: 'radio' as 'live' }, 'channel'],
    ['unknown if-equal', { ifEqual: 'never' as 'skip' }, 'ifEqual'],
    ['bad ack label', { requestedAcks: ['twin persisted'] }, 'requestedAcks[0]'],
    ['too short ack label', { requestedAcks: ['ok', 'x'] }, 'requestedAcks[0]'],
    ['metadata without key', { putMetadata: [{ key: '', value: 1 }] }, 'putMetadata[0].key'],
    ['empty correlation id', { correlationId: '' }, 'correlationId'],
    ['non-boolean response-required', { responseRequired: 'no' as unknown as boolean }, 'responseRequired'],
    ['bad caller header', { headers: { 'x-a': 'a\nb' } }, 'headers.x-a'],
    ['carriage return in a caller header', { headers: { 'x-a': 'a\rb' } }, 'headers.x-a'],
    ['NUL in a correlation ID', { correlationId: 'c\u0000' }, 'correlationId'],
    // Node cannot send header text beyond Latin-1 (it threw a TypeError); Ditto headers get the same check.
    ['CJK in a condition', { condition: 'eq(attributes/温度,1)' }, 'condition'],
    ['a lone surrogate in If-Match', { ifMatch: '"\uD800"' }, 'ifMatch'],
  ];
  for (const [name, options, field] of bad) {
    it(`rejects ${name} with a ValidationError naming ${field}`, () => {
      assert.throws(
        () => dittoHeaders(options),
        (error: unknown) => error instanceof ValidationError && error.field === field,
      );
    });
  }
});

describe('dittoCallOptions', () => {
  it("extends the SDK deadline beyond Ditto's own wait unless the caller set one", () => {
    assert.equal(dittoCallOptions({ dittoTimeout: 30 }, 10_000).timeoutMs, 35_000);
    assert.equal(dittoCallOptions({ dittoTimeout: 2 }, 10_000).timeoutMs, undefined);
    assert.equal(dittoCallOptions({ dittoTimeout: 30, timeoutMs: 1_000 }, 10_000).timeoutMs, 1_000);
  });

  it('carries the signal and the rendered headers', () => {
    const controller = new AbortController();
    const call = dittoCallOptions({ signal: controller.signal, ifMatch: 1 });
    assert.equal(call.signal, controller.signal);
    assert.deepEqual(call.headers, { 'if-match': '"rev:1"' });
  });
});
