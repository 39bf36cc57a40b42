// A table of hostile IDs and path segments through every registry and Ditto method that takes an ID or a path.
// Each call either fails with a ValidationError naming the argument before anything is sent, or sends requests whose
// path, split at "/" and decoded segment by segment, is exactly the intended one: no dot segment removed, no "/"
// splitting an ID, no "?" or "#" cutting the path off, no character changed. Which values a method accepts is spelled
// out per rule (Hono's ID patterns, Ditto's names and keys, message subjects, ...), so both sides of each boundary
// are tested: a method that refused everything would fail here as surely as one that sent a mangled path.
import assert from 'node:assert/strict';
import { afterEach, before, beforeEach, describe, it } from 'node:test';
import nock from 'nock';
import { type IdRules, Redactor, ValidationError } from '../../src/core/index.js';
import { HttpClient } from '../../src/core/http.js';
import { honoAmqpConnection, honoKafkaConnection } from '../../src/c2e/connections.js';
import { encodePropertyBag, publishTopic } from '../../src/device/topics.js';
import { BASE as DITTO, THING, makeClient } from '../fixtures/ditto/kit.js';
import { ORIGIN as REGISTRY_ORIGIN, newRegistry } from '../fixtures/registry/support.js';

const HOSTILE = {
  empty: '',
  dot: '.',
  'dot-dot': '..',
  slash: '/',
  'encoded slash': '%2F',
  'question mark': '?',
  hash: '#',
  NUL: 'a\u0000b',
  LF: 'a\nb',
  'CR LF': 'a\r\nb',
  'U+001F': '\u001f',
  DEL: 'a\u007fb',
  'lone high surrogate': 'a\uD800b',
  'lone low surrogate': '\uDC00',
  'cut emoji': 'x\uD83D',
  '1,000 characters': 'x'.repeat(1000),
  CJK: '温度',
  emoji: '🙂',
  'U+0080': '\u0080',
  'é (U+00E9)': 'temp\u00e9rature',
  'U+00FF': '\u00ff',
} as const;
type Hostile = keyof typeof HOSTILE;

// Which table entries each rule lets through; everything else must be a ValidationError.
const HONO_ID: readonly Hostile[] = ['1,000 characters'];
// Auth-ids ([a-zA-Z0-9-_=.]+) travel in the body, so "." and ".." are fine there.
const HONO_AUTH_ID: readonly Hostile[] = [...HONO_ID, 'dot', 'dot-dot'];
// Ditto names, feature IDs, JSON keys, labels: [^\x00-\x1F\x7F-\xFF/], 1-256 long (and no "." / ".." segments).
const DITTO_KEY: readonly Hostile[] = ['encoded slash', 'question mark', 'hash', 'CJK', 'emoji'];
// `org.acme:<value>`: the name may be "." or ".." (the segment is `org.acme%3A..`, not a dot segment).
const DITTO_NAME: readonly Hostile[] = [...DITTO_KEY, 'dot', 'dot-dot'];
// Message subjects: Ditto refuses control characters and U+007F–U+00FF; the path rules refuse "", "/", dot segments.
const SUBJECT: readonly Hostile[] = DITTO_KEY;
// Policy subject IDs: no control characters, not "." or "..".
const SUBJECT_ID: readonly Hostile[] = [
  'slash',
  'encoded slash',
  'question mark',
  'hash',
  '1,000 characters',
  'CJK',
  'emoji',
  'U+0080',
  'é (U+00E9)',
  'U+00FF',
];
// Segments of a policy resource path: the same, but "/" separates segments there.
const RESOURCE_SEGMENT: readonly Hostile[] = SUBJECT_ID.filter((name) => name !== 'slash');
// Connection IDs: 1-256 characters without "/", "?", "#", "%" or control characters.
const CONNECTION_ID: readonly Hostile[] = ['CJK', 'emoji', 'U+0080', 'é (U+00E9)', 'U+00FF'];

