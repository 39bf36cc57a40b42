import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import {
  ENVIRONMENT_VARIABLES,
  ExponentialBackoff,
  Redactor,
  ValidationError,
  configFromEnv,
  idRules,
  jsonLineLogger,
  AbortError,
  TimeoutError,
} from '../../src/core/index.js';
import { raceAbort } from '../../src/core/abort.js';
import { beginCall } from '../../src/core/call.js';
import {
  jsonPointerPath,
  pathSegment,
  splitEntityId,
  validateAuthId,
  validateDeviceId,
  validateFeatureId,
  validatePolicyId,
  validateTenantId,
  validateThingId,
  validateDittoKey,
  validateMessageSubject,
  validateNamespace,
} from '../../src/core/ids.js';
import { redactingLogger } from '../../src/core/logger.js';
import { REDACTED, redactUrl } from '../../src/core/redact.js';
import { parseRetryAfter, sleep } from '../../src/core/retry.js';
import { timerDelay, MAX_TIMER_DELAY_MS } from '../../src/core/timers.js';

describe('ID rules', () => {
  it('accepts Cloud2Edge-style IDs', () => {
    assert.equal(validateTenantId('org.eclipse.packages.c2e'), 'org.eclipse.packages.c2e');
    assert.equal(validateDeviceId('org.eclipse.packages.c2e:demo-device'), 'org.eclipse.packages.c2e:demo-device');
    assert.equal(validateAuthId('demo-device'), 'demo-device');
    assert.equal(validateThingId('org.acme:lamp-1'), 'org.acme:lamp-1');
    assert.equal(validateThingId(':no-namespace'), ':no-namespace');
    assert.equal(validatePolicyId('org.acme:policy'), 'org.acme:policy');
    assert.equal(validateFeatureId('temperature'), 'temperature');
  });

  it('rejects bad IDs with a ValidationError naming the field', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => validateTenantId('bad tenant'), /^tenantId: /],
      [() => validateTenantId(''), /non-empty string/],
      [() => validateTenantId(42), /non-empty string/],
      [() => validateDeviceId('a/b'), /^deviceId: /],
      [() => validateAuthId('lamp@t1'), /contains "@"/],
      [() => validateAuthId('org.acme:lamp'), /contains ":"/],
      [() => validateAuthId('a b'), /auth-id pattern/],
      [() => validateThingId('no-colon'), /not a valid thing ID/],
      [() => validateThingId('1org:x'), /not a valid thing ID/],
      [() => validateThingId('org.acme:a/b'), /not a valid thing ID/],
      [() => validateThingId(`org:${'x'.repeat(300)}`), /at most 256/],
      [() => validatePolicyId('org..acme:x'), /not a valid policy ID/],
      [() => validateFeatureId('a/b'), /not a valid feature ID/],
    ];
    for (const [call, message] of cases) {
      assert.throws(call, (error: unknown) => error instanceof ValidationError && message.test(error.message));
    }
  });

  it('auth-id errors explain the auth-id@tenant login', () => {
    const error = (() => {
      try {
        validateAuthId('a@b');
      } catch (e) {
        return e as ValidationError;
      }
      return undefined;
    })();
    assert.match(error?.hint ?? '', /auth-id>@<tenant>/);
  });

  it('takes configured patterns', () => {
    const rules = idRules({ device: /^[a-z]+$/ });
    assert.throws(() => validateDeviceId('org.acme:lamp', rules), ValidationError);
    assert.equal(validateDeviceId('lamp', rules), 'lamp');
  });

  it('builds encoded JSON pointer paths and splits entity IDs', () => {
    assert.equal(jsonPointerPath('/a/b c/d'), 'a/b%20c/d');
    assert.equal(jsonPointerPath(''), '');
    assert.throws(() => jsonPointerPath('a//b'), /empty segment/);
    assert.deepEqual(splitEntityId('org.acme:lamp:1'), { namespace: 'org.acme', name: 'lamp:1' });
  });

  it('refuses "." and ".." as IDs and path segments, naming the field, whatever the configured patterns', () => {
    const anything = idRules({ tenant: /^.+$/, device: /^.+$/, feature: /^.+$/ });
    const dot = (field: string) => (error: unknown) =>
      error instanceof ValidationError && error.field === field && /dot segment/.test(error.message);
    for (const value of ['.', '..']) {
      assert.throws(() => validateTenantId(value), dot('tenantId'));
      assert.throws(() => validateTenantId(value, anything, 'tenant'), dot('tenant'));
      assert.throws(() => validateDeviceId(value), dot('deviceId'));
      assert.throws(() => validateDeviceId(value, anything), dot('deviceId'));
      assert.throws(() => validateFeatureId(value), dot('featureId'));
      assert.throws(() => validateFeatureId(value, anything), dot('featureId'));
      assert.throws(() => pathSegment(value, 'label'), dot('label'));
      assert.throws(() => pathSegment(value), dot('path segment'));
      assert.throws(() => jsonPointerPath(`a/${value}/b`, 'path'), dot('path'));
      assert.throws(() => jsonPointerPath(`/${value}`, 'subject'), dot('subject'));
    }
    // Dotted values that are not whole dot segments stay valid.
    assert.equal(validateTenantId('a.b'), 'a.b');
    assert.equal(validateTenantId('...'), '...');
    assert.equal(validateDeviceId('org.acme:lamp.1'), 'org.acme:lamp.1');
    assert.equal(validateDeviceId('.hidden'), '.hidden');
    assert.equal(validateFeatureId('a.b'), 'a.b');
    assert.equal(validateThingId('org.acme:lamp.1'), 'org.acme:lamp.1');
    assert.equal(validateThingId('org.acme:..'), 'org.acme:..');
    assert.equal(pathSegment('a.b'), 'a.b');
    assert.equal(jsonPointerPath('a.b/.../c..d/.x'), 'a.b/.../c..d/.x');
  });
});

