/**
 * Kafka northbound without a broker: Hono's header codec, option validation and defaults, the mapping of
 * command responses to results and errors, and input validation before any I/O.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../src/core/errors.js';
import { ExponentialBackoff } from '../../src/core/retry.js';
import type { LogFields, Logger } from '../../src/core/logger.js';
import { configFromEnv } from '../../src/core/config.js';
import { commandResponse, DELIVERY_FAILURE_NOTIFICATION_CONTENT_TYPE } from '../../src/northbound/decode.js';
import { CommandFailedError, CommandRejectedError, DeviceNotConnectedError, MalformedMessageError } from '../../src/northbound/errors.js';
import { KafkaNorthbound } from '../../src/northbound/kafka.js';
import { settleCommand, type PendingCommand } from '../../src/northbound/kafka-commands.js';
import { NorthboundNotConnectedError } from '../../src/northbound/errors.js';
import { isConnectionError } from '../../src/northbound/kafka-reachability.js';
import { decodeHeaders, decodeHeaderValue, encodeHeaders, encodeHeaderValue } from '../../src/northbound/kafka-headers.js';
import { resolveKafkaOptions } from '../../src/northbound/kafka-options.js';
import { honoTopic, isUnknownTopic } from '../../src/northbound/kafka-topics.js';
import type { CommandResponse, PropertyValue } from '../../src/northbound/types.js';

const BROKERS = ['127.0.0.1:1'];

describe('Kafka header codec (Hono: UTF-8, non-strings as JSON)', () => {
  it('encodes strings as UTF-8 and everything else as JSON', () => {
    assert.equal(encodeHeaderValue('org.acme:lamp-1').toString('utf8'), 'org.acme:lamp-1');
    assert.equal(encodeHeaderValue('Grüße ☀').toString('utf8'), 'Grüße ☀');
    assert.equal(encodeHeaderValue(1).toString(), '1');
    assert.equal(encodeHeaderValue(1732473600123).toString(), '1732473600123');
    assert.equal(encodeHeaderValue(true).toString(), 'true');
    assert.equal(encodeHeaderValue(null).toString(), 'null');
    assert.equal(encodeHeaderValue('1').toString(), '1', 'a string stays a string, without quotes');
    const headers = encodeHeaders({ device_id: 'dev-1', 'response-required': true, qos: 1, skipped: undefined });
    assert.deepEqual(Object.keys(headers), ['device_id', 'response-required', 'qos']);
    assert.ok(Buffer.isBuffer(headers.device_id));
  });

  it('decodes the headers Hono types as numbers and booleans, and leaves every other header a string', () => {
    const decoded = decodeHeaders({
      device_id: Buffer.from('org.acme:lamp-1'),
      'content-type': Buffer.from('application/json'),
      'creation-time': Buffer.from('1732473600123'),
      qos: Buffer.from('1'),
      ttd: Buffer.from('-1'),
      ttl: Buffer.from('60000'),
      status: Buffer.from('200'),
      'response-required': Buffer.from('true'),
      orig_adapter: Buffer.from('hono-mqtt'),
      serial: Buffer.from('007'),
      flag: Buffer.from('true'),
      text: 'already a string',
    });
    const expected: Record<string, PropertyValue> = {
      device_id: 'org.acme:lamp-1',
      'content-type': 'application/json',
      'creation-time': 1732473600123,
      qos: 1,
      ttd: -1,
      ttl: 60000,
      status: 200,
      'response-required': true,
      orig_adapter: 'hono-mqtt',
      serial: '007',
      flag: 'true',
      text: 'already a string',
    };
    assert.deepEqual(decoded, expected);
  });

  it('round-trips what it encodes', () => {
    const values = { device_id: 'dev-1', subject: 'switch', 'correlation-id': 'c-1', 'response-required': true, status: 503, custom: 'x' };
    assert.deepEqual(decodeHeaders(encodeHeaders(values)), values);
  });

  it('takes the first value of a repeated header and skips empty ones', () => {
    assert.deepEqual(decodeHeaders({ device_id: [Buffer.from('first'), Buffer.from('second')], empty: undefined }), { device_id: 'first' });
    assert.deepEqual(decodeHeaders(undefined), {});
  });

  it('rejects bad JSON, wrong types and invalid UTF-8 as MalformedMessageError naming the header', () => {
    const cases: Array<[string, Buffer]> = [
      ['qos', Buffer.from('one')],
      ['creation-time', Buffer.from('{')],
      ['ttd', Buffer.from('"30"')],
      ['status', Buffer.from('NaN')],
      ['response-required', Buffer.from('1')],
      ['device_id', Buffer.from([0x64, 0xff, 0xfe])],
    ];
    for (const [name, raw] of cases) {
      assert.throws(
        () => decodeHeaderValue(name, raw),
        (error: unknown) => error instanceof MalformedMessageError && error.message.includes(`"${name}"`),
        name,
      );
    }
  });
});

describe('KafkaNorthbound options', () => {
  it('fills in documented defaults', () => {
    const options = resolveKafkaOptions({ brokers: BROKERS });
    assert.match(options.groupId, /^twinledger-[0-9a-f]{8}$/);
    assert.equal(options.clientId, 'twinledger');
    assert.equal(options.fromBeginning, false);
    assert.equal(options.prefetch, 32);
    assert.equal(options.commandTimeoutMs, 10_000);
    assert.equal(options.connectTimeoutMs, 10_000);
    assert.equal(options.sessionTimeoutMs, 30_000);
    assert.equal(options.heartbeatIntervalMs, 3_000);
    assert.equal(options.fetchMaxWaitMs, 500);
    assert.equal(options.commitIntervalMs, 1_000);
    assert.equal(options.commitThreshold, 200);
    assert.equal(options.commitErrorAfterMs, 30_000);
    assert.equal(options.commandsWhileDisconnected, 'wait');
    assert.equal(options.discardExpired, true);
    assert.ok(options.reconnect.policy instanceof ExponentialBackoff);
    assert.equal((options.reconnect.policy as ExponentialBackoff).maxAttempts, Number.POSITIVE_INFINITY);
    assert.equal(options.kafka.connectionTimeout, 3_000);
    assert.equal(options.kafka.requestTimeout, 30_000);
    assert.equal(options.kafka.ssl, undefined);
    assert.equal(options.kafka.sasl, undefined);
    assert.notEqual(resolveKafkaOptions({ brokers: BROKERS }).groupId, options.groupId, 'a new group per client');
  });

  it('validates before connecting, naming the field', () => {
    const bad: Array<[Parameters<typeof resolveKafkaOptions>[0], string]> = [
      [{ brokers: [] }, 'brokers'],
      [{ brokers: ['kafka'] }, 'brokers[0]'],
      [{ brokers: ['kafka:9094', 'http://x:1'] }, 'brokers[1]'],
      [{ brokers: BROKERS, groupId: 'has space' }, 'groupId'],
      [{ brokers: BROKERS, prefetch: 0 }, 'prefetch'],
      [{ brokers: BROKERS, commitIntervalMs: 1.5 }, 'commitIntervalMs'],
      [{ brokers: BROKERS, commandTimeoutMs: 2 ** 31 }, 'commandTimeoutMs'],
      [{ brokers: BROKERS, commitErrorAfterMs: 0 }, 'commitErrorAfterMs'],
      [{ brokers: BROKERS, commandsWhileDisconnected: 'never' as 'fail' }, 'commandsWhileDisconnected'],
      [{ brokers: BROKERS, credentials: { mechanism: 'gssapi' as 'plain', username: 'u', password: 'p' } }, 'credentials.mechanism'],
      [{ brokers: BROKERS, credentials: { mechanism: 'plain', username: '', password: 'p' } }, 'credentials.username'],
      [{ brokers: BROKERS, tls: { caFile: '/nonexistent/ca.crt' } }, 'tls.caFile'],
    ];
    for (const [options, field] of bad) {
      assert.throws(
        () => resolveKafkaOptions(options),
        (error: unknown) => error instanceof ValidationError && error.field === field,
        field,
      );
    }
  });

  it("refuses Ditto's consumer group naming so TwinLedger never splits records with Ditto", () => {
    for (const groupId of ['org.acme_hono-kafka-connection-for-org_acme', 'org.eclipse.packages.c2e_{{ connection:id }}']) {
      assert.throws(
        () => resolveKafkaOptions({ brokers: BROKERS, groupId }),
        (error: unknown) => error instanceof ValidationError && error.field === 'groupId',
      );
    }
    assert.equal(resolveKafkaOptions({ brokers: BROKERS, groupId: 'my_app.audit' }).groupId, 'my_app.audit');
  });

  it('builds SASL and TLS settings for Cloud2Edge and redacts the password in logs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinledger-kafka-unit-'));
    try {
      const caFile = join(dir, 'ca.crt');
      writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const lines: Array<[string, LogFields | undefined]> = [];
      const logger: Logger = {
        debug: (message, fields) => lines.push([message, fields]),
        info: (message, fields) => lines.push([message, fields]),
        warn: (message, fields) => lines.push([message, fields]),
        error: (message, fields) => lines.push([message, fields]),
      };
      const options = resolveKafkaOptions({
        brokers: ['192.168.1.10:9094'],
        credentials: { mechanism: 'scram-sha-512', username: 'hono', password: 'hono-secret' },
        tls: { caFile, serverName: 'c2e-kafka' },
        logger,
      });
      assert.deepEqual(options.kafka.sasl, { mechanism: 'scram-sha-512', username: 'hono', password: 'hono-secret' });
      const ssl = options.kafka.ssl as { ca?: string[]; servername?: string; rejectUnauthorized?: boolean };
      assert.equal(ssl.servername, 'c2e-kafka');
      assert.equal(ssl.rejectUnauthorized, true);
      assert.match(ssl.ca?.[0] ?? '', /BEGIN CERTIFICATE/);
      options.logger.error('SASL failed for hono/hono-secret', { password: 'hono-secret', detail: 'with hono-secret inside' });
      assert.equal(JSON.stringify(lines).includes('hono-secret'), false, JSON.stringify(lines));
      assert.deepEqual(resolveKafkaOptions({ brokers: BROKERS, tls: true }).kafka.ssl, { rejectUnauthorized: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes brokers, TLS, logger and ID rules from TwinLedger configuration', () => {
    const config = configFromEnv({ KAFKA_IP: '192.168.1.10', TWINLEDGER_TLS_SERVER_NAME: 'c2e-kafka' });
    const options = KafkaNorthbound.optionsFromConfig(config, {
      credentials: { mechanism: 'plain', username: 'ditto-c2e', password: 'verysecret' },
    });
    assert.deepEqual(options.brokers, ['192.168.1.10:9094']);
    assert.deepEqual(options.tls, { serverName: 'c2e-kafka' });
    assert.equal(options.credentials?.username, 'ditto-c2e');
  });
});

describe('Kafka command responses', () => {
  const target = { tenantId: 'org.acme', deviceId: 'org.acme:lamp-1', name: 'switch' };
  const response = (status: number, contentType: string | undefined, body: string): CommandResponse =>
    commandResponse({ status, contentType, payload: Buffer.from(body), correlationId: 'c-1', properties: { status } });
  const settle = (r: CommandResponse): { value?: CommandResponse; error?: Error } => {
    const outcome: { value?: CommandResponse; error?: Error } = {};
    const pending: PendingCommand = { target, resolve: (v) => (outcome.value = v), reject: (e) => (outcome.error = e) };
    settleCommand(pending, r);
    return outcome;
  };

  it('resolves device responses below 400 and fails the others with CommandFailedError', () => {
    assert.equal(settle(response(200, 'application/json', '{"on":true}')).value?.status, 200);
    assert.equal(settle(response(204, undefined, '')).value?.status, 204);
    const failed = settle(response(500, 'text/plain', 'device broke')).error;
    assert.ok(failed instanceof CommandFailedError);
    assert.equal(failed.status, 500);
    assert.equal(failed.response.text(), 'device broke');
  });

  it('turns delivery-failure notifications into CommandRejectedError (4xx) or DeviceNotConnectedError (5xx)', () => {
    const rejected = settle(response(400, DELIVERY_FAILURE_NOTIFICATION_CONTENT_TYPE, '{"error":"payload too large"}')).error;
    assert.ok(rejected instanceof CommandRejectedError);
    assert.match(rejected.message, /400: payload too large/);
    const offline = settle(
      response(503, `${DELIVERY_FAILURE_NOTIFICATION_CONTENT_TYPE}; charset=utf-8`, '{"error":"device not connected"}'),
    ).error;
    assert.ok(offline instanceof DeviceNotConnectedError);
    assert.match(offline.message, /503: device not connected/);
    assert.equal(offline.command, 'switch');
    const notJson = settle(response(500, DELIVERY_FAILURE_NOTIFICATION_CONTENT_TYPE, 'plain text')).error;
    assert.ok(notJson instanceof DeviceNotConnectedError);
    assert.match(notJson.message, /500: plain text/);
  });

  it('rejects a response without a valid status as malformed', () => {
    assert.throws(
      () =>
        commandResponse({ status: 'two hundred', contentType: undefined, payload: Buffer.alloc(0), correlationId: 'c', properties: {} }),
      MalformedMessageError,
    );
  });
});

describe('KafkaNorthbound input validation (no broker needed)', () => {
  const nb = new KafkaNorthbound({ brokers: BROKERS });

  it('checks tenant IDs when the stream is created and against the Kafka topic length', () => {
    assert.throws(() => nb.telemetry('bad tenant/x'), ValidationError);
    assert.throws(() => nb.events(''), ValidationError);
    assert.throws(
      () => nb.telemetry('t'.repeat(228)),
      (error: unknown) => error instanceof ValidationError && /at most 227/.test(error.message),
    );
    assert.ok(nb.telemetry('t'.repeat(227)));
    assert.throws(() => nb.events('org.acme', { prefetch: -1 }), ValidationError);
  });

  it('checks command arguments and refuses to override the headers it sets itself', async () => {
    await assert.rejects(() => nb.sendCommand('bad tenant', 'dev-1', 'switch'), ValidationError);
    await assert.rejects(() => nb.sendCommand('org.acme', 'bad device/1', 'switch'), ValidationError);
    await assert.rejects(() => nb.sendOneWayCommand('org.acme', 'dev-1', ''), ValidationError);
    await assert.rejects(() => nb.sendCommand('org.acme', 'dev-1', 'switch', undefined, { timeoutMs: 0 }), ValidationError);
    for (const header of ['correlation-id', 'device_id', 'subject', 'response-required', 'content-type']) {
      await assert.rejects(
        () => nb.sendCommand('org.acme', 'dev-1', 'switch', undefined, { properties: { [header]: 'x' } }),
        (error: unknown) => error instanceof ValidationError && error.field === `properties.${header}`,
      );
    }
    await assert.rejects(
      () => nb.sendOneWayCommand('org.acme', 'dev-1', 'switch', undefined, { properties: { nested: {} as unknown as string } }),
      ValidationError,
    );
  });

  it('names Hono topics and recognises topics that are still being created', () => {
    assert.equal(honoTopic('telemetry', 'org.acme'), 'hono.telemetry.org.acme');
    assert.equal(honoTopic('command_response', 'org.acme'), 'hono.command_response.org.acme');
    assert.equal(isUnknownTopic({ type: 'UNKNOWN_TOPIC_OR_PARTITION' }), true);
    assert.equal(isUnknownTopic({ type: 'LEADER_NOT_AVAILABLE' }), true);
    assert.equal(isUnknownTopic(new Error('x')), false);
    assert.equal(isUnknownTopic(null), false);
  });

  it('reports a closed client while it closes', async () => {
    const client = new KafkaNorthbound({ brokers: BROKERS });
    const closing = client.close();
    assert.throws(
      () => client.telemetry('org.acme')[Symbol.asyncIterator](),
      (error: unknown) =>
        error instanceof NorthboundNotConnectedError &&
        error.reason === 'closed' &&
        /Kafka northbound client is closed/.test(error.message),
    );
    await closing;
  });

  it('tells connection failures (which make Kafka "known down") from other errors, through kafkajs wrappers', () => {
    const named = (name: string, message: string, cause?: unknown) => Object.assign(new Error(message, { cause }), { name });
    assert.equal(isConnectionError(named('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092')), true);
    assert.equal(isConnectionError(named('KafkaJSNonRetriableError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092')), true);
    assert.equal(
      isConnectionError(named('KafkaJSNumberOfRetriesExceeded', 'x', named('KafkaJSConnectionClosedError', 'Closed connection'))),
      true,
    );
    assert.equal(isConnectionError(named('KafkaJSRequestTimeoutError', 'Request Produce(key: 0, version: 7) timed out')), true);
    assert.equal(isConnectionError(named('KafkaJSProtocolError', 'Not authorized to access topics: [Topic authorization failed.]')), false);
    assert.equal(isConnectionError(new Error('something else')), false);
    assert.equal(isConnectionError('Connection error'), false);
  });
});
