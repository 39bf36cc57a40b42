import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/errors.js';
import { durationMs } from '../../src/core/options.js';
import {
  CONNECTION_NOTIFICATION_CONTENT_TYPE,
  EMPTY_NOTIFICATION_CONTENT_TYPE,
  commandResponse,
  decodeText,
  downstreamMessage,
  encodeCommandPayload,
  numberProperty,
  parseCreationTime,
  parseJsonPayload,
  parseNotification,
  sameContentType,
  stringProperty,
  toPropertyValue,
  ttdUntil,
  validateCommandName,
} from '../../src/northbound/decode.js';
import { MalformedMessageError } from '../../src/northbound/errors.js';

const created = new Date('2024-05-01T10:00:00.000Z');
const dc = (body: unknown) => Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));

describe('parseNotification', () => {
  it('turns a ttd > 0 into a ready notification with until = creation time + ttd', () => {
    const n = parseNotification('event', 't1', 'd1', EMPTY_NOTIFICATION_CONTENT_TYPE, { ttd: 30 }, created);
    assert.deepEqual(n, { type: 'ready', tenantId: 't1', deviceId: 'd1', ttd: 30, until: new Date('2024-05-01T10:00:30.000Z') });
  });

  it('ttd -1 waits forever (until undefined); ttd 0 means the device stopped waiting', () => {
    assert.deepEqual(parseNotification('event', 't1', 'd1', EMPTY_NOTIFICATION_CONTENT_TYPE, { ttd: -1 }, created), {
      type: 'ready',
      tenantId: 't1',
      deviceId: 'd1',
      ttd: -1,
      until: undefined,
    });
    assert.deepEqual(parseNotification('event', 't1', 'd1', EMPTY_NOTIFICATION_CONTENT_TYPE, { ttd: 0 }, created), {
      type: 'disconnected',
      tenantId: 't1',
      deviceId: 'd1',
    });
  });

  it('accepts ttd as a string (Kafka headers) and on ordinary telemetry', () => {
    const n = parseNotification('telemetry', 't1', 'd1', 'application/json', { ttd: '60' }, created);
    assert.equal(n?.type, 'ready');
    assert.equal(n?.type === 'ready' ? n.ttd : undefined, 60);
  });

  it('uses now when there is no creation time', () => {
    const before = Date.now();
    const n = parseNotification('event', 't1', 'd1', EMPTY_NOTIFICATION_CONTENT_TYPE, { ttd: 10 }, undefined);
    assert.ok(n?.type === 'ready' && n.until !== undefined);
    assert.ok(n.until.getTime() >= before + 10_000 && n.until.getTime() <= Date.now() + 10_000);
  });

  it('rejects invalid ttd values and empty notifications without ttd', () => {
    for (const ttd of [-2, 1.5, 'soon', true]) {
      assert.throws(() => parseNotification('event', 't1', 'd1', undefined, { ttd }, created), MalformedMessageError, String(ttd));
    }
    assert.throws(() => parseNotification('event', 't1', 'd1', EMPTY_NOTIFICATION_CONTENT_TYPE, {}, created), /no ttd/);
  });

  it('decodes connection notifications from the JSON body (both spellings of cause)', () => {
    const body = { 'remote-id': 'c1', source: 'hono-mqtt' };
    for (const cause of ['connected', 'connect']) {
      assert.deepEqual(parseNotification('event', 't1', 'd1', CONNECTION_NOTIFICATION_CONTENT_TYPE, {}, created, dc({ cause, ...body })), {
        type: 'connected',
        tenantId: 't1',
        deviceId: 'd1',
      });
    }
    for (const cause of ['disconnected', 'disconnect']) {
      assert.equal(
        parseNotification('event', 't1', 'd1', CONNECTION_NOTIFICATION_CONTENT_TYPE, {}, created, dc({ cause, ...body }))?.type,
        'disconnected',
      );
    }
  });

  it('matches the content type without parameters or case', () => {
    const n = parseNotification(
      'event',
      't1',
      'd1',
      'Application/VND.eclipse-hono-dc-notification+json; charset=utf-8',
      {},
      created,
      dc({ cause: 'connected' }),
    );
    assert.equal(n?.type, 'connected');
  });

  it('throws MalformedMessageError for unreadable connection notifications', () => {
    assert.throws(
      () => parseNotification('event', 't1', 'd1', CONNECTION_NOTIFICATION_CONTENT_TYPE, {}, created, dc('{oops')),
      MalformedMessageError,
    );
    assert.throws(
      () => parseNotification('event', 't1', 'd1', CONNECTION_NOTIFICATION_CONTENT_TYPE, {}, created, dc({ cause: 'sleeping' })),
      /sleeping/,
    );
    assert.throws(() => parseNotification('event', 't1', 'd1', CONNECTION_NOTIFICATION_CONTENT_TYPE, {}, created), MalformedMessageError);
  });

  it('returns undefined for ordinary messages', () => {
    assert.equal(parseNotification('telemetry', 't1', 'd1', 'application/json', { qos: 0 }, created), undefined);
  });
});