interface Target {
  /** The method call, for messages. */
  name: string;
  /** The `field` of the ValidationError for a refused value. */
  field: string;
  accepts: readonly Hostile[];
  call(value: string): Promise<unknown>;
  /** The intended path segments (decoded) of every request the call sends. */
  path(value: string): string[];
}

const T = 'org.acme';
const D = 'org.acme:lamp-1';
const P = 'org.acme:policy-1';
const thingId = (value: string) => `org.acme:${value}`;
const mid = (value: string) => `a/${value}/b`;
const password = 'pw-Abc123!x';
const credentials = [{ type: 'hashed-password' as const, 'auth-id': 'lamp-1', secrets: [{ 'pwd-plain': password }] }];

const reg = (...segments: string[]) => ['v1', ...segments];
const api = (...segments: string[]) => ['api', '2', ...segments];
const thing = (...segments: string[]) => api('things', THING, ...segments);
const policy = (...segments: string[]) => api('policies', P, ...segments);

function registryTargets(idRules?: Partial<IdRules>): Target[] {
  const registry = newRegistry(idRules === undefined ? {} : { idRules });
  const { tenants, devices } = registry;
  const creds = registry.credentials;
  return [
    { name: 'tenants.get(·)', field: 'tenantId', accepts: HONO_ID, call: (v) => tenants.get(v), path: (v) => reg('tenants', v) },
    { name: 'tenants.update(·)', field: 'tenantId', accepts: HONO_ID, call: (v) => tenants.update(v, {}), path: (v) => reg('tenants', v) },
    { name: 'tenants.delete(·)', field: 'tenantId', accepts: HONO_ID, call: (v) => tenants.delete(v), path: (v) => reg('tenants', v) },
    {
      name: 'tenants.create({tenantId: ·})',
      field: 'options.tenantId',
      accepts: HONO_ID,
      call: (v) => tenants.create({}, { tenantId: v }),
      path: (v) => reg('tenants', v),
    },
    {
      name: 'devices.get(·, device)',
      field: 'tenantId',
      accepts: HONO_ID,
      call: (v) => devices.get(v, D),
      path: (v) => reg('devices', v, D),
    },
    {
      name: 'devices.get(tenant, ·)',
      field: 'deviceId',
      accepts: HONO_ID,
      call: (v) => devices.get(T, v),
      path: (v) => reg('devices', T, v),
    },
    {
      name: 'devices.update(tenant, ·)',
      field: 'deviceId',
      accepts: HONO_ID,
      call: (v) => devices.update(T, v, {}),
      path: (v) => reg('devices', T, v),
    },
    {
      name: 'devices.delete(tenant, ·)',
      field: 'deviceId',
      accepts: HONO_ID,
      call: (v) => devices.delete(T, v),
      path: (v) => reg('devices', T, v),
    },
    {
      name: 'devices.create(tenant, {deviceId: ·})',
      field: 'options.deviceId',
      accepts: HONO_ID,
      call: (v) => devices.create(T, {}, { deviceId: v }),
      path: (v) => reg('devices', T, v),
    },
    {
      name: 'devices.deleteAll(·)',
      field: 'tenantId',
      accepts: HONO_ID,
      call: (v) => devices.deleteAll(v),
      path: (v) => reg('devices', v),
    },
    { name: 'devices.search(·)', field: 'tenantId', accepts: HONO_ID, call: (v) => devices.search(v), path: (v) => reg('devices', v) },
    {
      name: 'credentials.get(·, device)',
      field: 'tenantId',
      accepts: HONO_ID,
      call: (v) => creds.get(v, D),
      path: (v) => reg('credentials', v, D),
    },
    {
      name: 'credentials.get(tenant, ·)',
      field: 'deviceId',
      accepts: HONO_ID,
      call: (v) => creds.get(T, v),
      path: (v) => reg('credentials', T, v),
    },
    {
      name: 'credentials.set(tenant, ·)',
      field: 'deviceId',
      accepts: HONO_ID,
      call: (v) => creds.set(T, v, credentials),
      path: (v) => reg('credentials', T, v),
    },
    {
      name: 'credentials.clear(·, device)',
      field: 'tenantId',
      accepts: HONO_ID,
      call: (v) => creds.clear(v, D),
      path: (v) => reg('credentials', v, D),
    },
    // The auth-id goes into the body; the requests (GET, then PUT) address the device's credentials.
    {
      name: 'credentials.setPassword(tenant, device, ·)',
      field: 'authId',
      accepts: HONO_AUTH_ID,
      call: (v) => creds.setPassword(T, D, v, password),
      path: () => reg('credentials', T, D),
    },
    {
      name: 'credentials.remove(tenant, device, psk, ·)',
      field: 'authId',
      accepts: HONO_AUTH_ID,
      call: (v) => creds.remove(T, D, 'psk', v),
      path: () => reg('credentials', T, D),
    },
  ];
}