describe("ID rules: one step for unencodable strings, Ditto's and Hono's exact character rules", () => {
  const isValidation = (field: string, message?: RegExp) => (error: unknown) =>
    error instanceof ValidationError && error.field === field && (message === undefined || message.test(error.message));
  const LONE = ['a\uD800b', '\uDC00', 'x\uD83D', '\uDE42x'];

  it('refuses lone surrogates everywhere with a ValidationError naming the field (encodeURIComponent threw a URIError)', () => {
    const surrogate = /unpaired UTF-16 surrogate \(U\+D[89A-F][0-9A-F]{2} at index \d+\)/;
    const anything = idRules({ tenant: /^.+$/, device: /^.+$/, authId: /^.+$/, feature: /^.+$/ });
    for (const value of LONE) {
      assert.throws(() => pathSegment(value, 'label'), isValidation('label', surrogate), JSON.stringify(value));
      assert.throws(() => jsonPointerPath(`a/${value}`, 'path'), isValidation('path', surrogate));
      assert.throws(() => validateTenantId(value, anything), isValidation('tenantId', surrogate));
      assert.throws(() => validateDeviceId(value, anything), isValidation('deviceId', surrogate));
      assert.throws(() => validateAuthId(value, anything), isValidation('authId', surrogate));
      assert.throws(() => validateThingId(`org.acme:${value}`), isValidation('thingId', surrogate));
      assert.throws(() => validatePolicyId(`org.acme:${value}`), isValidation('policyId', surrogate));
      assert.throws(() => validateFeatureId(value, anything), isValidation('featureId', surrogate));
      assert.throws(() => validateMessageSubject(`a/${value}`), isValidation('subject', surrogate));
    }
    // A whole surrogate pair (an emoji) is one character and fine.
    assert.equal(pathSegment('🙂'), '%F0%9F%99%82');
    assert.equal(validateThingId('org.acme:🙂'), 'org.acme:🙂');
  });

  it('pathSegment refuses the empty string (it would address the collection)', () => {
    assert.throws(() => pathSegment('', 'connectionId'), isValidation('connectionId'));
  });

  it('Ditto names, feature IDs and keys: U+0100 and up are fine, control characters and U+007F–U+00FF are not', () => {
    // Ditto RegexPatterns.ENTITY_NAME_REGEX / NO_CONTROL_CHARS_NO_SLASHES: [^\x00-\x1F\x7F-\xFF/], at most 256 long.
    const accepted = ['温度', '\u0100', '~', ' ', 'a b', 'a%2Fb', '?#', '🙂', 'Z\u0101hler', 'k'.repeat(256)];
    const refused = ['température', '\u007f', '\u0080', '\u00a0', '\u00ff', '\u001f', '\u0000', 'a/b', 'k'.repeat(257)];
    for (const name of accepted) {
      assert.equal(validateFeatureId(name), name, JSON.stringify(name));
      assert.equal(validateDittoKey(name, 'path'), name, JSON.stringify(name));
      if (name.length <= 200) assert.equal(validateThingId(`org.acme:${name}`), `org.acme:${name}`, JSON.stringify(name));
    }
    for (const name of refused) {
      assert.throws(() => validateFeatureId(name), isValidation('featureId'), JSON.stringify(name));
      assert.throws(() => validateDittoKey(name, 'path'), isValidation('path'), JSON.stringify(name));
      if (name.length <= 200) assert.throws(() => validatePolicyId(`org.acme:${name}`), isValidation('policyId'), JSON.stringify(name));
    }
    assert.throws(() => validateFeatureId('temp\u00e9rature'), isValidation('featureId', /contains U\+00E9 at index 4/));
    // The whole entity ID is at most 256 characters long.
    assert.equal(validateThingId(`a:${'x'.repeat(254)}`).length, 256);
    assert.throws(() => validateThingId(`a:${'x'.repeat(255)}`), isValidation('thingId', /at most 256/));
  });

  it('Ditto namespaces: segments separated by "." or "-" (Ditto 2.2+), each starting with a letter', () => {
    for (const namespace of ['org.acme', 'com.some-domain', 'foo.bar_42', 'a-b-c', 'A1']) {
      assert.equal(validateNamespace(namespace), namespace);
      assert.equal(validateThingId(`${namespace}:x`), `${namespace}:x`);
    }
    for (const namespace of ['1org', 'org.', '-org', 'org..acme', 'org.-acme', 'org.1acme', 'org acme', 'o温', 'é']) {
      assert.throws(() => validateNamespace(namespace), isValidation('namespace'), namespace);
      assert.throws(() => validateThingId(`${namespace}:x`), isValidation('thingId'), namespace);
    }
  });

  it('Hono IDs: ASCII only, as in Hono\'s defaults (tenant [a-zA-Z0-9-_.], device adds ":", auth-id adds "=")', () => {
    const long = 'x'.repeat(1000);
    for (const tenant of ['a-b_c.D9', long]) assert.equal(validateTenantId(tenant), tenant);
    for (const tenant of ['a:b', 'a=b', '温度', 'caf\u00e9', '\u0100', '~', 'a b', '%2F', 'a/b', '\u007f']) {
      assert.throws(() => validateTenantId(tenant), isValidation('tenantId'), tenant);
    }
    for (const device of ['org.acme:lamp-1', long]) assert.equal(validateDeviceId(device), device);
    for (const device of ['a=b', 'org.acme:温度', 'caf\u00e9', '~', 'a/b', 'a?b', 'a#b']) {
      assert.throws(() => validateDeviceId(device), isValidation('deviceId'), device);
    }
    for (const authId of ['lamp-1', 'a=b', 'a.b_c']) assert.equal(validateAuthId(authId), authId);
    for (const authId of ['a:b', 'a@b', '温度', 'caf\u00e9', 'a b'])
      assert.throws(() => validateAuthId(authId), isValidation('authId'), authId);
  });
});

