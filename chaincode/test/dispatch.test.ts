/**
 * Through fabric-shim's own dispatcher (what the chaincode server runs): argument marshalling, the
 * contract metadata, the response encoding, and the class-transformer pin.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { JSONSerializer } from 'fabric-contract-api';
import { contracts } from '../src/index';
import { GENESIS_ROOT } from '../src/validate';
import { FakeWorld, testCertificate } from './fake-ledger';
import { ORG1, ORG2, TENANT, THING, modifyCommand, sha256 } from './helpers';

interface ChaincodeResponse {
  status: number;
  message?: string;
  payload?: Uint8Array;
}
interface Dispatcher {
  metadata: unknown;
  Invoke(stub: unknown): Promise<ChaincodeResponse>;
}
type DispatcherClass = new (contracts: unknown[], serializers: unknown, metadata: unknown, title: string, version: string) => Dispatcher;

// Not part of fabric-shim's typed API; it is what `fabric-chaincode-node server` instantiates.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract') as DispatcherClass;
const root = join(__dirname, '..', '..');
const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };

function dispatcher(): Dispatcher {
  return new ChaincodeFromContract([...contracts], serializers, {}, 'twinledger-chaincode', '0.1.0');
}

describe('dispatch through fabric-shim', () => {
  let certificates: Record<string, string>;
  before(() => {
    certificates = { [ORG1]: testCertificate('user1.org1'), [ORG2]: testCertificate('user1.org2') };
  });

  async function invoke(world: FakeWorld, mspId: string, args: string[], transient?: Record<string, string>) {
    const stub = world.stub({ mspId, args, transient, certificate: certificates[mspId] });
    const response = await dispatcher().Invoke(stub);
    if (response.status === 200) world.commit(stub);
    return { response, stub, text: Buffer.from(response.payload ?? []).toString('utf8') };
  }

  it('runs submit and evaluate transactions by name, with and without the contract prefix', async () => {
    const world = new FakeWorld();
    const registered = await invoke(world, ORG1, ['RegisterDevice', TENANT, THING]);
    assert.equal(registered.response.status, 200, registered.response.message);
    assert.equal(JSON.parse(registered.text).owner, ORG1);

    const command = modifyCommand();
    const published = await invoke(world, ORG1, ['twinledger:PublishTelemetryData', TENANT, THING, command, '']);
    assert.equal(published.response.status, 200, published.response.message);
    assert.equal(published.text, sha256(command));
    assert.deepEqual(
      published.stub.events.map((e) => e.name),
      ['TelemetryPublishRequested'],
    );

    const batch = await invoke(world, ORG1, ['AnchorBatch', 's1', 'b1', sha256('x'), '1', GENESIS_ROOT, '']);
    assert.equal(batch.response.status, 200, batch.response.message);
    const head = await invoke(world, ORG2, ['GetHead', 's1']);
    assert.equal(JSON.parse(head.text).root, sha256('x'));

    const creds = await invoke(world, ORG1, ['SetCredentials', TENANT, THING], {
      authId: 'lamp-1',
      password: 'pw-123456',
      salt: '0f'.repeat(32),
    });
    assert.equal(creds.response.status, 200, creds.response.message);
    const read = await invoke(world, ORG1, ['GetCredentials', TENANT, THING]);
    assert.equal(JSON.parse(read.text).password, 'pw-123456');
  });

  it('answers errors with status 500 and the coded message, which the peer forwards as "chaincode response 500, …"', async () => {
    const world = new FakeWorld();
    const denied = await invoke(world, ORG2, ['GetCredentials', TENANT, THING]);
    assert.equal(denied.response.status, 500);
    assert.match(denied.response.message ?? '', /^NOT_FOUND: device "org.acme:lamp-1" of tenant "org.acme" is not registered/);
    const bad = await invoke(world, ORG1, ['AnchorBatch', 's1', 'b1', 'nothex', '1', GENESIS_ROOT, '']);
    assert.match(bad.response.message ?? '', /^INVALID_ARGUMENT: root must be 64 hex characters/);
    const unknown = await invoke(world, ORG1, ['NoSuchFunction']);
    assert.equal(unknown.response.status, 500);
    assert.match(unknown.response.message ?? '', /NoSuchFunction/);
    const wrongArity = await invoke(world, ORG1, ['GetHead']);
    assert.equal(wrongArity.response.status, 500);
    assert.match(wrongArity.response.message ?? '', /Expected 1 parameters, but 0 have been supplied/);
  });

  it('ships META-INF/metadata.json equal to what the code generates (npm run metadata)', () => {
    const shipped = JSON.parse(readFileSync(join(root, 'META-INF', 'metadata.json'), 'utf8')) as unknown;
    assert.deepEqual(JSON.parse(JSON.stringify(dispatcher().metadata)), shipped);
  });

  it('runs with class-transformer 0.4.0 (0.4.1 breaks every transaction)', () => {
    const version = (JSON.parse(readFileSync(require.resolve('class-transformer/package.json'), 'utf8')) as { version: string }).version;
    assert.equal(version, '0.4.0');
    // The serializer fabric-contract-api uses for non-string results must work.
    const bytes = new JSONSerializer().toBuffer({ b: 1, a: 2 }, {});
    assert.equal(String(bytes), '{"b":1,"a":2}');
  });
});
