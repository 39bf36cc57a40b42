// Ditto Protocol builders and parser against Ditto's own JSON schemas and its 323 official examples
// (specs/ditto/protocol, tag 3.9.6; the protocol did not change since 3.5).
//
// Validator: the schemas are JSON Schema draft-04, which ajv 8 reads through `ajv-draft-04`.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  type DittoEnvelope,
  type JsonObject,
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
import { skipReason } from '../support/openapi.js';
import { SchemaViolation, type Validate, compileProtocolSchema as compile, protocolDir, readJson } from '../support/protocol-schemas.js';

function exampleFiles(): string[] {
  const root = join(protocolDir(), 'examples');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]))
      .filter((file) => file.endsWith('.json'))
      .sort();
  return walk(root);
}

function example(name: string): JsonObject {
  return readJson(join(protocolDir(), 'examples', 'things', ...name.split('/'))) as JsonObject;
}

/** Our envelopes add `response-required: false` on modify/merge; the examples leave it out. */
function withoutResponseRequired(envelope: DittoEnvelope): DittoEnvelope {
  const { 'response-required': _ignored, ...headers } = envelope.headers;
  return { ...envelope, headers };
}

describe('Ditto Protocol contract', { skip: skipReason() }, () => {
  let envelopeSchema: Validate;
  let responseSchema: Validate;
  before(() => {
    envelopeSchema = compile('protocol-envelope.json');
    responseSchema = compile('protocol-response.json');
  });

  it('the validator really checks draft-04 (rejects an envelope without topic)', () => {
    assert.throws(() => envelopeSchema({ headers: { 'correlation-id': 'x' }, path: '/' }), /topic/);
    assert.throws(() => envelopeSchema({ topic: 't', headers: {}, path: '/' }), /correlation-id/);
  });

  it('every builder produces a schema-valid envelope', () => {
    const id = 'org.eclipse.ditto:fancy-thing';
    const built: DittoEnvelope[] = [
      modifyProperty(id, 'accelerometer', 'x', 42),
      modifyProperty(id, 'accelerometer', 'x', 42, {
        channel: 'live',
        responseRequired: true,
        headers: { 'requested-acks': ['twin-persisted'] },
      }),
      mergeProperty(id, 'accelerometer', 'x', 42),
      modifyFeature(id, 'accelerometer', { properties: { x: 3.141 } }),
      mergeFeature(id, 'accelerometer', { properties: { x: 3.141 } }),
      modifyAttributes(id, { location: { latitude: 44.673856 } }),
      modifyAttribute(id, 'location', { latitude: 44.673856 }),
      mergeThing(id, { attributes: { location: 'Kitchen' } }),
      retrieveThing(id),
      retrieveThing(id, { fields: 'thingId,attributes(location)' }),
      liveMessage(id, 'ask/question', 'How are you?', { direction: 'inbox' }),
      liveMessage(id, 'smokeDetected', { level: 3 }, { direction: 'outbox', featureId: 'smokedetector' }),
      liveMessage(id, 'ping', undefined, { direction: 'inbox' }),
    ];
    for (const envelope of built) envelopeSchema(envelope);
  });

  it('message responses are valid envelopes and valid responses', () => {
    const request = liveMessage('org.eclipse.ditto:smartcoffee', 'ask', 'Hey, how are you?', { direction: 'inbox' });
    for (const response of [
      liveMessageResponse(request, 200, "I'm fine"),
      liveMessageResponse(request, 418, { reason: 'teapot' }),
      liveMessageResponse(request, 204),
    ]) {
      envelopeSchema(response);
      responseSchema(response);
    }
  });

  it("merge with null (delete) matches the official example; the schema's value type omits null", () => {
    // The envelope schema lists value types without "null", while Ditto's own merge-delete examples
    // (and JSON merge patch) use null. 23 of the official examples fail the schema for this reason alone.
    const built = mergeProperty('org.eclipse.ditto:fancy-thing', 'accelerometer', 'x', null, { correlationId: '<command-correlation-id>' });
    assert.deepEqual(withoutResponseRequired(built), example('commands/merge/mergedeletefeatureproperty.json'));
    assert.throws(() => envelopeSchema(built), /value/);
  });

  it('builders match the structure of the official examples exactly', () => {
    const correlationId = '<command-correlation-id>';
    const cases: Array<[string, DittoEnvelope]> = [
      [
        'commands/modify/modifyfeatureproperty.json',
        modifyProperty('org.eclipse.ditto:fancy-thing', 'accelerometer', 'x', 42, { correlationId }),
      ],
      [
        'commands/merge/mergefeatureproperty.json',
        mergeProperty('org.eclipse.ditto:fancy-thing', 'accelerometer', 'x', 42, { correlationId }),
      ],
      [
        'commands/modify/modifyfeature.json',
        modifyFeature('org.eclipse.ditto:fancy-thing', 'accelerometer', example('commands/modify/modifyfeature.json').value as JsonObject, {
          correlationId,
        }),
      ],
      [
        'commands/merge/mergefeature.json',
        mergeFeature('org.eclipse.ditto:fancy-thing', 'accelerometer', example('commands/merge/mergefeature.json').value as JsonObject, {
          correlationId,
        }),
      ],
      [
        'commands/modify/modifyattributes.json',
        modifyAttributes('org.eclipse.ditto:fancy-thing', example('commands/modify/modifyattributes.json').value as JsonObject, {
          correlationId,
        }),
      ],
      [
        'commands/modify/modifyattribute.json',
        modifyAttribute('org.eclipse.ditto:fancy-thing', 'location', { latitude: 44.673856, longitude: 8.261719 }, { correlationId }),
      ],
      [
        'commands/merge/mergething.json',
        mergeThing('org.eclipse.ditto:fancy-thing_53', example('commands/merge/mergething.json').value as JsonObject, { correlationId }),
      ],
      ['commands/query/retrievething.json', retrieveThing('org.eclipse.ditto:fancy-thing', { correlationId })],
      [
        'commands/query/retrievething-withfieldselector.json',
        retrieveThing('org.eclipse.ditto:fancy-thing', { correlationId, fields: 'thingId,attributes(location)' }),
      ],
    ];
    for (const [file, built] of cases) {
      assert.deepEqual(withoutResponseRequired(built), example(file), file);
    }
  });

  it("live messages and their responses match the Ditto documentation's message examples", () => {
    // From "Ditto Protocol > Things > Messages" (protocol-specification-things-messages): no generated
    // example files exist for messages, so the documented shapes are compared here.
    const documented = {
      topic: 'org.eclipse.ditto/smartcoffee/things/live/messages/heatUp',
      headers: { 'content-type': 'text/plain', 'correlation-id': 'a-unique-string-for-this-message' },
      path: '/features/water-tank/inbox/messages/heatUp',
      value: '47',
    };
    const built = liveMessage('org.eclipse.ditto:smartcoffee', 'heatUp', '47', {
      direction: 'inbox',
      featureId: 'water-tank',
      correlationId: 'a-unique-string-for-this-message',
    });
    assert.deepEqual(built, documented);
    assert.deepEqual(liveMessageResponse(parseEnvelope(documented), 204), {
      topic: 'org.eclipse.ditto/smartcoffee/things/live/messages/heatUp',
      headers: { 'correlation-id': 'a-unique-string-for-this-message' },
      path: '/features/water-tank/outbox/messages/heatUp',
      status: 204,
    });
  });

  it('parses all 323 official examples with parseEnvelope and parseTopic', () => {
    const files = exampleFiles();
    assert.equal(files.length, 323);
    const examplesRoot = join(protocolDir(), 'examples');
    let schemaFailures = 0;
    for (const file of files) {
      const name = relative(examplesRoot, file).split(sep).join('/');
      const raw = readJson(file) as JsonObject;
      const envelope = parseEnvelope(readFileSync(file, 'utf8'));
      // Lossless: every example already uses lower-case header names and only envelope fields.
      assert.deepEqual(envelope, raw, name);
      const topic = parseTopic(envelope.topic);
      const [area, kind, variant] = name.split('/');
      const group = area === 'search' ? 'things' : area;
      assert.equal(topic.group, group, name);
      switch (kind) {
        case 'commands':
          if (area === 'search') {
            assert.equal(topic.criterion, 'search', name);
            assert.equal(topic.channel, 'twin', name);
            assert.ok(['subscribe', 'request', 'cancel'].includes(topic.action ?? ''), `${name}: action ${topic.action}`);
          } else {
            assert.equal(topic.criterion, 'commands', name);
            const actions = { query: ['retrieve'], merge: ['merge'], modify: ['create', 'modify', 'delete'] }[variant ?? ''] ?? [];
            assert.ok(actions.includes(topic.action ?? ''), `${name}: action ${topic.action}`);
          }
          break;
        case 'events':
          assert.equal(topic.criterion, area === 'search' ? 'search' : 'events', name);
          if (area === 'search') {
            assert.equal(topic.channel, 'twin', name);
            assert.ok(['created', 'next', 'complete', 'failed'].includes(topic.action ?? ''), `${name}: action ${topic.action}`);
          }
          if (area === 'things') assert.ok(['created', 'modified', 'deleted', 'merged'].includes(topic.action ?? ''), name);
          break;
        case 'exceptions':
          // Every error response is criterion `errors`, the search error `_/_/things/search/errors` (no channel) too.
          assert.equal(topic.criterion, 'errors', name);
          assert.equal(topic.action, undefined, name);
          if (area === 'search') assert.equal(topic.channel, undefined, name);
          assert.equal(typeof envelope.status, 'number', name);
          assert.equal((envelope.value as { status?: number }).status, envelope.status, name);
          break;
        case 'announcements':
          assert.equal(topic.criterion, 'announcements', name);
          assert.ok(topic.subject, name);
          assert.equal(topic.action, undefined, name);
          break;
        default:
          assert.fail(`unexpected example folder ${name}`);
      }
      if (area === 'things' && kind !== 'exceptions' && !name.includes('retrievethings')) {
        assert.equal(topic.channel, 'twin', name);
        assert.equal(topic.entityId, `${topic.namespace}:${topic.name}`, name);
      }
      if (area === 'policies') assert.equal(topic.channel, undefined, name);
      // Where an example fails the envelope schema, it is only for the two known reasons: a missing
      // correlation-id (which parseEnvelope tolerates) or a null value (merge deletes).
      try {
        envelopeSchema(raw);
      } catch (error) {
        schemaFailures += 1;
        assert.ok(error instanceof SchemaViolation, String(error));
        for (const reason of error.errors) {
          const missingCorrelationId =
            reason.keyword === 'required' && reason.instancePath === '/headers' && reason.params.missingProperty === 'correlation-id';
          const nullValue = reason.keyword === 'type' && reason.instancePath === '/value' && raw.value === null;
          assert.ok(missingCorrelationId || nullValue, `${name}: ${reason.instancePath} ${reason.message ?? reason.keyword}`);
        }
      }
    }
    assert.ok(schemaFailures > 0 && schemaFailures < 60, `${schemaFailures} examples fail the schema`);
  });
});
