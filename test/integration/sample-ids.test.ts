// The IDS sample (npm run sample:ids, the paper's PoC 1) on the embedded defaults: both injected attacks flagged by
// their IDS twin and nothing else, results in IPFS with their hashes on the ledger (InitHash then UpdateHash), the
// controller verifying them and closing the valve by command, and a tampered result refused.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type IdsReport, runIdsSample } from '../../samples/ids/run.js';

describe('sample: IDS on a filling plant (npm run sample:ids)', () => {
  let dataDir: string;
  let report: IdsReport;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'twinledger-ids-test-'));
    report = await runIdsSample({ dataDir, env: {} });
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('flags each injected attack with its IDS twin, without false alarms, and keeps the results on IPFS and the ledger', () => {
    assert.deepEqual(
      report.findings.map((finding) => [finding.ids, finding.detector, finding.flagged]),
      [
        ['org.plant:ids-1', 'mass-balance', [15, 16, 17, 18]],
        ['org.plant:ids-2', 'valve-state', [25, 26, 27]],
      ],
    );
    for (const finding of report.findings) {
      assert.match(finding.cid, /^bafkrei[a-z2-7]+$/);
      assert.match(finding.sha256, /^[0-9a-f]{64}$/);
      assert.equal(finding.ledgerVersions, 2, 'InitHash and UpdateHash');
    }
  });

  it('the controller verifies both results against the ledger, closes the valve by command, and refuses a tampered result', () => {
    assert.deepEqual(
      report.controller.checks.map((check) => [check.key, check.verified, check.attacks]),
      [
        ['ids/org.plant/ids-1', true, 4],
        ['ids/org.plant/ids-2', true, 3],
      ],
    );
    assert.deepEqual(report.controller.command, { status: 200, answer: { valveOpen: false } });
    assert.equal(report.controller.valveClosed, true);
    assert.equal(report.tampering.applied, true);
    assert.equal(report.tampering.check?.verified, false);
    assert.match(report.tampering.check?.detail ?? '', /does not hash to its CID/);
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
  });
});
