/**
 * TelemetryRelay against a local node:http server playing the Hono HTTP adapter: exactly-once delivery
 * across a restart, 503 retries, the hono-ttd header, credentials never in logs. The ledger side is a
 * FabricLedger over a fake gateway network that serves chaincode events from a checkpoint as the gateway does.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { GatewayError } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import { ExponentialBackoff, NetworkError, ValidationError, jsonLineLogger } from '../../src/core/index.js';
import {
  FabricLedger,
  type GatewayChaincodeEvent,
  type GatewayContract,
  type GatewayEventsOptions,
  type GatewayEventStream,
  type GatewayNetwork,
  type RelayDelivery,
  type RelayFailure,
  TelemetryRelay,
  type TelemetryRelayOptions,
  UndeliverableError,
} from '../../src/ledger/index.js';
import { FakeChaincodeEventLog } from '../support/fake-chaincode-events.js';
import { FakeHttpAdapter, basicAuthorization } from '../support/fake-http-adapter.js';
import { until } from '../support/settle.js';

const TENANT = 'org.acme';
const PASSWORD = 'lamp-secret-4711';
const WRONG_PASSWORD = 'wrong-secret-0815';

// ---- the chain: chaincode events served from a checkpoint, like the Fabric gateway -------------------

class EventChain implements GatewayNetwork {
  readonly log = new FakeChaincodeEventLog();
  credentialsEvaluated = 0;
  devicesEvaluated = 0;
  /** What GetCredentials answers for lamp-2. */
  password = PASSWORD;
  /** On-chain owners; devices not listed belong to Org1MSP. */
  readonly owners = new Map<string, string>([['org.acme:lamp-7', 'Org2MSP']]);

  get events(): GatewayChaincodeEvent[] {
    return this.log.events;
  }

  getContract(name: string): GatewayContract {
    if (name === 'qscc') {
      return {
        getChaincodeName: () => 'qscc',
        newProposal: (fn, options) => ({
          getTransactionId: () => 'qscc',
          evaluate: async () => {
            assert.deepEqual([fn, ...(options?.arguments ?? []).map(String)], ['GetChainInfo', 'mychannel']);
            const info = new common.BlockchainInfo();
            info.setHeight(this.events.length + 1); // the genesis block and one block per event
            return info.serializeBinary();
          },
          endorse: async () => assert.fail('the relay never submits'),
        }),
      };
    }
    return {
      getChaincodeName: () => 'twinledger',
      newProposal: (name, options) => ({
        getTransactionId: () => 'eval',
        evaluate: async () => {
          const [tenant, deviceId] = (options?.arguments ?? []).map(String);
          if (name === 'GetDevice') {
            this.devicesEvaluated += 1;
            const owner = this.owners.get(deviceId as string) ?? 'Org1MSP';
            return Buffer.from(
              JSON.stringify({ docType: 'device', tenant, deviceId, owner, txId: 't', timestamp: 'x', credentials: null }),
            );
          }
          assert.equal(name, 'GetCredentials');
          this.credentialsEvaluated += 1;
          if (deviceId === 'org.acme:lamp-8') {
            const cause = Object.assign(new Error('access denied'), { code: 7, details: 'access denied', metadata: new Metadata() });
            throw new GatewayError({ code: 7, details: [], cause, message: '7 PERMISSION_DENIED: access denied' });
          }
          if (deviceId === 'org.acme:lamp-7') {
            const message =
              'chaincode response 500, FORBIDDEN: device "org.acme:lamp-7" of tenant "org.acme" belongs to Org2MSP; Org1MSP may not read its credentials';
            const cause = Object.assign(new Error(message), { code: 2, details: message, metadata: new Metadata() });
            throw new GatewayError({
              code: 2,
              details: [],
              cause,
              message: `2 UNKNOWN: evaluate call to endorser returned error: ${message}`,
            });
          }
          return Buffer.from(
            JSON.stringify({ tenant, deviceId, authId: 'lamp-2', password: this.password, salt: 's', txId: 't', timestamp: 'x' }),
          );
        },
        endorse: async () => assert.fail('the relay never submits'),
      }),
    };
  }

  /** Appends a TelemetryPublishRequested event exactly as the chaincode builds it (sorted keys). */
  publish(deviceId: string, value: unknown, ttd: number | null = null): string {
    const txId = createHash('sha256').update(`tx-${this.events.length}-${deviceId}`).digest('hex');
    const [ns, name] = deviceId.split(':');
    const command = JSON.stringify({
      topic: `${ns}/${name}/things/twin/commands/modify`,
      headers: { 'response-required': false },
      path: '/features/temperature/properties/value',
      value,
    });
    const sha256 = createHash('sha256').update(command).digest('hex');
    const payload = {
      command,
      deviceId,
      sha256,
      tenant: TENANT,
      thingId: deviceId,
      timestamp: '2024-05-01T10:00:00.000000000Z',
      ttd,
      txId,
    };
    this.append(txId, 'TelemetryPublishRequested', JSON.stringify(payload));
    return txId;
  }

  append(transactionId: string, eventName: string, payload: string): void {
    const blockNumber = BigInt(this.events.length + 1);
    this.log.append({ blockNumber, transactionId, chaincodeName: 'twinledger', eventName, payload: Buffer.from(payload) });
  }

  async getChaincodeEvents(_name: string, options: GatewayEventsOptions = {}): Promise<GatewayEventStream> {
    return this.log.open(options);
  }
}