describe('redaction', () => {
  it('masks secret fields at any depth and registered secret values in text', () => {
    const redactor = new Redactor().addSecret('hunter22');
    const out = redactor.redact({
      user: 'u',
      password: 'hunter22',
      nested: [{ 'pwd-plain': 'x1', key: 'abc', 'auth-id': 'lamp-1', note: 'pw is hunter22' }],
      headers: { authorization: 'Basic abc' },
    });
    assert.deepEqual(out, {
      user: 'u',
      password: REDACTED,
      nested: [{ 'pwd-plain': REDACTED, key: REDACTED, 'auth-id': 'lamp-1', note: `pw is ${REDACTED}` }],
      headers: { authorization: REDACTED },
    });
    assert.equal(redactor.redactText(`x ${Buffer.from('hunter22').toString('base64')}`), `x ${REDACTED}`);
  });

  it('masks a secret that contains another one whole, and the URL userinfo form of a secret', () => {
    const redactor = new Redactor().addSecret('secret').addSecret('secret-devops-2024');
    assert.equal(redactor.redactText('pw=secret-devops-2024'), `pw=${REDACTED}`);
    const password = 'p@ss;w=rd$&+';
    redactor.addSecret(password);
    const url = new URL('http://ditto@host');
    url.password = password;
    assert.ok(!redactor.redactText(`reached ${url.href}`).includes(url.password), url.password);
  });

  it('strips user info and secret query parameters from URLs', () => {
    assert.equal(redactUrl('https://u:p@host:1/a?password=x&size=2'), `https://host:1/a?password=${encodeURIComponent(REDACTED)}&size=2`);
  });

  it('the redacting logger never writes a registered secret', () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const redactor = new Redactor().addSecret('topsecret');
    const logger = redactingLogger(jsonLineLogger({ level: 'debug', stream }), redactor);
    logger.info('login with topsecret', { password: 'topsecret', detail: 'topsecret!' });
    logger.debug('debug line');
    assert.equal(chunks.length, 2);
    assert.ok(!chunks.join('').includes('topsecret'));
    const first = JSON.parse(chunks[0] ?? '{}') as Record<string, unknown>;
    assert.equal(first.level, 'info');
    assert.equal(first.password, REDACTED);
  });
});