function dittoTargets(): Target[] {
  const client = makeClient();
  const { things, policies, messages, connections } = client;
  const entries = policies.entries(P);
  const noWait = { timeoutSeconds: 0 };
  return [
    {
      name: 'things.get(·)',
      field: 'thingId',
      accepts: DITTO_NAME,
      call: (v) => things.get(thingId(v)),
      path: (v) => api('things', thingId(v)),
    },
    { name: 'things.get(raw ·)', field: 'thingId', accepts: [], call: (v) => things.get(v), path: (v) => api('things', v) },
    {
      name: 'things.put(·)',
      field: 'thingId',
      accepts: DITTO_NAME,
      call: (v) => things.put(thingId(v), {}),
      path: (v) => api('things', thingId(v)),
    },
    {
      name: 'things.merge(·)',
      field: 'thingId',
      accepts: DITTO_NAME,
      call: (v) => things.merge(thingId(v), {}),
      path: (v) => api('things', thingId(v)),
    },
    {
      name: 'things.delete(·)',
      field: 'thingId',
      accepts: DITTO_NAME,
      call: (v) => things.delete(thingId(v)),
      path: (v) => api('things', thingId(v)),
    },
    {
      name: 'things.definition(·).get()',
      field: 'thingId',
      accepts: DITTO_NAME,
      call: (v) => things.definition(thingId(v)).get(),
      path: (v) => api('things', thingId(v), 'definition'),
    },
    {
      name: 'things.policyId(·).get()',
      field: 'thingId',
      accepts: DITTO_NAME,
      call: (v) => things.policyId(thingId(v)).get(),
      path: (v) => api('things', thingId(v), 'policyId'),
    },
    {
      name: 'things.features(·).get()',
      field: 'thingId',
      accepts: DITTO_NAME,
      call: (v) => things.features(thingId(v)).get(),
      path: (v) => api('things', thingId(v), 'features'),
    },
    {
      name: 'things.attributes(·).get(x)',
      field: 'thingId',
      accepts: DITTO_NAME,
      call: (v) => things.attributes(thingId(v)).get('x'),
      path: (v) => api('things', thingId(v), 'attributes', 'x'),
    },
    {
      name: 'feature(thing, ·).get()',
      field: 'featureId',
      accepts: DITTO_KEY,
      call: (v) => client.feature(THING, v).get(),
      path: (v) => thing('features', v),
    },
    {
      name: 'feature(thing, ·).put({})',
      field: 'featureId',
      accepts: DITTO_KEY,
      call: (v) => client.feature(THING, v).put({}),
      path: (v) => thing('features', v),
    },
    {
      name: 'feature(thing, ·).delete()',
      field: 'featureId',
      accepts: DITTO_KEY,
      call: (v) => client.feature(THING, v).delete(),
      path: (v) => thing('features', v),
    },
    {
      name: 'feature(thing, ·).properties.get(x)',
      field: 'featureId',
      accepts: DITTO_KEY,
      call: (v) => client.feature(THING, v).properties.get('x'),
      path: (v) => thing('features', v, 'properties', 'x'),
    },
    {
      name: 'attributes.get(a/·/b)',
      field: 'path',
      accepts: DITTO_KEY,
      call: (v) => things.attributes(THING).get(mid(v)),
      path: (v) => thing('attributes', 'a', v, 'b'),
    },
    {
      name: 'attributes.put(a/·/b)',
      field: 'path',
      accepts: DITTO_KEY,
      call: (v) => things.attributes(THING).put(mid(v), 1),
      path: (v) => thing('attributes', 'a', v, 'b'),
    },
    {
      name: 'attributes.delete(a/·/b)',
      field: 'path',
      accepts: DITTO_KEY,
      call: (v) => things.attributes(THING).delete(mid(v)),
      path: (v) => thing('attributes', 'a', v, 'b'),
    },
    {
      name: 'properties.put(a/·/b)',
      field: 'path',
      accepts: DITTO_KEY,
      call: (v) => client.feature(THING, 'lamp').properties.put(mid(v), 1),
      path: (v) => thing('features', 'lamp', 'properties', 'a', v, 'b'),
    },
    {
      name: 'desiredProperties.merge(a/·/b)',
      field: 'path',
      accepts: DITTO_KEY,
      call: (v) => client.feature(THING, 'lamp').desiredProperties.merge(mid(v), 1),
      path: (v) => thing('features', 'lamp', 'desiredProperties', 'a', v, 'b'),
    },
    {
      name: 'policies.get(·)',
      field: 'policyId',
      accepts: DITTO_NAME,
      call: (v) => policies.get(thingId(v)),
      path: (v) => api('policies', thingId(v)),
    },
    {
      name: 'policies.delete(·)',
      field: 'policyId',
      accepts: DITTO_NAME,
      call: (v) => policies.delete(thingId(v)),
      path: (v) => api('policies', thingId(v)),
    },
    { name: 'entries.get(·)', field: 'label', accepts: DITTO_KEY, call: (v) => entries.get(v), path: (v) => policy('entries', v) },
    { name: 'entries.delete(·)', field: 'label', accepts: DITTO_KEY, call: (v) => entries.delete(v), path: (v) => policy('entries', v) },
    {
      name: 'entries.subjects(·).get()',
      field: 'label',
      accepts: DITTO_KEY,
      call: (v) => entries.subjects(v).get(),
      path: (v) => policy('entries', v, 'subjects'),
    },
    {
      name: 'entries.subjects(DEFAULT).get(·)',
      field: 'subjectId',
      accepts: SUBJECT_ID,
      call: (v) => entries.subjects('DEFAULT').get(v),
      path: (v) => policy('entries', 'DEFAULT', 'subjects', v),
    },
    {
      name: 'entries.subjects(DEFAULT).delete(·)',
      field: 'subjectId',
      accepts: SUBJECT_ID,
      call: (v) => entries.subjects('DEFAULT').delete(v),
      path: (v) => policy('entries', 'DEFAULT', 'subjects', v),
    },
    {
      name: 'entries.resources(DEFAULT).get(thing:/a/·/b)',
      field: 'resourceKey',
      accepts: RESOURCE_SEGMENT,
      call: (v) => entries.resources('DEFAULT').get(`thing:/${mid(v)}`),
      path: (v) => policy('entries', 'DEFAULT', 'resources', 'thing:', 'a', v, 'b'),
    },
    {
      name: 'policies.imports(policy).get(·)',
      field: 'importedPolicyId',
      accepts: DITTO_NAME,
      call: (v) => policies.imports(P).get(thingId(v)),
      path: (v) => policy('imports', thingId(v)),
    },
    {
      name: 'messages.send({subject: ·})',
      field: 'subject',
      accepts: SUBJECT,
      call: (v) => messages.send({ thingId: THING, subject: v, ...noWait }),
      path: (v) => thing('inbox', 'messages', v),
    },
    {
      name: 'messages.send({subject: a/·/b})',
      field: 'subject',
      accepts: SUBJECT,
      call: (v) => messages.send({ thingId: THING, subject: mid(v), ...noWait }),
      path: (v) => thing('inbox', 'messages', 'a', v, 'b'),
    },
    {
      name: 'messages.send({featureId: ·})',
      field: 'featureId',
      accepts: DITTO_KEY,
      call: (v) => messages.send({ thingId: THING, featureId: v, subject: 'x', ...noWait }),
      path: (v) => thing('features', v, 'inbox', 'messages', 'x'),
    },
    {
      name: 'messages.send({thingId: ·})',
      field: 'thingId',
      accepts: DITTO_NAME,
      call: (v) => messages.send({ thingId: thingId(v), subject: 'x', direction: 'outbox', ...noWait }),
      path: (v) => api('things', thingId(v), 'outbox', 'messages', 'x'),
    },
    {
      name: 'messages.claim(·)',
      field: 'thingId',
      accepts: DITTO_NAME,
      call: (v) => messages.claim(thingId(v), undefined, noWait),
      path: (v) => api('things', thingId(v), 'inbox', 'claim'),
    },
    {
      name: 'connections.get(·)',
      field: 'connectionId',
      accepts: CONNECTION_ID,
      call: (v) => connections.get(v),
      path: (v) => api('connections', v),
    },
    {
      name: 'connections.delete(·)',
      field: 'connectionId',
      accepts: CONNECTION_ID,
      call: (v) => connections.delete(v),
      path: (v) => api('connections', v),
    },
    {
      name: 'connections.status(·)',
      field: 'connectionId',
      accepts: CONNECTION_ID,
      call: (v) => connections.status(v),
      path: (v) => api('connections', v, 'status'),
    },
    {
      name: 'connections.open(·)',
      field: 'connectionId',
      accepts: CONNECTION_ID,
      call: (v) => connections.open(v),
      path: (v) => api('connections', v, 'command'),
    },
  ];
}