// ---- the Hono HTTP adapter -------------------------------------------------------------------------------

const basic = (authId: string, password: string) => basicAuthorization(authId, TENANT, password);

describe('TelemetryRelay → Hono HTTP adapter', () => {
  const adapter = new FakeHttpAdapter([basic('lamp-1', PASSWORD), basic('lamp-2', PASSWORD)]);
  const dirs: string[] = [];
  const logs: string[] = [];
  const relays: TelemetryRelay[] = [];

  before(() => adapter.start());
  after(() => adapter.stop());
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
  });
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function stateDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'twinledger-relay-'));
    dirs.push(dir);
    return dir;
  }

  function relayFor(chain: EventChain, dir: string, extra: Partial<TelemetryRelayOptions> = {}) {
    const logger = jsonLineLogger({
      level: 'debug',
      stream: { write: (line: string) => logs.push(line) } as unknown as NodeJS.WritableStream,
    });
    const ledger = new FabricLedger(chain, { channel: 'mychannel', chaincode: 'twinledger', mspId: 'Org1MSP' });
    const relay = new TelemetryRelay({
      ledger,
      httpAdapter: { baseUrl: `http://127.0.0.1:${adapter.port}` },
      stateDir: dir,
      credentials: {
        [`${TENANT}/org.acme:lamp-1`]: { authId: 'lamp-1', password: PASSWORD },
        [`${TENANT}/org.acme:lamp-9`]: { authId: 'lamp-9', password: WRONG_PASSWORD },
      },
      startBlock: 1n,
      retry: new ExponentialBackoff({ maxAttempts: 4, initialDelayMs: 5, maxDelayMs: 20, jitter: 'none' }),
      redeliveryDelayMs: 20,
      logger,
      ...extra,
    });
    const delivered: RelayDelivery[] = [];
    const undeliverable: RelayFailure[] = [];
    relay.on('delivered', (d) => delivered.push(d));
    relay.on('undeliverable', (f) => undeliverable.push(f));
    relays.push(relay);
    return { relay, delivered, undeliverable };
  }

  it('delivers every transaction once, across a restart and a lost checkpoint, retrying 503s', async () => {
    const chain = new EventChain();
    const dir = stateDir();
    const before = adapter.received.length;
    const t1 = chain.publish('org.acme:lamp-1', 20.5);
    const t2 = chain.publish('org.acme:lamp-1', 21.0, 30);
    chain.append('other-tx', 'BatchAnchored', '{"stream":"s"}'); // not for the relay
    const t3 = chain.publish('org.acme:lamp-1', 21.5);
    const body3 = JSON.parse(Buffer.from(chain.events[3]?.payload ?? []).toString()).command as string;
    adapter.failFirst.set(body3, [503, 503]);

    const first = relayFor(chain, dir);
    await first.relay.start();
    assert.equal(first.relay.running, true);
    await until(() => first.delivered.length === 3, 'three deliveries');
    assert.deepEqual(
      first.delivered.map((d) => d.transactionId),
      [t1, t2, t3],
    );
    assert.equal(first.delivered[1]?.status, 200);
    assert.deepEqual(first.delivered[1]?.command, {
      name: 'switch',
      requestId: 'req-1',
      contentType: 'application/json',
      payload: '{"on":true}',
    });

    const mine = adapter.received.slice(before);
    assert.deepEqual(
      mine.map((r) => r.status),
      [202, 202, 503, 503, 202],
    );
    for (const request of mine) {
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers['qos-level'], '1');
    }
    assert.equal(mine[0]?.headers['hono-ttd'], undefined);
    assert.equal(mine[1]?.headers['hono-ttd'], '30', 'ttd travels as the hono-ttd header');
    assert.equal(
      mine[0]?.body,
      JSON.parse(Buffer.from(chain.events[0]?.payload ?? []).toString()).command,
      'the command is posted byte for byte',
    );
    await first.relay.stop();
    assert.equal(first.relay.running, false);

    // Restart with the same state folder: new events only.
    const t4 = chain.publish('org.acme:lamp-1', 22);
    const second = relayFor(chain, dir);
    await second.relay.start();
    await until(() => second.delivered.length === 1, 'the fourth delivery');
    assert.deepEqual(
      second.delivered.map((d) => d.transactionId),
      [t4],
    );
    await second.relay.stop();

    // The checkpoint is lost (or an operator replays from block 1): the delivered log still prevents repeats.
    rmSync(join(dir, 'checkpoint.json'));
    const t5 = chain.publish('org.acme:lamp-1', 23);
    const third = relayFor(chain, dir);
    const skipped: string[] = [];
    third.relay.on('skipped', (s) => skipped.push(s.transactionId));
    await third.relay.start();
    await until(() => third.delivered.length === 1, 'the fifth delivery');
    assert.deepEqual(skipped, [t1, t2, t3, t4]);
    assert.deepEqual(
      third.delivered.map((d) => d.transactionId),
      [t5],
    );
    assert.deepEqual(third.relay.stats, { delivered: 1, skipped: 4, undeliverable: 0, redeliveries: 0 });

    const bodies = adapter
      .accepted()
      .slice(-5)
      .map((r) => r.body);
    assert.equal(new Set(bodies).size, 5, 'each transaction reached the adapter exactly once');
    assert.equal(adapter.accepted().length - adapter.received.slice(0, before).filter((r) => r.status < 300).length, 5);
  });

  it('keeps retrying a transient failure beyond the retry policy, then delivers', async () => {
    const chain = new EventChain();
    const t1 = chain.publish('org.acme:lamp-1', 30);
    const body = JSON.parse(Buffer.from(chain.events[0]?.payload ?? []).toString()).command as string;
    adapter.failFirst.set(body, [503, 503, 503, 503, 503, 502, 504, 408]);
    const { relay, delivered } = relayFor(chain, stateDir());
    await relay.start();
    await until(() => delivered.length === 1, 'the delivery');
    assert.equal(delivered[0]?.transactionId, t1);
    assert.ok(relay.stats.redeliveries >= 1);
  });

  it('skips what the adapter refuses (401) and what fails its hash check, and never logs credentials', async () => {
    const chain = new EventChain();
    const bad = chain.publish('org.acme:lamp-9', 1); // wrong password in the relay's configuration
    const tampered = createHash('sha256').update('tampered').digest('hex');
    chain.append(
      tampered,
      'TelemetryPublishRequested',
      JSON.stringify({
        command: '{"x":1}',
        deviceId: 'org.acme:lamp-1',
        sha256: 'f'.repeat(64),
        tenant: TENANT,
        thingId: 'org.acme:lamp-1',
        timestamp: 't',
        ttd: null,
        txId: tampered,
      }),
    );
    const unknown = chain.publish('org.acme:lamp-5', 1); // no credentials at all
    const good = chain.publish('org.acme:lamp-1', 2);
    const { relay, delivered, undeliverable } = relayFor(chain, stateDir());
    logs.length = 0;
    await relay.start();
    await until(() => delivered.length === 1, 'the good delivery');
    assert.deepEqual(
      undeliverable.map((f) => f.transactionId),
      [bad, tampered, unknown],
    );
    assert.match(undeliverable[0]?.error.message ?? '', /refused the telemetry: POST .* answered 401/);
    assert.match(undeliverable[1]?.error.message ?? '', /does not match its SHA-256/);
    assert.match(
      undeliverable[2]?.error.message ?? '',
      /no credentials for device org.acme:lamp-5 of tenant org.acme \(no entry "org.acme\/org.acme:lamp-5"\)/,
    );
    assert.equal(delivered[0]?.transactionId, good);

    const text = `${logs.join('')}${undeliverable.map((f) => `${f.error.message} ${String((f.error.cause as Error | undefined)?.message)}`).join('')}`;
    assert.ok(
      logs.some((line) => line.includes('"level":"error"') && line.includes(bad)),
      'the failure is logged',
    );
    for (const secret of [
      PASSWORD,
      WRONG_PASSWORD,
      Buffer.from(`lamp-1@${TENANT}:${PASSWORD}`).toString('base64'),
      Buffer.from(`lamp-9@${TENANT}:${WRONG_PASSWORD}`).toString('base64'),
    ]) {
      assert.ok(!text.includes(secret), 'a credential leaked into the logs or errors');
    }
  });

  it('can take the device credentials from the ledger (GetCredentials, evaluated once per device)', async () => {
    const chain = new EventChain();
    chain.publish('org.acme:lamp-2', 1);
    const foreign = chain.publish('org.acme:lamp-7', 1);
    chain.publish('org.acme:lamp-2', 2);
    const { relay, delivered, undeliverable } = relayFor(chain, stateDir(), { credentials: 'ledger' });
    await relay.start();
    await until(() => delivered.length === 2, 'two deliveries');
    assert.equal(chain.credentialsEvaluated, 1, 'once for lamp-2 (cached); lamp-7 is refused by its owner before');
    assert.equal(chain.devicesEvaluated, 2, 'the owner is read once per device');
    assert.deepEqual(
      undeliverable.map((f) => f.transactionId),
      [foreign],
      'a device of another organisation is skipped, not retried',
    );
    assert.match(
      undeliverable[0]?.error.message ?? '',
      /device org.acme:lamp-7 of tenant org.acme belongs to Org2MSP on the ledger, not to Org1MSP/,
    );

    // Even when the ledger would hand out credentials, a refusal by the chaincode is undeliverable, not retried.
    const other = new EventChain();
    other.owners.delete('org.acme:lamp-7');
    const refused = other.publish('org.acme:lamp-7', 1);
    other.publish('org.acme:lamp-2', 1);
    const second = relayFor(other, stateDir(), { credentials: 'ledger' });
    await second.relay.start();
    await until(() => second.delivered.length === 1, 'the delivery after the refusal');
    assert.deepEqual(
      second.undeliverable.map((f) => f.transactionId),
      [refused],
    );
    assert.match(second.undeliverable[0]?.error.message ?? '', /cannot read the credentials of org.acme:lamp-7: .*FORBIDDEN/);
    assert.equal(adapter.received.at(-1)?.headers.authorization, basic('lamp-2', PASSWORD));
  });

  it('looks credentials up again when the adapter answers 401 (rotated password)', async () => {
    const chain = new EventChain();
    const { relay, delivered, undeliverable } = relayFor(chain, stateDir(), { credentials: 'ledger' });
    await relay.start();
    chain.publish('org.acme:lamp-2', 1);
    await until(() => delivered.length === 1, 'the first delivery');
    const rotated = 'rotated-secret-2024';
    adapter.valid.delete(basic('lamp-2', PASSWORD));
    adapter.valid.add(basic('lamp-2', rotated));
    chain.password = rotated;
    try {
      chain.publish('org.acme:lamp-2', 2);
      await until(() => delivered.length === 2, 'the delivery with the new password');
      assert.deepEqual(undeliverable, []);
      assert.equal(chain.credentialsEvaluated, 2);
      assert.ok(!logs.join('').includes(rotated));
    } finally {
      adapter.valid.delete(basic('lamp-2', rotated));
      adapter.valid.add(basic('lamp-2', PASSWORD));
    }
  });

  it('refuses a second relay on the same state folder and takes over a stale lock', async () => {
    const chain = new EventChain();
    const dir = stateDir();
    const one = relayFor(chain, dir);
    await one.relay.start();
    const two = relayFor(chain, dir);
    await assert.rejects(two.relay.start(), (error: unknown) => error instanceof ValidationError && /another relay/.test(error.message));
    await one.relay.stop();
    assert.equal(existsSync(join(dir, 'relay.lock')), false);
    writeFileSync(join(dir, 'relay.lock'), '999999999'); // a pid that does not exist
    const three = relayFor(chain, dir);
    await three.relay.start();
    assert.equal(readFileSync(join(dir, 'relay.lock'), 'utf8').split('\n')[0], String(process.pid));
  });

  it('takes over a lock that holds its own pid (a container restarted as the same pid), but not one of a live relay in this process', async () => {
    const chain = new EventChain();
    const dir = stateDir();
    writeFileSync(join(dir, 'relay.lock'), `${process.pid}\n`); // left by the previous run of this container
    const one = relayFor(chain, dir);
    await one.relay.start();
    assert.equal(one.relay.running, true);
    const lock = readFileSync(join(dir, 'relay.lock'), 'utf8');
    assert.notEqual(lock, `${process.pid}\n`, 'the lock was replaced by the new one');
    const two = relayFor(chain, dir);
    await assert.rejects(
      two.relay.start(),
      (error: unknown) => error instanceof ValidationError && /another relay of this process uses/.test(error.message),
    );
    assert.equal(readFileSync(join(dir, 'relay.lock'), 'utf8'), lock, 'the refused relay left the lock alone');
    await one.relay.stop();
    assert.equal(existsSync(join(dir, 'relay.lock')), false);
  });

  it('without startBlock, pins the chain height at the first start: telemetry published during a restart is delivered', async () => {
    const chain = new EventChain();
    const dir = stateDir();
    const old = chain.publish('org.acme:lamp-1', 1); // before the relay's first start: not its business
    const first = relayFor(chain, dir, { startBlock: undefined });
    await first.relay.start();
    const checkpoint = join(dir, 'checkpoint.json');
    await until(() => existsSync(checkpoint), 'the pinned checkpoint');
    assert.deepEqual(JSON.parse(readFileSync(checkpoint, 'utf8')), { blockNumber: '2' });
    await first.relay.stop();

    const during = chain.publish('org.acme:lamp-1', 2); // committed while no relay runs, nothing checkpointed yet
    const second = relayFor(chain, dir, { startBlock: undefined });
    await second.relay.start();
    await until(() => second.delivered.length === 1, 'the delivery of the telemetry published during the restart', 5_000);
    assert.deepEqual(
      second.delivered.map((d) => d.transactionId),
      [during],
    );
    assert.ok(!first.delivered.some((d) => d.transactionId === old));
  });

  it('does not drive devices that another organisation owns on the ledger (ownerMsp)', async () => {
    const chain = new EventChain();
    const foreign = chain.publish('org.acme:lamp-7', 1); // owned by Org2MSP, but the relay has credentials for it
    const own = chain.publish('org.acme:lamp-1', 1);
    const credentials = {
      [`${TENANT}/org.acme:lamp-1`]: { authId: 'lamp-1', password: PASSWORD },
      [`${TENANT}/org.acme:lamp-7`]: { authId: 'lamp-7', password: PASSWORD },
    };
    adapter.valid.add(basic('lamp-7', PASSWORD));
    try {
      const before = adapter.received.length;
      const { relay, delivered, undeliverable } = relayFor(chain, stateDir(), { credentials }); // default: the ledger's own MSP, Org1MSP
      await relay.start();
      await until(() => delivered.length === 1, 'the own device');
      assert.deepEqual(
        delivered.map((d) => d.transactionId),
        [own],
      );
      assert.deepEqual(
        undeliverable.map((f) => f.transactionId),
        [foreign],
      );
      const error = undeliverable[0]?.error;
      assert.ok(error instanceof UndeliverableError);
      assert.equal(error.code, 'relay.foreign_device');
      assert.match(error.message, /belongs to Org2MSP on the ledger, not to Org1MSP.*add "Org2MSP" to the relay's ownerMsp/);
      assert.ok(
        !adapter.received.slice(before).some((r) => r.headers.authorization === basic('lamp-7', PASSWORD)),
        'nothing was posted for lamp-7',
      );
      assert.ok(
        logs.some((line) => line.includes('"level":"error"') && line.includes(foreign)),
        'the refusal is logged',
      );
      await relay.stop();

      // An operator who serves both organisations says so.
      const both = relayFor(chain, stateDir(), { credentials, ownerMsp: ['Org1MSP', 'Org2MSP'] });
      await both.relay.start();
      await until(() => both.delivered.length === 2, 'both devices');
      assert.deepEqual(both.undeliverable, []);
    } finally {
      adapter.valid.delete(basic('lamp-7', PASSWORD));
    }

    const anonymous = new FabricLedger(chain, { channel: 'mychannel', chaincode: 'twinledger' });
    assert.throws(
      () => new TelemetryRelay({ ledger: anonymous, httpAdapter: { baseUrl: 'http://127.0.0.1:1' }, stateDir: stateDir(), credentials }),
      (error: unknown) =>
        error instanceof ValidationError && error.field === 'ownerMsp' && /ledger does not know its MSP ID/.test(error.message),
    );
  });

  it('redelivers only transient failures; other HTTP statuses, ledger denials and failing credential lookups are undeliverable', async () => {
    const chain = new EventChain();
    const t500 = chain.publish('org.acme:lamp-1', 500);
    const t501 = chain.publish('org.acme:lamp-1', 501);
    const none = chain.publish('org.acme:lamp-8', 1); // the credentials function knows no such device
    const broken = chain.publish('org.acme:lamp-3', 1); // the credentials function throws
    const flaky = chain.publish('org.acme:lamp-4', 1); // the credentials function is briefly unreachable
    const good = chain.publish('org.acme:lamp-1', 1);
    const bodyOf = (index: number) => JSON.parse(Buffer.from(chain.events[index]?.payload ?? []).toString()).command as string;
    adapter.failFirst.set(bodyOf(0), [500]);
    adapter.failFirst.set(bodyOf(1), [501]);
    let flakyCalls = 0;
    const credentials: TelemetryRelayOptions['credentials'] = async (_tenant, deviceId) => {
      if (deviceId === 'org.acme:lamp-3') throw new Error('vault says no such path');
      if (deviceId === 'org.acme:lamp-4') {
        flakyCalls += 1;
        if (flakyCalls === 1) throw new NetworkError('GET', 'https://vault.example/v1/lamp-4', 'ECONNRESET');
        return { authId: 'lamp-1', password: PASSWORD };
      }
      if (deviceId === 'org.acme:lamp-8') return undefined;
      return { authId: 'lamp-1', password: PASSWORD };
    };
    const { relay, delivered, undeliverable } = relayFor(chain, stateDir(), { credentials });
    await relay.start();
    await until(() => delivered.length === 2, 'the flaky and the good delivery');
    assert.deepEqual(
      delivered.map((d) => d.transactionId),
      [flaky, good],
    );
    assert.deepEqual(
      undeliverable.map((f) => f.transactionId),
      [t500, t501, none, broken],
    );
    assert.match(undeliverable[0]?.error.message ?? '', /refused the telemetry: POST .* answered 500/);
    assert.match(undeliverable[1]?.error.message ?? '', /answered 501/);
    assert.match(
      undeliverable[3]?.error.message ?? '',
      /the credentials function failed for device org.acme:lamp-3 of tenant org.acme: vault says no such path/,
    );
    assert.equal(relay.stats.redeliveries, 1, 'only the network failure was delivered again');
    assert.equal(relay.stats.undeliverable, 4);

    // A ledger that denies GetCredentials (PERMISSION_DENIED, not a chaincode answer) will not change by waiting either.
    const ledgerChain = new EventChain();
    const deniedOnLedger = ledgerChain.publish('org.acme:lamp-8', 1);
    const after = ledgerChain.publish('org.acme:lamp-2', 1);
    const viaLedger = relayFor(ledgerChain, stateDir(), { credentials: 'ledger' });
    await viaLedger.relay.start();
    await until(() => viaLedger.delivered.length === 1, 'the delivery after the denial');
    assert.deepEqual(
      viaLedger.delivered.map((d) => d.transactionId),
      [after],
    );
    assert.deepEqual(
      viaLedger.undeliverable.map((f) => f.transactionId),
      [deniedOnLedger],
    );
    assert.match(viaLedger.undeliverable[0]?.error.message ?? '', /cannot read the credentials of org.acme:lamp-8: .*PERMISSION_DENIED/);
    assert.equal(viaLedger.relay.stats.redeliveries, 0);
  });
});
