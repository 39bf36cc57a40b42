import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DeliveredStore } from '../../src/ledger/delivered-store.js';
import { parseRequest } from '../../src/ledger/relay.js';

const dir = mkdtempSync(join(tmpdir(), 'twinledger-relay-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const tx = (n: number): string => createHash('sha256').update(String(n)).digest('hex');

describe('DeliveredStore', () => {
  it('remembers IDs across reopening; each add is on disk before it resolves', async () => {
    const path = join(dir, 'a', 'delivered.log');
    const store = await DeliveredStore.open(path);
    await Promise.all([store.add(tx(1)), store.add(tx(2)), store.add(tx(1))]);
    assert.equal(readFileSync(path, 'utf8'), `${tx(1)}\n${tx(2)}\n`);
    await store.close();
    const again = await DeliveredStore.open(path);
    assert.ok(again.has(tx(1)) && again.has(tx(2)) && !again.has(tx(3)));
    assert.equal(again.size, 2);
    await again.close();
    await assert.rejects(again.add(tx(4)), /closed/);
  });

  it('ignores a line torn by a crash and starts clean after it', async () => {
    const path = join(dir, 'b.log');
    writeFileSync(path, `${tx(1)}\n${tx(2).slice(0, 30)}`);
    const store = await DeliveredStore.open(path);
    assert.ok(store.has(tx(1)));
    assert.ok(!store.has(tx(2)) && !store.has(tx(2).slice(0, 30)));
    await store.add(tx(3));
    await store.close();
    assert.equal(readFileSync(path, 'utf8'), `${tx(1)}\n${tx(3)}\n`);
  });

  it('keeps the newest `capacity` IDs, compacting atomically through a temporary file', async () => {
    const path = join(dir, 'c', 'delivered.log');
    const store = await DeliveredStore.open(path, { capacity: 3 });
    for (let i = 1; i <= 7; i += 1) await store.add(tx(i));
    assert.deepEqual(
      [1, 2, 3, 4].map((i) => store.has(tx(i))),
      [false, false, false, false],
    );
    assert.deepEqual(
      [5, 6, 7].map((i) => store.has(tx(i))),
      [true, true, true],
    );
    await store.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.ok(lines.length <= 6, `compacted: ${lines.length} lines`);
    assert.deepEqual(readdirSync(join(dir, 'c')), ['delivered.log'], 'no temporary file left');
    appendFileSync(path, `${tx(8)}\n`);
    const reopened = await DeliveredStore.open(path, { capacity: 3 });
    assert.ok(reopened.has(tx(8)) && reopened.has(tx(7)) && !reopened.has(tx(4)));
    await reopened.close();
  });
});

describe('relay event parsing', () => {
  const command = '{"topic":"org.acme/lamp-1/things/twin/commands/modify","path":"/a","value":1}';
  const sha = createHash('sha256').update(command).digest('hex');
  const event = (payload: unknown, transactionId = 'tx-1') => ({
    blockNumber: 3n,
    transactionId,
    chaincodeName: 'twinledger',
    name: 'TelemetryPublishRequested',
    payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
  });
  const good = {
    tenant: 'org.acme',
    thingId: 'org.acme:lamp-1',
    deviceId: 'org.acme:lamp-1',
    sha256: sha,
    txId: 'tx-1',
    timestamp: 't',
    ttd: null,
    command,
  };

  it('accepts what the chaincode emits (its fixture) and checks the command against its hash', () => {
    const fixture = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'chaincode', 'test', 'fixtures', 'telemetry-event.json'), 'utf8'),
    ) as { name: string; payload: string };
    const txId = (JSON.parse(fixture.payload) as { txId: string }).txId;
    const parsed = parseRequest(event(fixture.payload, txId));
    assert.equal(parsed.ttd, 30);
    assert.equal(parsed.deviceId, 'org.acme:lamp-1');
    assert.deepEqual(parseRequest(event(good)), good);
  });

  it('refuses payloads a relay must not post', () => {
    const cases: Array<[unknown, RegExp, string?]> = [
      ['not json', /is not JSON/],
      [{ ...good, command: undefined }, /has no command/],
      [{ ...good, deviceId: '' }, /has no deviceId/],
      [{ ...good, ttd: 600 }, /invalid ttd/],
      [{ ...good, command: `${command} ` }, /does not match its SHA-256/],
      [good, /names transaction tx-1, but came with tx-2/, 'tx-2'],
    ];
    for (const [payload, pattern, transactionId] of cases) assert.throws(() => parseRequest(event(payload, transactionId)), pattern);
  });
});
