import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError, idRules } from '../../src/core/index.js';
import {
  DITTO_PROTOCOL_CONTENT_TYPE,
  type DittoEnvelope,
  liveMessage,
  liveMessageResponse,
  mergeFeature,
  mergeProperty,
  mergeThing,
  modifyAttribute,
  modifyAttributes,
  modifyFeature,
  modifyProperty,
  parseEnvelope,
  parseTopic,
  retrieveThing,
} from '../../src/protocol/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function isValidation(field: string) {
  return (error: unknown) => error instanceof ValidationError && error.field === field;
}

describe('Ditto Protocol builders', () => {
  it('modifyProperty: the telemetry shape devices send, response-required false by default', () => {
    const envelope = modifyProperty('org.acme:lamp-1', 'temperature', 'value', 21.5, { correlationId: 'c-1' });
    assert.deepEqual(envelope, {
      topic: 'org.acme/lamp-1/things/twin/commands/modify',
      headers: { 'correlation-id': 'c-1', 'response-required': false },
      path: '/features/temperature/properties/value',
      value: 21.5,
    });
    assert.equal(DITTO_PROTOCOL_CONTENT_TYPE, 'application/vnd.eclipse.ditto+json');
  });

  it('generates a correlation-id, honours responseRequired, channel and extra headers', () => {
    const envelope = modifyProperty(
      'org.acme:lamp-1',
      'temperature',
      '/nested/value',
      { v: 1 },
      {
        responseRequired: true,
        channel: 'live',
        headers: { 'Requested-Acks': ['twin-persisted'], timeout: '5s' },
      },
    );
    assert.match(envelope.headers['correlation-id'] ?? '', UUID);
    assert.equal(envelope.topic, 'org.acme/lamp-1/things/live/commands/modify');
    assert.equal(envelope.path, '/features/temperature/properties/nested/value');
    assert.deepEqual(envelope.headers, {
      'correlation-id': envelope.headers['correlation-id'],
      'response-required': true,
      'requested-acks': ['twin-persisted'],
      timeout: '5s',
    });
    // A response-required header given as an extra header is kept when the option is not set.
    assert.equal(modifyAttribute('a:b', 'x', 1, { headers: { 'response-required': true } }).headers['response-required'], true);
    // Two envelopes get two correlation-ids.
    assert.notEqual(modifyAttribute('a:b', 'x', 1).headers['correlation-id'], modifyAttribute('a:b', 'x', 1).headers['correlation-id']);
  });

  it('merge builders carry the merge-patch content type; null deletes', () => {
    assert.deepEqual(mergeProperty('org.acme:lamp-1', 'power', 'on', null, { correlationId: 'c' }), {
      topic: 'org.acme/lamp-1/things/twin/commands/merge',
      headers: { 'correlation-id': 'c', 'content-type': 'application/merge-patch+json', 'response-required': false },
      path: '/features/power/properties/on',
      value: null,
    });
    const feature = mergeFeature('org.acme:lamp-1', 'power', { properties: { on: true } }, { correlationId: 'c' });
    assert.equal(feature.path, '/features/power');
    assert.equal(feature.topic, 'org.acme/lamp-1/things/twin/commands/merge');
    const thing = mergeThing('org.acme:lamp-1', { attributes: { site: null } }, { correlationId: 'c' });
    assert.equal(thing.path, '/');
    assert.deepEqual(thing.value, { attributes: { site: null } });
  });

  it('modifyFeature, modifyAttributes, modifyAttribute address the right paths', () => {
    assert.equal(modifyFeature('org.acme:lamp-1', 'power', { properties: { on: true } }).path, '/features/power');
    assert.equal(modifyAttributes('org.acme:lamp-1', { site: 'p1' }).path, '/attributes');
    const attribute = modifyAttribute('org.acme:lamp-1', 'location/lat', 48.1);
    assert.equal(attribute.path, '/attributes/location/lat');
    assert.equal(attribute.value, 48.1);
    assert.equal(attribute.headers['response-required'], false);
  });

  it('uses "_" for the empty namespace', () => {
    assert.equal(modifyAttribute(':lamp-1', 'x', 1).topic, '_/lamp-1/things/twin/commands/modify');
  });

  it('retrieveThing leaves response-required to Ditto and renders fields', () => {
    const envelope = retrieveThing('org.acme:lamp-1', { correlationId: 'r-1', fields: ['thingId', 'attributes(location)'] });
    assert.deepEqual(envelope, {
      topic: 'org.acme/lamp-1/things/twin/commands/retrieve',
      headers: { 'correlation-id': 'r-1' },
      path: '/',
      fields: 'thingId,attributes(location)',
    });
    assert.throws(() => retrieveThing('a:b', { fields: [] }), isValidation('fields'));
  });

  it('liveMessage: topic, inbox/outbox path, feature mailbox, content type by payload', () => {
    assert.deepEqual(liveMessage('org.acme:lamp-1', 'switch/on', { on: true }, { direction: 'inbox', correlationId: 'm-1' }), {
      topic: 'org.acme/lamp-1/things/live/messages/switch/on',
      headers: { 'correlation-id': 'm-1', 'content-type': 'application/json' },
      path: '/inbox/messages/switch/on',
      value: { on: true },
    });
    const alarm = liveMessage('org.acme:smoke-1', 'smokeDetected', 'kitchen', {
      direction: 'outbox',
      featureId: 'detector',
      responseRequired: false,
    });
    assert.equal(alarm.path, '/features/detector/outbox/messages/smokeDetected');
    assert.equal(alarm.headers['content-type'], 'text/plain');
    assert.equal(alarm.headers['response-required'], false);
    const empty = liveMessage('org.acme:lamp-1', 'ping', undefined, { direction: 'inbox', contentType: 'application/octet-stream' });
    assert.equal('value' in empty, false);
    assert.equal(empty.headers['content-type'], 'application/octet-stream');
  });

  it("liveMessageResponse answers on the opposite mailbox with the request's correlation-id and status", () => {
    const request = liveMessage('org.acme:lamp-1', 'switch', { on: true }, { direction: 'inbox', correlationId: 'ask-7' });
    assert.deepEqual(liveMessageResponse(request, 200, { ok: true }), {
      topic: 'org.acme/lamp-1/things/live/messages/switch',
      headers: { 'correlation-id': 'ask-7', 'content-type': 'application/json' },
      path: '/outbox/messages/switch',
      value: { ok: true },
      status: 200,
    });
    const featureRequest = liveMessage('org.acme:lamp-1', 'dim/to', 40, { direction: 'inbox', featureId: 'light', correlationId: 'c' });
    const noContent = liveMessageResponse(featureRequest, 204);
    assert.deepEqual(noContent, {
      topic: 'org.acme/lamp-1/things/live/messages/dim/to',
      headers: { 'correlation-id': 'c' },
      path: '/features/light/outbox/messages/dim/to',
      status: 204,
    });
    const fromThing = liveMessage('org.acme:lamp-1', 'question', 'how?', { direction: 'outbox', correlationId: 'q' });
    const answer = liveMessageResponse(fromThing, 418, "I'm a teapot", { contentType: 'text/plain; charset=utf-8' });
    assert.equal(answer.path, '/inbox/messages/question');
    assert.equal(answer.headers['content-type'], 'text/plain; charset=utf-8');
    // It also answers an envelope as parsed from the wire.
    const parsed = parseEnvelope(JSON.stringify(request));
    assert.equal(liveMessageResponse(parsed, 200).headers['correlation-id'], 'ask-7');
  });

  it('liveMessageResponse refuses what it cannot answer', () => {
    const request = liveMessage('org.acme:lamp-1', 'switch', 1, { direction: 'inbox', correlationId: 'c' });
    const { 'correlation-id': _dropped, ...noCorrelation } = request.headers;
    assert.throws(() => liveMessageResponse({ ...request, headers: noCorrelation }, 200), isValidation('request.headers.correlation-id'));
    assert.throws(() => liveMessageResponse(modifyAttribute('a:b', 'x', 1), 200), isValidation('request.topic'));
    assert.throws(() => liveMessageResponse({ ...request, path: '/attributes/x' }, 200), isValidation('request.path'));
    assert.throws(() => liveMessageResponse(request, 99), isValidation('status'));
    assert.throws(() => liveMessageResponse(request, 200.5), isValidation('status'));
  });

  it('validates IDs, paths and values before building anything', () => {
    assert.throws(() => modifyProperty('no-colon', 'f', 'v', 1), isValidation('thingId'));
    assert.throws(() => modifyProperty('a:b', 'bad/feature', 'v', 1), isValidation('featureId'));
    assert.throws(() => modifyProperty('a:b', 'f', '', 1), isValidation('path'));
    assert.throws(() => modifyProperty('a:b', 'f', 'a//b', 1), isValidation('path'));
    assert.throws(() => modifyProperty('a:b', 'f', 'v', Number.NaN), isValidation('value'));
    assert.throws(() => modifyProperty('a:b', 'f', 'v', undefined as never), isValidation('value'));
    assert.throws(() => modifyAttribute('a:b', 'x', { when: new Date() } as never), isValidation('value.when'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => mergeThing('a:b', cyclic as never), isValidation('patch.self'));
    assert.throws(() => modifyAttributes('a:b', [] as never), isValidation('attributes'));
    assert.throws(() => modifyFeature('a:b', 'f', 'x' as never), isValidation('feature'));
    assert.throws(() => modifyAttribute('a:b', 'x', 1, { channel: 'cloud' as never }), isValidation('channel'));
    assert.throws(() => modifyAttribute('a:b', 'x', 1, { correlationId: '' }), isValidation('correlationId'));
    assert.throws(() => modifyAttribute('a:b', 'x', 1, { responseRequired: 'no' as never }), isValidation('responseRequired'));
    assert.throws(() => liveMessage('a:b', 's', 1, { direction: 'sideways' as never }), isValidation('direction'));
    assert.throws(() => liveMessage('a:b', '/s', 1, { direction: 'inbox' }), isValidation('subject'));
    assert.throws(() => liveMessage('a:b', 's', 1, undefined as never), isValidation('options'));
    // Custom ID rules apply.
    const strict = idRules({ feature: /^[a-z]+$/ });
    assert.throws(() => modifyProperty('a:b', 'Temp1', 'v', 1, { rules: strict }), isValidation('featureId'));
  });
});

describe('one subject and path rule for the builders and the HTTP client', () => {
  const subjectError = (subject: string) => () => liveMessage('a:b', subject, 1, { direction: 'inbox' });

  it("message subjects follow Ditto's rule: no control characters or U+007F–U+00FF, at most 256 characters", () => {
    // Allowed by Ditto (and percent-encoded by the HTTP client): spaces, "?", "#", "%", CJK, emoji, U+0100.
    for (const subject of ['with space', 'a?b#c', '100%', '温度/설정', 'ping🙂', '\u0100', 'x'.repeat(256), '~', 'a/b/c']) {
      const envelope = liveMessage('a:b', subject, 1, { direction: 'inbox' });
      assert.equal(envelope.topic, `a/b/things/live/messages/${subject}`, subject);
      assert.equal(envelope.path, `/inbox/messages/${subject}`, subject);
    }
    // Refused: control characters (NUL, LF, DEL), the Latin-1 range (U+0080, é, U+00FF), too long, lone surrogates.
    for (const subject of [
      'a\u0000b',
      'a\nb',
      'a\rb',
      '\u001f',
      'a\u007fb',
      '\u0080',
      'caf\u00e9',
      '\u00ff',
      'x'.repeat(257),
      'a\uD800b',
      '\uDC00',
    ]) {
      assert.throws(subjectError(subject), isValidation('subject'), JSON.stringify(subject));
    }
    // Refused because the subject is a path in both transports.
    for (const subject of ['', '/', '/s', 's/', 'a//b', '..', 'a/./b', 'a/..']) {
      assert.throws(subjectError(subject), isValidation('subject'), JSON.stringify(subject));
    }
  });

  it("attribute and property paths follow Ditto's key rule in the builders, as in the HTTP client", () => {
    assert.equal(modifyAttribute('a:b', '温度/설정', 1).path, '/attributes/温度/설정');
    assert.equal(modifyProperty('a:b', 'f', '/\u0100/', 1).path, '/features/f/properties/\u0100');
    assert.equal(modifyAttribute('a:b', 'k'.repeat(256), 1).path, `/attributes/${'k'.repeat(256)}`);
    for (const path of ['caf\u00e9', 'a/\u0080', 'a/\u007f', 'a\tb', 'a\u0000', 'k'.repeat(257), 'a\uD800b', '..', 'a/./b']) {
      assert.throws(() => modifyAttribute('a:b', path, 1), isValidation('path'), JSON.stringify(path));
      assert.throws(() => mergeProperty('a:b', 'f', path, 1), isValidation('path'), JSON.stringify(path));
    }
    assert.equal(modifyFeature('a:b', '温度', {}).path, '/features/温度');
    assert.throws(() => modifyFeature('a:b', 'temp\u00e9rature', {}), isValidation('featureId'));
    assert.throws(() => modifyFeature('a:b', 'a\uDBFFb', {}), isValidation('featureId'));
    assert.equal(modifyAttribute('org.acme:温度-1', 'x', 1).topic, 'org.acme/温度-1/things/twin/commands/modify');
    assert.throws(() => modifyAttribute('org.acme:\uD83D', 'x', 1), isValidation('thingId'));
  });
});

describe('parseTopic', () => {
  it('parses twin commands and events', () => {
    assert.deepEqual(parseTopic('org.acme/lamp-1/things/twin/commands/modify'), {
      namespace: 'org.acme',
      name: 'lamp-1',
      entityId: 'org.acme:lamp-1',
      group: 'things',
      channel: 'twin',
      criterion: 'commands',
      action: 'modify',
    });
    assert.equal(parseTopic('org.acme/lamp-1/things/live/events/modified').channel, 'live');
  });

  it('keeps message subjects with slashes whole', () => {
    assert.deepEqual(parseTopic('org.eclipse.ditto/smartcoffee/things/live/messages/ask/question'), {
      namespace: 'org.eclipse.ditto',
      name: 'smartcoffee',
      entityId: 'org.eclipse.ditto:smartcoffee',
      group: 'things',
      channel: 'live',
      criterion: 'messages',
      subject: 'ask/question',
    });
  });

  it('parses policies (no channel), errors, search, acks, announcements and placeholders', () => {
    assert.deepEqual(parseTopic('org.acme/p1/policies/commands/create'), {
      namespace: 'org.acme',
      name: 'p1',
      entityId: 'org.acme:p1',
      group: 'policies',
      criterion: 'commands',
      action: 'create',
    });
    assert.deepEqual(parseTopic('org.acme/lamp-1/things/twin/errors'), {
      namespace: 'org.acme',
      name: 'lamp-1',
      entityId: 'org.acme:lamp-1',
      group: 'things',
      channel: 'twin',
      criterion: 'errors',
    });
    assert.deepEqual(parseTopic('_/_/things/twin/search/subscribe'), {
      namespace: '_',
      name: '_',
      group: 'things',
      channel: 'twin',
      criterion: 'search',
      action: 'subscribe',
    });
    assert.equal(parseTopic('org.acme/lamp-1/things/twin/acks/my-ack').subject, 'my-ack');
    assert.equal(parseTopic('org.acme/lamp-1/things/twin/acks').subject, undefined);
    assert.deepEqual(parseTopic('_/conn-1/connections/announcements/opened'), {
      namespace: '_',
      name: 'conn-1',
      entityId: 'conn-1',
      group: 'connections',
      criterion: 'announcements',
      subject: 'opened',
    });
    assert.equal(parseTopic('_/lamp-1/things/twin/events/created').entityId, ':lamp-1');
    assert.equal(parseTopic('org.acme/p1/policies/announcements/subjectDeletion').subject, 'subjectDeletion');
    assert.equal(parseTopic('org.acme/lamp-1/things/none/events/modified').channel, undefined);
  });

  it('reads the search error topic (no channel) as an error response, as Ditto writes it', () => {
    const searchError = { namespace: '_', name: '_', group: 'things', criterion: 'errors' };
    // `errors` in Ditto's documentation example, `error` as Ditto's TopicPath.SearchAction names it.
    assert.deepEqual(parseTopic('_/_/things/search/errors'), searchError);
    assert.deepEqual(parseTopic('_/_/things/search/error'), searchError);
    assert.deepEqual(parseTopic('org.acme/_/things/twin/search/subscribe'), {
      namespace: 'org.acme',
      name: '_',
      group: 'things',
      channel: 'twin',
      criterion: 'search',
      action: 'subscribe',
    });
  });

  it("follows Ditto's grammar: things need a channel, policies and connections have none, one action segment", () => {
    const bad = [
      // things without a channel, apart from the search error
      'org.acme/lamp-1/things/commands/modify',
      '_/_/things/search/subscribe',
      '_/_/things/search',
      '_/_/things/search/errors/x',
      'org.acme/lamp-1/things/errors',
      // policies and connections take no channel
      'org.acme/p1/policies/twin/commands/create',
      '_/conn-1/connections/live/announcements/opened',
      // actions are one segment and required for commands, events, search and streaming
      'org.acme/lamp-1/things/twin/commands/modify/extra',
      '_/_/things/twin/search',
      'org.acme/lamp-1/things/twin/streaming',
      'org.acme/lamp-1/things/twin/events/',
      // errors end the topic
      'org.acme/lamp-1/things/twin/errors/x',
    ];
    for (const topic of bad) assert.throws(() => parseTopic(topic), isValidation('topic'), topic);
    assert.equal(parseTopic('org.acme/lamp-1/things/twin/streaming/subscribeForPersistedEvents').action, 'subscribeForPersistedEvents');
    assert.equal(parseTopic('org.acme/lamp-1/things/live/messages/a/b/c').subject, 'a/b/c');
  });

  it('throws ValidationError on garbage', () => {
    for (const bad of [
      '',
      'a',
      'a/b',
      'a/b/cars/twin/commands/modify',
      'a/b/things/twin/orders/x',
      'a/b/things/twin/commands',
      'a/b/things/live/messages',
      '/b/things/twin/errors',
      42,
    ]) {
      assert.throws(() => parseTopic(bad as string), isValidation('topic'), String(bad));
    }
  });
});

describe('parseEnvelope', () => {
  const wire = {
    topic: 'org.acme/lamp-1/things/twin/events/modified',
    headers: { 'Correlation-Id': 'x-1', 'content-type': DITTO_PROTOCOL_CONTENT_TYPE, 'response-required': 'false' },
    path: '/features/temperature/properties/value',
    value: 21.5,
    revision: 42,
    timestamp: '2024-05-01T12:00:00.000Z',
    extra: { attributes: { site: 'p1' } },
    somethingElse: true,
  };

  it('parses strings, bytes and objects alike; lower-cases header names; drops unknown fields', () => {
    const expected: DittoEnvelope = {
      topic: wire.topic,
      headers: { 'correlation-id': 'x-1', 'content-type': DITTO_PROTOCOL_CONTENT_TYPE, 'response-required': false },
      path: wire.path,
      value: 21.5,
      revision: 42,
      timestamp: wire.timestamp,
      extra: { attributes: { site: 'p1' } },
    };
    assert.deepEqual(parseEnvelope(JSON.stringify(wire)), expected);
    assert.deepEqual(parseEnvelope(Buffer.from(JSON.stringify(wire))), expected);
    assert.deepEqual(parseEnvelope(wire), expected);
  });

  it('is lenient about a missing correlation-id and even missing headers; keeps null values', () => {
    assert.deepEqual(parseEnvelope({ topic: 'a/b/things/twin/commands/merge', headers: {}, path: '/attributes/x', value: null }), {
      topic: 'a/b/things/twin/commands/merge',
      headers: {},
      path: '/attributes/x',
      value: null,
    });
    assert.deepEqual(parseEnvelope({ topic: 'a/b/things/twin/commands/retrieve', path: '/' }).headers, {});
    assert.equal(
      parseEnvelope({ topic: 'a/b/things/twin/errors', headers: { 'correlation-id': 7 }, path: '/', status: 404 }).headers[
        'correlation-id'
      ],
      '7',
    );
  });

  it('throws ValidationError on garbage', () => {
    const cases: Array<[unknown, string]> = [
      ['{not json', 'envelope'],
      ['[]', 'envelope'],
      [null, 'envelope'],
      [42, 'envelope'],
      [{ headers: {}, path: '/' }, 'envelope.topic'],
      [{ topic: 'nonsense', headers: {}, path: '/' }, 'topic'],
      [{ topic: 'a/b/things/twin/errors', headers: {}, path: 'attributes' }, 'envelope.path'],
      [{ topic: 'a/b/things/twin/errors', headers: {} }, 'envelope.path'],
      [{ topic: 'a/b/things/twin/errors', headers: [], path: '/' }, 'envelope.headers'],
      [{ topic: 'a/b/things/twin/errors', headers: {}, path: '/', status: '404' }, 'envelope.status'],
      [{ topic: 'a/b/things/twin/errors', headers: {}, path: '/', revision: 'x' }, 'envelope.revision'],
      [{ topic: 'a/b/things/twin/errors', headers: { 'correlation-id': {} }, path: '/' }, 'envelope.headers.correlation-id'],
      [{ topic: 'a/b/things/twin/errors', headers: { 'response-required': 'maybe' }, path: '/' }, 'envelope.headers.response-required'],
      [{ topic: 'a/b/things/twin/errors', headers: {}, path: '/', extra: 'x' }, 'envelope.extra'],
    ];
    for (const [input, field] of cases) {
      assert.throws(() => parseEnvelope(input), isValidation(field), JSON.stringify(input));
    }
  });
});