describe('retry policy', () => {
  it('grows exponentially and caps, with no jitter', () => {
    const policy = new ExponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 6, jitter: 'none' });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => policy.nextDelayMs(n, new Error())),
      [100, 200, 400, 800, 1000],
    );
    assert.equal(policy.nextDelayMs(6, new Error()), undefined);
  });

  it('full and equal jitter stay within their bounds', () => {
    const low = new ExponentialBackoff({ initialDelayMs: 100, jitter: 'full', random: () => 0 });
    const high = new ExponentialBackoff({ initialDelayMs: 100, jitter: 'full', random: () => 0.999 });
    assert.equal(low.nextDelayMs(2, null), 0);
    assert.equal(high.nextDelayMs(2, null), 200);
    const equal = new ExponentialBackoff({ initialDelayMs: 100, jitter: 'equal', random: () => 0 });
    assert.equal(equal.nextDelayMs(2, null), 100);
  });

  it('parses Retry-After as seconds or a date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  it('sleep rejects on abort', async () => {
    const controller = new AbortController();
    const pending = sleep(10_000, controller.signal);
    controller.abort();
    await assert.rejects(pending, AbortError);
  });

  it("sleep longer than Node's timer limit (2^31-1 ms) still waits instead of firing at once", async () => {
    const controller = new AbortController();
    let settled = false;
    const pending = sleep(3_000_000_000, controller.signal).then(
      () => (settled = true),
      () => undefined,
    );
    // Node runs an overflowing timer after 1 ms; let several timer turns pass.
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(settled, false, 'sleep(3e9) resolved at once');
    controller.abort();
    await pending;
  });
});

describe('timerDelay', () => {
  it('keeps ordinary delays and clamps to what setTimeout can take', () => {
    assert.equal(MAX_TIMER_DELAY_MS, 2_147_483_647);
    assert.equal(timerDelay(0), 0);
    assert.equal(timerDelay(1500), 1500);
    assert.equal(timerDelay(MAX_TIMER_DELAY_MS), MAX_TIMER_DELAY_MS);
    assert.equal(timerDelay(MAX_TIMER_DELAY_MS + 1), MAX_TIMER_DELAY_MS);
    assert.equal(timerDelay(3_000_000_000), MAX_TIMER_DELAY_MS);
    assert.equal(timerDelay(Number.POSITIVE_INFINITY), MAX_TIMER_DELAY_MS);
    assert.equal(timerDelay(-5), 0);
    assert.equal(timerDelay(Number.NaN), 0);
  });
});

