// The smart-city sample (npm run demo) on the embedded defaults: the fleet provisioned and running, every twin
// revision, the command and its answer anchored and verified, the PublishTelemetryData hashes on the ledger; then the
// three tamperings, each named by the check that caught it, and everything else still verifying.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FLEET, ROUNDS } from '../../samples/smart-city/fleet.js';
import { formatReport } from '../../samples/smart-city/report.js';
import { type SmartCityReport, runSmartCity } from '../../samples/smart-city/run.js';

describe('sample: smart city (npm run demo)', () => {
  let dataDir: string;
  let report: SmartCityReport;
  const steps: string[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'twinledger-smart-city-test-'));
    // An empty environment: the embedded defaults, whatever the CI machine exports.
    report = await runSmartCity({ dataDir, env: {}, onStep: (step) => steps.push(step) });
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs the fleet on the embedded defaults: readings over MQTT, HTTP and the ledger, a command answered by the traffic light', () => {
    assert.equal(report.parts.cloud2edge, 'embedded sandbox');
    assert.match(report.parts.ledger, /^DevLedger/);
    assert.match(report.parts.store, /^EmbeddedStore/);
    assert.equal(report.devices, FLEET.length);
    assert.deepEqual(report.readings, { mqtt: 2 * 2 * ROUNDS, http: ROUNDS, ledger: ROUNDS });
    assert.equal(report.command.status, 200);
    assert.equal((report.command.answer as { phase?: string }).phase, 'green');
    assert.deepEqual(steps.slice(0, 2), [
      'starting the environment',
      'provisioning the fleet, sending readings, switching the traffic light',
    ]);
  });

  it('anchors every revision of every twin (creation included) and the command records, in few batches', () => {
    // Per thing: its creation and one revision per reading (the traffic light: its creation and the phase it was switched to).
    const expected = FLEET.reduce(
      (sum, device) => sum + 1 + (device.kind === 'air-quality' ? 2 * ROUNDS : device.kind === 'parking' ? ROUNDS : 1),
      0,
    );
    assert.equal(report.records.twin, expected);
    assert.equal(report.records.things, FLEET.length);
    assert.equal(report.records.command, 2);
    // Two streams (twin, commands), each batched: fewer batches than records (how many depends on timing).
    assert.ok(report.batches >= 2 && report.batches < report.records.twin + report.records.command, `${report.batches} batches`);
    assert.equal(report.ledgerTransactions.publishTelemetryData, ROUNDS);
    assert.equal(report.ledgerTransactions.deviceSetup, 2, 'RegisterDevice and SetCredentials of the ledger-path sensor');
    // DevLedger's orderer may cut several transactions into one block, as Fabric's does.
    const transactions = report.batches + ROUNDS + 2;
    assert.ok(
      report.ledgerBlocks >= 1 && report.ledgerBlocks <= transactions,
      `${report.ledgerBlocks} blocks for ${transactions} transactions`,
    );
  });

  it('verifies everything before the tampering', () => {
    assert.ok(
      report.before.audits.every((audit) => audit.ok),
      JSON.stringify(report.before.audits),
    );
    assert.ok(report.before.audits.every((audit) => audit.history.compared));
    assert.ok(report.before.proofs.every((check) => check.verdict.checks.every((result) => result.status === 'ok')));
    assert.equal(report.before.publications.length, ROUNDS);
    assert.ok(report.before.publications.every((publication) => publication.ok));
  });

  it('catches and names each tampering, and everything untouched still verifies', () => {
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.tamperings.map((tampering) => [tampering.id, tampering.applied]),
      [
        ['store-payload', true],
        ['twin-value', true],
        ['forged-proof', true],
      ],
    );
    const by = Object.fromEntries(report.assessment.detections.map((detection) => [detection.tampering.id, detection.by.join('\n')]));
    assert.match(by['store-payload']!, /proof-failed .*payload failed.*does not hash to its CID/s);
    assert.match(by['twin-value']!, /value-differs .*\/features\/occupancy\/properties\/occupied = true, but Ditto has false/);
    assert.match(by['forged-proof']!, /inclusion failed/);
    assert.deepEqual(report.assessment.unexplained, []);
    const untouched = report.after.audits.filter(
      (audit) => !['org.smartcity:air-quality-1', 'org.smartcity:parking-1'].includes(audit.thingId),
    );
    assert.equal(untouched.length, 3);
    assert.ok(untouched.every((audit) => audit.ok));
    assert.deepEqual(
      report.after.proofs.map((check) => [check.label, check.verdict.ok]),
      [
        ['setPhase command', true],
        ['setPhase answer', true],
        ['setPhase command (forged copy)', false],
      ],
    );
  });

  it('prints a report that names the verdicts', () => {
    const text = formatReport(report);
    assert.match(text, /^TwinLedger smart-city demo/);
    assert.equal((text.match(/✔ caught/g) ?? []).length, 3);
    assert.doesNotMatch(text, /MISSED|unexplained:/);
    assert.match(text, /\nOK: 3 of 3 tamperings caught, 0 unexplained failures/);
  });
});