describe('downstreamMessage', () => {
  const base = {
    kind: 'telemetry' as const,
    tenantId: 't1',
    deviceId: 'org.acme:lamp-1',
    contentType: 'application/json',
    payload: Buffer.from('{"temp":21.5}'),
    creationTime: created,
    properties: { device_id: 'org.acme:lamp-1', qos: 1, orig_adapter: 'hono-mqtt', orig_address: 'telemetry', x: 'y' },
    sourceId: 'hono.telemetry.t1/0/42',
  };

  it('decodes every field', () => {
    const m = downstreamMessage(base);
    assert.equal(m.kind, 'telemetry');
    assert.equal(m.tenantId, 't1');
    assert.equal(m.deviceId, 'org.acme:lamp-1');
    assert.equal(m.contentType, 'application/json');
    assert.equal(m.text(), '{"temp":21.5}');
    assert.deepEqual(m.json(), { temp: 21.5 });
    assert.equal(m.creationTime?.toISOString(), created.toISOString());
    assert.equal(m.qos, 1);
    assert.equal(m.sourceId, 'hono.telemetry.t1/0/42');
    assert.equal(m.origAdapter, 'hono-mqtt');
    assert.equal(m.origAddress, 'telemetry');
    assert.equal(m.ttd, undefined);
    assert.equal(m.notification, undefined);
    assert.equal(m.properties.x, 'y');
  });

  it('parses creation time in milliseconds (Kafka) and qos as a string', () => {
    const m = downstreamMessage({ ...base, creationTime: String(created.getTime()), properties: { qos: '0' } });
    assert.equal(m.creationTime?.getTime(), created.getTime());
    assert.equal(m.qos, 0);
  });

  it('treats an empty content type as none and json() failures as ValidationError', () => {
    const m = downstreamMessage({ ...base, contentType: '', payload: Buffer.from('not json') });
    assert.equal(m.contentType, undefined);
    assert.throws(() => m.json(), ValidationError);
  });

  it('carries ttd and the notification', () => {
    const m = downstreamMessage({
      ...base,
      contentType: EMPTY_NOTIFICATION_CONTENT_TYPE,
      payload: Buffer.alloc(0),
      properties: { ttd: 45 },
    });
    assert.equal(m.ttd, 45);
    assert.equal(m.notification?.type, 'ready');
  });

  it('throws MalformedMessageError without device_id or with an invalid qos', () => {
    assert.throws(() => downstreamMessage({ ...base, deviceId: undefined }), /has no device_id/);
    assert.throws(() => downstreamMessage({ ...base, deviceId: '' }), MalformedMessageError);
    assert.throws(() => downstreamMessage({ ...base, properties: { qos: 2 } }), /invalid qos/);
  });
});

