import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import rhea, { type Message } from 'rhea';
import { ValidationError } from '../../src/core/errors.js';
import { ExponentialBackoff, noRetry } from '../../src/core/retry.js';
import { AmqpNorthbound } from '../../src/northbound/amqp.js';
import { applicationProperties, bodyBytes, decodeCommandResponse, decodeDownstream, idString } from '../../src/northbound/amqp-message.js';
import {
  AMQP_DEFAULTS,
  HONO_ADDRESSES,
  RABBITMQ_ADDRESSING,
  resolveAddress,
  resolveAmqpOptions,
} from '../../src/northbound/amqp-options.js';
import { MalformedMessageError } from '../../src/northbound/errors.js';

describe('resolveAmqpOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveAmqpOptions({ host: 'router.example' });
    assert.equal(o.port, AMQP_DEFAULTS.port);
    assert.equal(o.port, 15672);
    assert.equal(o.tls, undefined);
    assert.equal(o.credentials, undefined);
    assert.match(o.containerId, /^twinledger-[0-9a-f-]{36}$/);
    assert.equal(o.connectTimeoutMs, 10_000);
    assert.equal(o.idleTimeoutMs, 30_000);
    assert.equal(o.reconnect.stableAfterMs, 10_000);
    assert.equal(o.prefetch, 32);
    assert.equal(o.commandTimeoutMs, 10_000);
    assert.equal(o.commandCreditWaitMs, 5_000);
    assert.equal(o.commandsWhileDisconnected, 'wait');
    assert.equal(o.failureOutcome, 'released');
    assert.equal(o.terminusDurability, 0);
    assert.deepEqual(o.addresses, HONO_ADDRESSES);
    assert.ok(o.reconnect.policy instanceof ExponentialBackoff);
    assert.equal(o.reconnect.policy.nextDelayMs(1_000, new Error('x')) !== undefined, true, 'the default reconnect policy never gives up');
  });

  it('uses the TLS port with tls, and takes explicit values', () => {
    assert.equal(resolveAmqpOptions({ host: 'h', tls: true }).port, 15671);
    assert.deepEqual(resolveAmqpOptions({ host: 'h', tls: true }).tls, {});
    const o = resolveAmqpOptions({
      host: 'h',
      port: 5671,
      tls: { caFile: '/ca.pem', serverName: 'hono' },
      credentials: { username: 'consumer@HONO', password: 'verysecret' },
      containerId: 'app-1',
      reconnect: { policy: noRetry },
      prefetch: 100,
      failureOutcome: 'modified',
      commandsWhileDisconnected: 'fail',
      addresses: { telemetry: 'tele/{tenant}' },
    });
    assert.equal(o.commandsWhileDisconnected, 'fail');
    assert.equal(o.port, 5671);
    assert.equal(o.containerId, 'app-1');
    assert.equal(o.prefetch, 100);
    assert.equal(o.reconnect.policy, noRetry);
    assert.equal(o.failureOutcome, 'modified');
    assert.equal(o.addresses.telemetry, 'tele/{tenant}');
    assert.equal(o.addresses.event, 'event/{tenant}');
  });

  it('rejects bad options with a ValidationError naming the field', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'host'],
      [{ host: 'h', port: 0 }, 'port'],
      [{ host: 'h', port: 70_000 }, 'port'],
      [{ host: 'h', credentials: { username: 'u' } }, 'credentials.password'],
      [{ host: 'h', credentials: { password: 'p' } }, 'credentials.username'],
      [{ host: 'h', prefetch: 0 }, 'prefetch'],
      [{ host: 'h', prefetch: 1.5 }, 'prefetch'],
      [{ host: 'h', prefetch: 20_000 }, 'prefetch'],
      [{ host: 'h', connectTimeoutMs: -1 }, 'connectTimeoutMs'],
      [{ host: 'h', reconnect: { stableAfterMs: 0 } }, 'reconnect.stableAfterMs'],
      [{ host: 'h', commandTimeoutMs: 2 ** 31 }, 'commandTimeoutMs'],
      [{ host: 'h', commandTimeoutMs: 0 }, 'commandTimeoutMs'],
      [{ host: 'h', addressPattern: '/queue/x' }, 'addressPattern'],
      [{ host: 'h', addresses: { telemetry: 'telemetry' } }, 'addresses.telemetry'],
      [{ host: 'h', addresses: { commandResponse: 'command_response/{tenant}' } }, 'addresses.commandResponse'],
      [{ host: 'h', failureOutcome: 'rejected' }, 'failureOutcome'],
      [{ host: 'h', terminusDurability: 3 }, 'terminusDurability'],
      [{ host: 'h', commandsWhileDisconnected: 'queue' }, 'commandsWhileDisconnected'],
    ];
    for (const [options, field] of cases) {
      assert.throws(
        () => resolveAmqpOptions(options as never),
        (error: unknown) => error instanceof ValidationError && error.field === field,
        `${JSON.stringify(options)} → ${field}`,
      );
    }
  });

  it('the constructor validates without connecting', () => {
    assert.throws(() => new AmqpNorthbound({ host: '' }), ValidationError);
    const nb = new AmqpNorthbound({ host: '127.0.0.1' });
    assert.equal(nb.state, 'idle');
    assert.equal(nb.transport, 'amqp');
  });

  it('builds options from the TwinLedger configuration', () => {
    const credentials = { username: 'consumer@HONO', password: 'verysecret' };
    const plain = AmqpNorthbound.optionsFromConfig({ amqpNetwork: { host: '10.0.0.5', port: 15672, tlsPort: 15671 } }, { credentials });
    assert.deepEqual(plain, { host: '10.0.0.5', port: 15672, credentials });
    const tls = AmqpNorthbound.optionsFromConfig({
      amqpNetwork: { host: '10.0.0.5', port: 15672, tlsPort: 15671 },
      tls: { caFile: '/ca.pem' },
    });
    assert.equal(tls.port, 15671);
    assert.deepEqual(tls.tls, { caFile: '/ca.pem' });
    assert.throws(() => new AmqpNorthbound(AmqpNorthbound.optionsFromConfig({})), ValidationError);
  });
});