/** Records the path of every request to `origin` exactly as sent (any method, any path) and answers it. */
function recordAll(origin: string, seen: string[]): void {
  const scope = nock(origin).persist();
  for (const method of ['GET', 'PUT', 'POST', 'PATCH', 'DELETE']) {
    scope
      .intercept(() => true, method)
      .reply(function (uri) {
        seen.push(uri);
        const path = uri.split('?')[0] ?? '';
        if (method === 'GET') return [200, path.includes('/credentials/') ? '[]' : '{}', { 'content-type': 'application/json' }];
        if (method === 'POST')
          return [path.includes('/messages/') || path.endsWith('/claim') ? 202 : 201, '{}', { 'content-type': 'application/json' }];
        return [204];
      });
  }
}

/** `/v1/devices/a%2Fb` → `['v1', 'devices', 'a/b']`: the segments a server sees. */
function decodedSegments(uri: string): string[] {
  return (uri.split('?')[0] ?? '')
    .split('/')
    .slice(1)
    .map((segment) => decodeURIComponent(segment));
}

async function runTable(targets: Target[], seen: string[]): Promise<void> {
  for (const target of targets) {
    for (const [label, value] of Object.entries(HOSTILE) as [Hostile, string][]) {
      const what = `${target.name} with ${label}`;
      seen.length = 0;
      const outcome = await target.call(value).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (target.accepts.includes(label)) {
        assert.ok(seen.length > 0, `${what}: expected a request, got ${String(outcome)}`);
        assert.ok(!(outcome instanceof ValidationError), `${what}: ${String(outcome)}`);
        for (const uri of seen) assert.deepEqual(decodedSegments(uri), target.path(value), `${what}: sent ${uri}`);
      } else {
        assert.deepEqual(seen, [], `${what}: nothing may be sent`);
        assert.ok(outcome instanceof ValidationError, `${what}: expected a ValidationError, got ${String(outcome)}`);
        assert.equal(outcome.field, target.field, `${what}: ${outcome.message}`);
      }
    }
  }
}

