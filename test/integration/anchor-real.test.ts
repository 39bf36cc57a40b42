// The anchoring pipeline on real components: a Fabric 2.5 network with the TwinLedger chaincode as a service (one
// organisation) through FabricLedger, and a real Kubo daemon through KuboStore. The same Anchorer code as on the
// embedded defaults: records appended, batches and single records anchored, every proof passing all four checks, the
// stream's chain walked on the peer, a payload changed behind the store's back caught. The anchorer is configured the
// way a deployment configures it, from TWINLEDGER_FABRIC_* and TWINLEDGER_KUBO_URL (Anchorer.fromEnv).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Anchorer, type BatchProof, verify, verifyStream } from '../../src/anchor/index.js';
import { FabricLedger } from '../../src/ledger/index.js';
import { KuboStore } from '../../src/offchain/index.js';
import { gatewayOptions } from '../../scripts/fabric-network/index.js';
import { type TestNetwork, fabricEnv, fabricProblem, startTestNetwork } from '../support/fabric.js';
import { type Kubo, kuboProblem, startKubo } from '../support/kubo.js';
import { skipUnlessAvailable } from '../support/services.js';

const problem = fabricProblem() ?? kuboProblem();

describe('Anchorer on Fabric 2.5 and Kubo', { skip: skipUnlessAvailable(problem) }, () => {
  let network: TestNetwork | undefined;
  let kubo: Kubo | undefined;
  let ledger: FabricLedger;
  let store: KuboStore;
  let anchorer: Anchorer;
  const dataDir = mkdtempSync(join(tmpdir(), 'twinledger-anchor-real-'));

  before(async () => {
    if (problem !== undefined) throw new Error(problem);
    [network, kubo] = await Promise.all([startTestNetwork({ orgs: 1, batchTimeout: '100ms' }), startKubo()]);
    const gateway = gatewayOptions(network.state, 'Org1MSP');
    ledger = FabricLedger.connect(gateway);
    store = new KuboStore({ url: kubo.url, offline: true });
    const env = {
      TWINLEDGER_DATA_DIR: dataDir,
      ...fabricEnv(gateway),
      TWINLEDGER_KUBO_URL: kubo.url,
    };
    anchorer = await Anchorer.fromEnv({ batch: { maxLeaves: 16, maxWaitMs: 100 } }, env);
  });

  after(async () => {
    await anchorer?.close();
    await store?.close();
    await ledger?.close();
    await kubo?.dispose();
    if (network) assert.deepEqual(await network.stop(), []);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'anchors batches and single records on the peer; every proof passes inclusion, anchored, chain and payload',
    { timeout: 120_000 },
    async () => {
      const batched = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          anchorer.append({ tenant: 'org.acme', thingId: `org.acme:sensor-${i % 4}`, kind: 'telemetry', payload: { i } }),
        ),
      );
      const single = await anchorer.append({
        tenant: 'org.acme',
        stream: 'valves',
        thingId: 'org.acme:valve',
        kind: 'command',
        payload: { close: true },
        anchor: 'record',
      });
      const proofs = await Promise.all([...batched, single].map((receipt) => receipt.proof({ timeoutMs: 60_000 })));
      for (const proof of proofs) {
        const verdict = await verify(proof, { ledger, store });
        const expected = proof.mode === 'batch' ? ['ok', 'ok', 'ok', 'ok'] : ['ok', 'ok', 'skipped', 'ok'];
        assert.deepEqual(
          verdict.checks.map((check) => check.status),
          expected,
          JSON.stringify(verdict.checks),
        );
        assert.equal(verdict.ok, true);
        assert.match(proof.ledger.block ?? '', /^\d+$/, 'the block the peer reported for the transaction');
      }
      const batches = new Set(proofs.filter((proof): proof is BatchProof => proof.mode === 'batch').map((proof) => proof.batchId));
      assert.ok(batches.size >= 3, `40 records at most 16 per batch: ${batches.size}`);
      const walk = await verifyStream(ledger, 'org.acme/default');
      assert.equal(walk.ok, true, JSON.stringify(walk));
      assert.equal(walk.batches, batches.size);
    },
  );

  it('a payload the store answers differently for fails the payload check, and only that', { timeout: 60_000 }, async () => {
    const receipt = await anchorer.append({ tenant: 'org.acme', thingId: 'org.acme:sensor-9', kind: 'telemetry', payload: { reading: 1 } });
    const proof = await receipt.proof({ timeoutMs: 60_000 });
    const lying = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'get') return async () => new TextEncoder().encode('{"reading":2}');
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const verdict = await verify(proof, { ledger, store: lying });
    assert.equal(verdict.ok, false);
    assert.deepEqual(
      verdict.checks.map((check) => `${check.check}:${check.status}`),
      ['inclusion:ok', 'anchored:ok', 'chain:ok', 'payload:failed'],
    );
  });
});