describe('commandResponse', () => {
  it('builds a response from status and payload', () => {
    const r = commandResponse({
      status: '200',
      contentType: 'application/json',
      payload: Buffer.from('{"ok":true}'),
      correlationId: 'c1',
      properties: {},
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { ok: true });
    assert.equal(r.text(), '{"ok":true}');
    assert.equal(r.correlationId, 'c1');
  });

  it('rejects missing or impossible status codes', () => {
    for (const status of [undefined, null, 'ok', 42, 600, 200.5]) {
      assert.throws(
        () => commandResponse({ status, contentType: undefined, payload: Buffer.alloc(0), correlationId: 'c', properties: {} }),
        MalformedMessageError,
      );
    }
  });
});

describe('encodeCommandPayload', () => {
  it('picks a content type from the payload kind; an explicit one wins', () => {
    assert.deepEqual(encodeCommandPayload({ on: true }), { body: Buffer.from('{"on":true}'), contentType: 'application/json' });
    assert.deepEqual(encodeCommandPayload('hello'), { body: Buffer.from('hello'), contentType: 'text/plain' });
    assert.deepEqual(encodeCommandPayload(new Uint8Array([1, 2])), { body: Buffer.from([1, 2]), contentType: 'application/octet-stream' });
    assert.deepEqual(encodeCommandPayload(undefined), { body: Buffer.alloc(0), contentType: undefined });
    assert.equal(encodeCommandPayload({ a: 1 }, 'application/vnd.eclipse.ditto+json').contentType, 'application/vnd.eclipse.ditto+json');
    assert.deepEqual(encodeCommandPayload([1, 2]).body, Buffer.from('[1,2]'));
  });

  it('throws ValidationError for values JSON cannot represent', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => encodeCommandPayload(cyclic), ValidationError);
    assert.throws(() => encodeCommandPayload({ toJSON: () => undefined }), ValidationError);
  });
});

describe('property helpers', () => {
  it('numberProperty / stringProperty / toPropertyValue', () => {
    assert.equal(numberProperty(5), 5);
    assert.equal(numberProperty('5'), 5);
    assert.equal(numberProperty(' '), undefined);
    assert.equal(numberProperty('x'), undefined);
    assert.equal(numberProperty(Number.NaN), undefined);
    assert.equal(stringProperty(7), '7');
    assert.equal(stringProperty(null), undefined);
    assert.equal(toPropertyValue(Buffer.from('héllo')), 'héllo');
    assert.equal(toPropertyValue(10n), 10);
    assert.equal(toPropertyValue(2n ** 70n), (2n ** 70n).toString());
    assert.equal(toPropertyValue(created), created.getTime());
    assert.equal(toPropertyValue({ nested: true }), undefined);
    assert.equal(toPropertyValue(null), null);
  });

  it('parseCreationTime accepts dates, ms numbers, ms strings and ISO strings', () => {
    assert.equal(parseCreationTime(created)?.getTime(), created.getTime());
    assert.equal(parseCreationTime(created.getTime())?.getTime(), created.getTime());
    assert.equal(parseCreationTime(String(created.getTime()))?.getTime(), created.getTime());
    assert.equal(parseCreationTime(created.toISOString())?.getTime(), created.getTime());
    assert.equal(parseCreationTime('not a date'), undefined);
    assert.equal(parseCreationTime(undefined), undefined);
  });

  it('ttdUntil, sameContentType, decodeText, parseJsonPayload', () => {
    assert.equal(ttdUntil(-1, created), undefined);
    assert.equal(ttdUntil(0, created)?.getTime(), created.getTime());
    assert.ok(sameContentType('application/json; charset=utf-8', 'application/json'));
    assert.ok(!sameContentType(undefined, 'application/json'));
    assert.equal(decodeText(Buffer.from([0xe2, 0x82, 0xac])), '€');
    assert.throws(
      () => parseJsonPayload(Buffer.from('{'), 'body'),
      (e: unknown) => e instanceof ValidationError && e.field === 'body',
    );
  });

  it('validates command names and timeouts', () => {
    assert.equal(validateCommandName('switch'), 'switch');
    assert.throws(() => validateCommandName(' '), ValidationError);
    assert.equal(durationMs('timeoutMs', undefined), undefined);
    assert.equal(durationMs('timeoutMs', 100), 100);
    for (const bad of [0, -1, Number.POSITIVE_INFINITY, '100']) assert.throws(() => durationMs('timeoutMs', bad), ValidationError);
  });
});