describe('raceAbort', () => {
  it('settles like the promise without a signal or before it fires', async () => {
    assert.equal(await raceAbort(Promise.resolve(7), undefined, () => new Error('x')), 7);
    const controller = new AbortController();
    assert.equal(await raceAbort(Promise.resolve(8), controller.signal, () => new Error('x')), 8);
    await assert.rejects(
      raceAbort(Promise.reject(new Error('boom')), controller.signal, () => new Error('x')),
      /boom/,
    );
  });

  it('rejects with the abort error when the signal fires first, or already fired', async () => {
    const controller = new AbortController();
    const never = new Promise<number>(() => undefined);
    const raced = raceAbort(never, controller.signal, () => new AbortError('wait'));
    controller.abort();
    await assert.rejects(raced, AbortError);
    await assert.rejects(
      raceAbort(Promise.reject(new Error('late')), controller.signal, () => new AbortError('wait')),
      AbortError,
    );
  });
});

describe('beginCall', () => {
  it('ends on the caller’s signal, on a further signal (endedBy) or at its deadline, each with its own error', async () => {
    const caller = new AbortController();
    const byCaller = beginCall('read x', { signal: caller.signal });
    const pending = byCaller.run(() => new Promise(() => undefined));
    caller.abort(new Error('user gave up'));
    await assert.rejects(pending, (error: unknown) => error instanceof AbortError);
    byCaller.done();

    const closing = new AbortController();
    const closed = new Error('closed');
    const byClose = beginCall('read y', {}, { alsoOn: closing.signal, endedBy: () => closed });
    const waiting = byClose.run(() => new Promise(() => undefined));
    closing.abort();
    await assert.rejects(waiting, (error: unknown) => error === closed);
    byClose.done();

    const late = beginCall('read z', { timeoutMs: 20 });
    await assert.rejects(
      late.run(() => new Promise(() => undefined)),
      (error: unknown) => error instanceof TimeoutError && /read z/.test(error.message),
    );
    late.done();

    const already = beginCall('read w', { signal: AbortSignal.abort() });
    assert.equal(already.signal.aborted, true);
    assert.throws(() => already.throwIfEnded(), AbortError);
    already.done();
  });

  it('leaves no listener on long-lived signals once done(): thousands of calls on one client', async () => {
    const client = new AbortController();
    const caller = new AbortController();
    for (let i = 0; i < 5_000; i += 1) {
      const call = beginCall('put', { signal: caller.signal, timeoutMs: 60_000 }, { alsoOn: client.signal });
      assert.equal(await call.run(async () => i), i);
      call.done();
    }
    assert.equal(getEventListeners(client.signal, 'abort').length, 0);
    assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
  });
});