describe('hostile IDs and path segments: a typed error or an intact request path', () => {
  const seen: string[] = [];
  before(() => nock.disableNetConnect());
  beforeEach(() => {
    seen.length = 0;
    recordAll(REGISTRY_ORIGIN, seen);
    recordAll(DITTO, seen);
  });
  afterEach(() => nock.cleanAll());

  it('through every registry method that takes a tenant ID, device ID or auth-id', async () => {
    await runTable(registryTargets(), seen);
  });

  it('with custom ID rules that let anything through, the path step still refuses what no URL can carry', async () => {
    // Hono makes the ID patterns configuration; what a pattern lets through still has to reach the server intact.
    const anything = /^[^]+$/;
    const unencodable: readonly Hostile[] = ['empty', 'dot', 'dot-dot', 'lone high surrogate', 'lone low surrogate', 'cut emoji'];
    const accepts = (Object.keys(HOSTILE) as Hostile[]).filter((name) => !unencodable.includes(name));
    const targets = registryTargets({ tenant: anything, device: anything }).filter((target) => target.field !== 'authId');
    await runTable(
      targets.map((target) => ({ ...target, accepts })),
      seen,
    );
  });

  it('through every Ditto method that takes a thing, policy, feature or connection ID, a label, subject or path', async () => {
    await runTable(dittoTargets(), seen);
  });

  it('lone surrogates name the field instead of throwing a URIError', async () => {
    const client = makeClient();
    const refusals: [Promise<unknown>, string][] = [
      [client.things.attributes(THING).get('a\uD800b'), 'path'],
      [client.messages.send({ thingId: THING, subject: 'a\uDC00' }), 'subject'],
      [client.policies.entries(P).get('x\uD83D'), 'label'],
      [client.policies.entries(P).subjects('DEFAULT').get('nginx:\uD800'), 'subjectId'],
      [client.policies.entries(P).resources('DEFAULT').get('thing:/features/\uDFFF'), 'resourceKey'],
      [client.connections.get('hono-\uD800'), 'connectionId'],
      [client.search.query({ filter: 'eq(attributes/x,"\uD800")' }), 'filter'],
      [client.things.get(THING, { fields: ['attributes/\uD800'] }), 'fields[0]'],
    ];
    for (const [call, field] of refusals) {
      await assert.rejects(call, (error: unknown) => {
        assert.ok(error instanceof ValidationError, String(error));
        assert.equal(error.field, field);
        assert.match(error.message, /unpaired UTF-16 surrogate/);
        return true;
      });
    }
    assert.deepEqual(seen, []);
  });
});