describe('address mapping', () => {
  const hono = resolveAmqpOptions({ host: 'h' });
  const rabbit = resolveAmqpOptions({ host: 'h', ...RABBITMQ_ADDRESSING });

  it("uses Hono's addresses by default", () => {
    assert.equal(resolveAddress(hono, 'telemetry', { tenant: 'org.acme' }), 'telemetry/org.acme');
    assert.equal(resolveAddress(hono, 'event', { tenant: 'org.acme' }), 'event/org.acme');
    assert.equal(resolveAddress(hono, 'command', { tenant: 'org.acme' }), 'command/org.acme');
    assert.equal(
      resolveAddress(hono, 'commandTo', { tenant: 'org.acme', deviceId: 'org.acme:lamp-1' }),
      'command/org.acme/org.acme:lamp-1',
    );
    assert.equal(resolveAddress(hono, 'commandResponse', { tenant: 'org.acme', replyId: 'r1' }), 'command_response/org.acme/r1');
  });

  it('maps to RabbitMQ queues with the preset, but leaves the command `to` property alone', () => {
    assert.equal(rabbit.terminusDurability, 2);
    assert.equal(resolveAddress(rabbit, 'telemetry', { tenant: 'org.acme' }), '/queue/telemetry.org.acme');
    assert.equal(resolveAddress(rabbit, 'event', { tenant: 't1' }), '/queue/event.t1');
    assert.equal(resolveAddress(rabbit, 'command', { tenant: 't1' }), '/queue/command.t1');
    assert.equal(resolveAddress(rabbit, 'commandResponse', { tenant: 't1', replyId: 'r1' }), '/queue/command_response.t1.r1');
    assert.equal(resolveAddress(rabbit, 'commandTo', { tenant: 't1', deviceId: 'd1' }), 'command/t1/d1');
  });

  it('accepts templates and a function pattern', () => {
    const custom = resolveAmqpOptions({
      host: 'h',
      addresses: { telemetry: 'north/{tenant}/telemetry' },
      addressPattern: (address, kind) => `${kind}:${address.toUpperCase()}`,
    });
    assert.equal(resolveAddress(custom, 'telemetry', { tenant: 't1' }), 'telemetry:NORTH/T1/TELEMETRY');
    assert.equal(resolveAddress(custom, 'event', { tenant: 't1' }), 'event:EVENT/T1');
  });

  it('addressOf validates the tenant before mapping', () => {
    const nb = new AmqpNorthbound({ host: 'h', ...RABBITMQ_ADDRESSING });
    assert.equal(nb.addressOf('telemetry', 'org.acme'), '/queue/telemetry.org.acme');
    assert.throws(() => nb.addressOf('event', 'a/b'), ValidationError);
    assert.throws(() => nb.telemetry('a b'), ValidationError);
    assert.throws(() => nb.events('t1', { prefetch: 0 }), ValidationError);
  });
});