describe('configFromEnv', () => {
  const c2eEnv = {
    REGISTRY_BASE_URL: 'http://10.0.0.5:28080',
    HTTP_ADAPTER_BASE_URL: 'https://10.0.0.5:30443',
    MQTT_ADAPTER_IP: '10.0.0.5',
    MQTT_ADAPTER_PORT_MQTT: '31883',
    MQTT_ADAPTER_PORT_MQTTS: '30883',
    DITTO_API_BASE_URL: 'http://10.0.0.5:38443',
    DITTO_DEVOPS_PWD: 'devops-secret',
    KAFKA_IP: '10.0.0.5',
    KAFKA_PORT_TCP_KAFKA: '9094',
    AMQP_NETWORK_IP: '10.0.0.5',
    AMQP_NETWORK_PORT_AMQP: '15672',
  };

  it('reads what the Cloud2Edge env script prints', () => {
    const config = configFromEnv(c2eEnv);
    assert.equal(config.registry?.baseUrl, 'http://10.0.0.5:28080/v1');
    assert.equal(config.httpAdapter?.baseUrl, 'https://10.0.0.5:30443');
    assert.deepEqual(config.mqttAdapter, { host: '10.0.0.5', port: 31883, tlsPort: 30883 });
    assert.deepEqual(config.ditto, {
      baseUrl: 'http://10.0.0.5:38443',
      username: 'ditto',
      password: 'ditto',
      devopsUsername: 'devops',
      devopsPassword: 'devops-secret',
    });
    assert.deepEqual(config.kafka, { bootstrapServers: ['10.0.0.5:9094'] });
    assert.deepEqual(config.amqpNetwork, { host: '10.0.0.5', port: 15672 });
  });

  it('builds the HTTP adapter URL from IP and port, keeps /v1 once, and applies TwinLedger variables', () => {
    const config = configFromEnv({
      REGISTRY_BASE_URL: 'http://r:1/v1/',
      HTTP_ADAPTER_IP: 'h',
      HTTP_ADAPTER_PORT_HTTP: '8080',
      TWINLEDGER_MESSAGING: 'amqp',
      TWINLEDGER_CA_FILE: '/ca.pem',
      TWINLEDGER_TLS_SERVER_NAME: 'c2e-hono',
      TWINLEDGER_TIMEOUT_MS: '2500',
    });
    assert.equal(config.registry?.baseUrl, 'http://r:1/v1');
    assert.equal(config.httpAdapter?.baseUrl, 'http://h:8080');
    const both = { HTTP_ADAPTER_IP: 'h', HTTP_ADAPTER_PORT_HTTP: '8080', HTTP_ADAPTER_PORT_HTTPS: '8443' };
    assert.equal(configFromEnv(both).httpAdapter?.baseUrl, 'http://h:8080', 'no CA: the plain port');
    assert.equal(configFromEnv({ ...both, TWINLEDGER_CA_FILE: '/ca.pem' }).httpAdapter?.baseUrl, 'https://h:8443', 'with a CA: HTTPS');
    assert.equal(config.messaging, 'amqp');
    assert.deepEqual(config.tls, { caFile: '/ca.pem', serverName: 'c2e-hono' });
    assert.equal(config.timeoutMs, 2500);
  });

  it('rejects bad values naming the variable', () => {
    assert.throws(() => configFromEnv({ REGISTRY_BASE_URL: 'ftp://x' }), /REGISTRY_BASE_URL/);
    assert.throws(() => configFromEnv({ MQTT_ADAPTER_IP: 'h', MQTT_ADAPTER_PORT_MQTT: '99999' }), /MQTT_ADAPTER_PORT_MQTT/);
    assert.throws(() => configFromEnv({ TWINLEDGER_MESSAGING: 'mqtt' }), /TWINLEDGER_MESSAGING/);
    assert.throws(() => configFromEnv({ TWINLEDGER_TIMEOUT_MS: '-1' }), /TWINLEDGER_TIMEOUT_MS/);
    assert.throws(() => configFromEnv({ HTTP_ADAPTER_IP: 'h' }), /HTTP_ADAPTER_PORT_HTTP/);
    // A password inside a URL is refused, and the message does not repeat it.
    for (const value of [
      'http://ditto:s3cr3t-Pw@ditto.local:8080',
      'ws://ditto:s3cr3t-Pw@ditto.local:8080',
      'ditto:s3cr3t-Pw@10.0.0.1:8080',
    ]) {
      assert.throws(
        () => configFromEnv({ DITTO_API_BASE_URL: value }),
        (error: unknown) =>
          error instanceof ValidationError && error.field === 'DITTO_API_BASE_URL' && !error.message.includes('s3cr3t-Pw'),
      );
    }
  });

  it('lets explicit options win per section', () => {
    const config = configFromEnv(c2eEnv, { ditto: { baseUrl: 'http://other', password: 'pw2' } });
    assert.equal(config.ditto?.baseUrl, 'http://other');
    assert.equal(config.ditto?.password, 'pw2');
    assert.equal(config.ditto?.devopsPassword, 'devops-secret');
  });

  it('reads where records are anchored and payloads stored: a Fabric peer and identity, a Kubo node, the data folder', () => {
    const fabricEnv = {
      TWINLEDGER_FABRIC_PEER: 'peer0.org1.example.com:7051',
      TWINLEDGER_FABRIC_TLS_CA_FILE: '/crypto/peer0/tls/ca.crt',
      TWINLEDGER_FABRIC_MSP_ID: 'Org1MSP',
      TWINLEDGER_FABRIC_CERT_FILE: '/crypto/user1/signcerts/cert.pem',
      TWINLEDGER_FABRIC_KEY_FILE: '/crypto/user1/keystore/priv_sk',
    };
    const config = configFromEnv({ ...fabricEnv, TWINLEDGER_KUBO_URL: '127.0.0.1:5001', TWINLEDGER_DATA_DIR: '/var/lib/tl' });
    assert.deepEqual(config.fabric, {
      peerEndpoint: 'peer0.org1.example.com:7051',
      tlsRootCertFile: '/crypto/peer0/tls/ca.crt',
      mspId: 'Org1MSP',
      certificateFile: '/crypto/user1/signcerts/cert.pem',
      privateKeyFile: '/crypto/user1/keystore/priv_sk',
      channel: 'mychannel',
      chaincode: 'twinledger',
    });
    assert.deepEqual(config.kubo, { url: 'http://127.0.0.1:5001' });
    assert.equal(config.dataDir, '/var/lib/tl');
    const full = configFromEnv({
      ...fabricEnv,
      TWINLEDGER_FABRIC_HOST_ALIAS: 'peer0.org1.example.com',
      TWINLEDGER_FABRIC_CHANNEL: 'twins',
      TWINLEDGER_FABRIC_CHAINCODE: 'tl',
      TWINLEDGER_FABRIC_TLS_CLIENT_CERT_FILE: '/c.pem',
      TWINLEDGER_FABRIC_TLS_CLIENT_KEY_FILE: '/k.pem',
      TWINLEDGER_KUBO_URL: 'https://ipfs.example.com:5001',
      TWINLEDGER_KUBO_TOKEN: 'kubo-secret-token',
    });
    assert.equal(full.fabric?.hostAlias, 'peer0.org1.example.com');
    assert.equal(full.fabric?.channel, 'twins');
    assert.equal(full.fabric?.chaincode, 'tl');
    assert.equal(full.fabric?.tlsClientKeyFile, '/k.pem');
    assert.deepEqual(full.kubo?.credentials, { type: 'bearer', token: 'kubo-secret-token' });
    assert.deepEqual(
      configFromEnv({ TWINLEDGER_KUBO_URL: 'http://k:5001', TWINLEDGER_KUBO_USERNAME: 'u', TWINLEDGER_KUBO_PASSWORD: 'p' }).kubo
        ?.credentials,
      { type: 'basic', username: 'u', password: 'p' },
    );
    const refused: Array<[Record<string, string>, string]> = [
      [{ ...fabricEnv, TWINLEDGER_FABRIC_MSP_ID: '' }, 'TWINLEDGER_FABRIC_MSP_ID'],
      [{ ...fabricEnv, TWINLEDGER_FABRIC_TLS_CA_FILE: '' }, 'TWINLEDGER_FABRIC_TLS_CA_FILE'],
      [{ ...fabricEnv, TWINLEDGER_FABRIC_PEER: 'grpcs://peer0:7051' }, 'TWINLEDGER_FABRIC_PEER'],
      [{ ...fabricEnv, TWINLEDGER_FABRIC_TLS_CLIENT_CERT_FILE: '/c.pem' }, 'TWINLEDGER_FABRIC_TLS_CLIENT_KEY_FILE'],
      [{ TWINLEDGER_KUBO_TOKEN: 't' }, 'TWINLEDGER_KUBO_URL'],
      [{ TWINLEDGER_KUBO_URL: 'http://k:5001', TWINLEDGER_KUBO_USERNAME: 'u' }, 'TWINLEDGER_KUBO_PASSWORD'],
      [
        { TWINLEDGER_KUBO_URL: 'http://k:5001', TWINLEDGER_KUBO_TOKEN: 't', TWINLEDGER_KUBO_PASSWORD: 'p', TWINLEDGER_KUBO_USERNAME: 'u' },
        'TWINLEDGER_KUBO_TOKEN',
      ],
      [{ TWINLEDGER_KUBO_URL: 'http://user:pw-in-url@k:5001' }, 'TWINLEDGER_KUBO_URL'],
    ];
    for (const [env, field] of refused) {
      assert.throws(
        () => configFromEnv(env),
        (error: unknown) => error instanceof ValidationError && error.field === field && !error.message.includes('pw-in-url'),
        field,
      );
    }
  });

  it('documents every variable it reads', () => {
    assert.ok(Object.keys(ENVIRONMENT_VARIABLES).length >= 20);
    assert.deepEqual(configFromEnv({}), {});
  });
});