describe('unencodable text outside IDs and paths: a typed error, never a URIError', () => {
  const surrogate = 'a\uD800b';

  function refusesNaming(run: () => unknown, field: string): void {
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof ValidationError, `a ValidationError, not ${String(error)}`);
      assert.equal(error.field, field);
      assert.match(error.message, /unpaired UTF-16 surrogate/);
      return true;
    });
  }

  it('query values of a request', async () => {
    const http = new HttpClient({ service: 'test', baseUrl: 'http://127.0.0.1:9' });
    await assert.rejects(
      http.request({ method: 'GET', path: '/x', query: { q: surrogate } }),
      (error: unknown) => error instanceof ValidationError && error.field === 'query.q',
    );
    await assert.rejects(
      http.request({ method: 'GET', path: '/x', query: { [surrogate]: '1' } }),
      (error: unknown) => error instanceof ValidationError && error.field === 'query',
    );
  });

  it('MQTT property bags of a device', () => {
    refusesNaming(() => publishTopic('telemetry', undefined, { 'content-type': surrogate }), 'properties.content-type');
    refusesNaming(() => encodePropertyBag({ [surrogate]: 'x' }), 'properties');
    assert.equal(encodePropertyBag({ note: '温度 🙂' }), `?note=${encodeURIComponent('温度 🙂')}`, 'whole characters are encoded');
  });

  it("the messaging password in a tenant's Ditto connection", () => {
    refusesNaming(() => honoKafkaConnection('org.acme', { password: surrogate }), 'connection.password');
    refusesNaming(() => honoAmqpConnection('org.acme', { password: surrogate }), 'connection.password');
  });

  it('a secret given to the redactor is masked, not a crash', () => {
    const redactor = new Redactor();
    redactor.addSecret(`pw-${surrogate}`);
    assert.equal(redactor.redactText(`login with pw-${surrogate} failed`).includes(surrogate), false);
  });
});