describe('AMQP message decoding', () => {
  const data = (bytes: Buffer) => rhea.message.data_section(bytes);

  it('reads one or more Data sections, AMQP string/binary values and empty bodies', () => {
    assert.deepEqual(Buffer.from(bodyBytes(data(Buffer.from('abc')))), Buffer.from('abc'));
    assert.deepEqual(Buffer.from(bodyBytes(rhea.message.data_sections([Buffer.from('ab'), Buffer.from('c')]))), Buffer.from('abc'));
    assert.deepEqual(Buffer.from(bodyBytes('text')), Buffer.from('text'));
    assert.deepEqual(Buffer.from(bodyBytes(Buffer.from([1]))), Buffer.from([1]));
    assert.equal(bodyBytes(undefined).length, 0);
  });

  it('round-trips through the wire encoding', () => {
    const encoded = rhea.message.encode({
      content_type: 'application/json',
      creation_time: new Date('2024-05-01T10:00:00Z'),
      application_properties: { device_id: 'd1', qos: 1, ttd: 20, orig_adapter: 'hono-http' },
      body: data(Buffer.from('{"a":1}')),
    });
    const m = decodeDownstream('event', 't1', rhea.message.decode(encoded) as unknown as Message);
    assert.equal(m.deviceId, 'd1');
    assert.equal(m.contentType, 'application/json');
    assert.deepEqual(m.json(), { a: 1 });
    assert.equal(m.creationTime?.toISOString(), '2024-05-01T10:00:00.000Z');
    assert.equal(m.qos, 1);
    assert.equal(m.ttd, 20);
    assert.equal(m.notification?.type, 'ready');
    assert.equal(m.origAdapter, 'hono-http');
  });

  it('refuses bodies that are not a Data section', () => {
    assert.throws(() => bodyBytes({ an: 'object' }), MalformedMessageError);
    assert.throws(() => bodyBytes(42), MalformedMessageError);
    assert.throws(() => bodyBytes(rhea.message.sequence_section([1, 2])), /type 0x76/);
    assert.throws(
      () => decodeDownstream('telemetry', 't1', { body: 42, application_properties: { device_id: 'd' } }),
      MalformedMessageError,
    );
  });

  it('decodes application properties leniently and ids of any AMQP type', () => {
    assert.deepEqual(applicationProperties({ body: undefined, application_properties: { a: 1, b: 'x', c: { map: true }, d: null } }), {
      a: 1,
      b: 'x',
      d: null,
    });
    assert.equal(idString('abc'), 'abc');
    assert.equal(idString(7), '7');
    assert.equal(idString(Buffer.from([0xab, 0xcd])), 'abcd');
    assert.equal(idString(undefined), undefined);
  });

  it('decodes command responses and refuses them without correlation-id or status', () => {
    const r = decodeCommandResponse({
      correlation_id: 'c1',
      content_type: 'text/plain',
      application_properties: { status: 202, device_id: 'd1', tenant_id: 't1' },
      body: data(Buffer.from('queued')),
    });
    assert.equal(r.status, 202);
    assert.equal(r.text(), 'queued');
    assert.equal(r.properties.device_id, 'd1');
    assert.throws(() => decodeCommandResponse({ application_properties: { status: 200 }, body: undefined }), /correlation-id/);
    assert.throws(() => decodeCommandResponse({ correlation_id: 'c1', body: undefined }), /invalid status/);
  });
});
