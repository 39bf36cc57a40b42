// The smart-city demo with the embedded Cloud2Edge sandbox but a real Fabric 2.5 network (the TwinLedger chaincode
// as a service) and a real Kubo daemon, configured the way a deployment configures them (TWINLEDGER_FABRIC_*,
// TWINLEDGER_KUBO_URL): the very same sample code verifies everything on the peer and the node, catches the
// tamperings it can make there, and says why it skips the one it cannot (Kubo refuses blocks that do not match).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type SmartCityReport, runSmartCity } from '../../samples/smart-city/run.js';
import { gatewayOptions } from '../../scripts/fabric-network/index.js';
import { type TestNetwork, fabricEnv, fabricProblem, startTestNetwork } from '../support/fabric.js';
import { type Kubo, kuboProblem, startKubo } from '../support/kubo.js';
import { skipUnlessAvailable } from '../support/services.js';

const problem = fabricProblem() ?? kuboProblem();

describe('sample: smart city on Fabric 2.5 and Kubo', { skip: skipUnlessAvailable(problem) }, () => {
  let network: TestNetwork | undefined;
  let kubo: Kubo | undefined;
  let report: SmartCityReport;
  const dataDir = mkdtempSync(join(tmpdir(), 'twinledger-smart-city-real-'));

  before(async () => {
    if (problem !== undefined) throw new Error(problem);
    [network, kubo] = await Promise.all([startTestNetwork({ orgs: 1, batchTimeout: '100ms' }), startKubo()]);
    const gateway = gatewayOptions(network.state, 'Org1MSP');
    report = await runSmartCity({
      dataDir,
      env: {
        ...fabricEnv(gateway),
        TWINLEDGER_KUBO_URL: kubo.url,
      },
    });
  });

  after(async () => {
    await kubo?.dispose();
    if (network) assert.deepEqual(await network.stop(), []);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs on the peer and the node, verifies everything there, and catches the tamperings it can make', { timeout: 180_000 }, () => {
    assert.match(report.parts.ledger, /^Fabric peer 127\.0\.0\.1:\d+$/);
    assert.match(report.parts.store, /^Kubo at http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(report.parts.cloud2edge, 'embedded sandbox');
    assert.ok(
      report.before.audits.every((audit) => audit.ok),
      JSON.stringify(report.before.audits),
    );
    assert.ok(report.before.proofs.every((check) => check.verdict.checks.every((result) => result.status === 'ok')));
    assert.ok(report.before.publications.every((publication) => publication.ok));
    assert.ok(report.ledgerTransactions.publishTelemetryData === 3 && report.batches >= 2);
    assert.deepEqual(
      report.tamperings.map((tampering) => [tampering.id, tampering.applied]),
      [
        ['store-payload', false],
        ['twin-value', true],
        ['forged-proof', true],
      ],
    );
    assert.match(report.tamperings[0]!.skipped ?? '', /Kubo node, which refuses blocks/);
    assert.ok(report.assessment.detections.every((detection) => detection.detected));
    assert.deepEqual(report.assessment.unexplained, []);
    assert.equal(report.ok, true);
  });
});
