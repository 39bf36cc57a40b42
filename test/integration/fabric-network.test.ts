/**
 * The TwinLedger chaincode on a real Fabric 2.5 network (two organisations, one peer each, one Raft orderer,
 * TLS, chaincode as a service), driven through FabricLedger and the Fabric gateway: the shared Ledger contract suite
 * (test/support/ledger-suite.ts: every transaction, private credentials, ownership refused by the contract,
 * checkpointed events, concurrent creators of the same key — DevLedger runs the same suite), plus what only a real
 * network shows: the package on both peers, the password in no block file, key-level endorsement against a modified
 * chaincode, and the relay. Needs FABRIC_BIN_DIR (set by .ci/run).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '../../src/core/index.js';
import { FabricLedger, GENESIS_ROOT, type RelayDelivery, TelemetryRelay } from '../../src/ledger/index.js';
import { gatewayOptions, locateFabricBinaries, peerAdminEnv, restartChaincodeServer } from '../../scripts/fabric-network/index.js';
import { runTool } from '../../scripts/fabric-network/processes.js';
import { type TestNetwork, blockFiles, fabricProblem, filesUnder, rawContract, startTestNetwork } from '../support/fabric.js';
import { FakeHttpAdapter, basicAuthorization } from '../support/fake-http-adapter.js';
import { TENANT, hex, ledgerContractSuite, twinCommand, unique } from '../support/ledger-suite.js';
import { skipUnlessAvailable } from '../support/services.js';
import { until } from '../support/settle.js';

const problem = fabricProblem();

describe('Fabric 2.5 network: the TwinLedger chaincode as a service, through FabricLedger', { skip: skipUnlessAvailable(problem) }, () => {
  let network: TestNetwork;
  const ledgers: FabricLedger[] = [];
  const dirs: string[] = [];
  let org1: FabricLedger;
  let org2: FabricLedger;

  function ledgerOf(org: 'Org1MSP' | 'Org2MSP', logger?: Logger): FabricLedger {
    const ledger = FabricLedger.connect({ ...gatewayOptions(network.state, org), ...(logger ? { logger } : {}) });
    ledgers.push(ledger);
    return ledger;
  }

  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'twinledger-fabric-test-'));
    dirs.push(dir);
    return dir;
  }

  before(async () => {
    if (problem) throw new Error(problem);
    network = await startTestNetwork({ orgs: 2, batchTimeout: '250ms' });
    org1 = ledgerOf('Org1MSP');
    org2 = ledgerOf('Org2MSP');
  });

  after(async () => {
    for (const ledger of ledgers) await ledger.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    if (network) assert.deepEqual(await network.stop(), [], 'down stops every process up started');
  });

  it("installs one CCaaS package on both peers and commits it with a collections config of the channel's organisations", async () => {
    const { state } = network;
    const { peer } = locateFabricBinaries();
    for (const org of state.orgs) {
      const installed = await runTool(peer, ['lifecycle', 'chaincode', 'queryinstalled', '--output', 'json'], {
        env: peerAdminEnv(state, org),
        cwd: state.dir,
      });
      const packages = (JSON.parse(installed.stdout) as { installed_chaincodes: Array<{ package_id: string }> }).installed_chaincodes;
      assert.deepEqual(
        packages.map((p) => p.package_id),
        [state.chaincode.packageId],
        `${org.mspId} runs the one package`,
      );
    }
    const committed = await runTool(
      peer,
      ['lifecycle', 'chaincode', 'querycommitted', '--channelID', state.channel, '--name', state.chaincode.name, '--output', 'json'],
      { env: peerAdminEnv(state, state.orgs[0]!), cwd: state.dir },
    );
    const definition = JSON.parse(committed.stdout) as {
      approvals: Record<string, boolean>;
      collections: { config: Array<{ Payload: { StaticCollectionConfig: { name: string } } }> };
    };
    assert.deepEqual(definition.approvals, { Org1MSP: true, Org2MSP: true });
    assert.deepEqual(definition.collections.config.map((c) => c.Payload.StaticCollectionConfig.name).sort(), [
      'Org1MSPPrivateCollection',
      'Org2MSPPrivateCollection',
    ]);
    assert.equal(state.chaincode.address, '127.0.0.1:{{.ccport}}', 'one package; each peer fills in its own server port');
  });

  ledgerContractSuite(() => ({ org1, org2, client: ledgerOf, tempDir }));

  it("keeps a device's password out of every block file, and off Org2's peer", async () => {
    const deviceId = `${TENANT}:${unique('secret')}`;
    const password = `pw-${randomBytes(12).toString('base64url')}`;
    await org1.registerDevice({ tenant: TENANT, deviceId });
    await org1.setCredentials({ tenant: TENANT, deviceId, authId: 'secret-1', password });
    assert.equal((await org1.getCredentials(TENANT, deviceId))?.password, password);
    // The password travelled only in the transient map and sits only in Org1's private store.
    const needle = Buffer.from(password);
    const files = blockFiles(network.state);
    assert.ok(files.length >= 3, `block files of both peers and the orderer (${files.join(', ')})`);
    for (const file of files) assert.equal(readFileSync(file).indexOf(needle), -1, `the password is not in ${file}`);
    const org2Files = filesUnder(network.state.orgs[1]!.peer.dataDir);
    for (const file of org2Files) assert.equal(readFileSync(file).indexOf(needle), -1, `Org2's peer does not hold the password (${file})`);
  });

  it('key-level endorsement invalidates the same writes when a modified Org2 chaincode endorses them', async () => {
    const deviceId = `${TENANT}:${unique('victim')}`;
    const key = `Org1MSP/ids/${unique('victim')}`;
    const stream = `Org1MSP/${unique('victim')}`;
    const device = await org1.registerDevice({ tenant: TENANT, deviceId });
    const hash = await org1.initHash(key);
    const batch = await org1.anchorBatch({ stream, batchId: 'b1', root: hex('victim 1'), treeSize: 1, prevRoot: GENESIS_ROOT });

    // Org2 serves the rogue contract under the approved package ID and submits without the SDK, endorsed by itself only.
    await restartChaincodeServer('Org2MSP', {
      dir: network.dir,
      modulePath: join(import.meta.dirname, '..', 'fixtures', 'rogue-chaincode'),
      env: { ROGUE_IMPERSONATE_MSP: 'Org1MSP' },
    });
    const attacker = rawContract(network.state, 'Org2MSP');
    try {
      const attempt = async (name: string, args: string[]) => {
        const transaction = await attacker.contract.newProposal(name, { arguments: args, endorsingOrganizations: ['Org2MSP'] }).endorse();
        return (await transaction.submit()).getStatus();
      };
      // The rogue contract does write: a device nobody owns yet is taken, validly.
      const fresh = `${TENANT}:${unique('unclaimed')}`;
      assert.equal((await attempt('RegisterDevice', [TENANT, fresh])).code, 0);
      assert.equal((await org1.getDevice(TENANT, fresh))?.owner, 'Org2MSP');

      const writes: Array<[string, string[]]> = [
        ['RegisterDevice', [TENANT, deviceId]],
        ['UpdateHash', [key, hex('forged'), '']],
        ['AnchorBatch', [stream, 'b2', hex('forged'), '2', hex('victim 1'), '']],
      ];
      for (const [name, args] of writes) {
        const status = await attempt(name, args);
        assert.equal(status.code, 10, `${name} endorsed by the rogue Org2 peer alone commits as ENDORSEMENT_POLICY_FAILURE`);
      }
    } finally {
      attacker.close();
      await restartChaincodeServer('Org2MSP', { dir: network.dir });
    }
    assert.deepEqual(await org1.getDevice(TENANT, deviceId), device);
    assert.deepEqual(await org1.queryHash(key), hash);
    const head = await org1.getHead(stream);
    assert.deepEqual({ seq: head.seq, root: head.root }, { seq: 1, root: batch.root });
    assert.equal(await org1.getBatch(stream, 'b2'), undefined);
    // The honest server is back: Org2's own calls work again.
    assert.equal((await org2.registerDevice({ tenant: TENANT, deviceId: `${TENANT}:${unique('org2')}` })).owner, 'Org2MSP');
  });

  it('relays published telemetry to the HTTP adapter exactly once, across a relay restart', async () => {
    const deviceId = `${TENANT}:${unique('relayed')}`;
    const password = `pw-${randomBytes(12).toString('base64url')}`;
    await org1.registerDevice({ tenant: TENANT, deviceId });
    await org1.setCredentials({ tenant: TENANT, deviceId, authId: 'relayed-1', password });
    const adapter = new FakeHttpAdapter([basicAuthorization('relayed-1', TENANT, password)]);
    await adapter.start();
    const stateDir = tempDir();
    const startBlock = await org1.getChainHeight();
    const relay = (ledger: FabricLedger) => {
      const instance = new TelemetryRelay({
        ledger,
        httpAdapter: { baseUrl: adapter.baseUrl },
        stateDir,
        credentials: 'ledger',
        startBlock,
      });
      const delivered: RelayDelivery[] = [];
      instance.on('delivered', (delivery) => delivered.push(delivery));
      return { instance, delivered };
    };
    const publish = async (value: number) =>
      (
        await org1.publishTelemetry({
          tenant: TENANT,
          thingId: deviceId,
          command: twinCommand(deviceId, value),
          ...(value === 2 ? { ttd: 5 } : {}),
        })
      ).transactionId;
    try {
      const sent = [await publish(1), await publish(2), await publish(3)];
      const first = relay(ledgerOf('Org1MSP'));
      await first.instance.start();
      await until(() => first.delivered.length === 3, 'three deliveries', 60_000);
      await first.instance.stop();
      assert.deepEqual(
        first.delivered.map((d) => d.transactionId),
        sent,
      );
      assert.equal(first.delivered[1]?.command?.name, 'switch', 'the hono-ttd answer carried a command');

      sent.push(await publish(4), await publish(5));
      const second = relay(ledgerOf('Org1MSP'));
      await second.instance.start();
      await until(() => second.delivered.length === 2, 'the two new deliveries', 60_000);
      // Give a wrongly replayed event time to show up before counting.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await second.instance.stop();
      assert.deepEqual(
        second.delivered.map((d) => d.transactionId),
        sent.slice(3),
      );

      const bodies = adapter.accepted().map((request) => request.body);
      assert.deepEqual(
        bodies,
        [1, 2, 3, 4, 5].map((value) => twinCommand(deviceId, value)),
        'each command once, byte for byte, in ledger order',
      );
      assert.equal(adapter.received.length, 5);
      assert.equal(adapter.received[1]?.headers['hono-ttd'], '5');
    } finally {
      await adapter.stop();
    }
  });
});
