/**
 * DevLedger against the shared Ledger contract suite (the same tests FabricLedger passes on a real two-organisation
 * Fabric network), and what the dev ledger adds to show Fabric's rules: key-level endorsement checked against the
 * endorsing organisations, read conflicts re-run as FabricLedger re-runs them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommitError, GENESIS_ROOT, type Ledger } from '../../src/ledger/index.js';
import { DevLedger, type Logger } from '../../src/ledger/dev/index.js';
import { type Org, RecordingLogger, TENANT, hex, ledgerContractSuite, rejection, unique } from '../support/ledger-suite.js';

describe('DevLedger: the Ledger contract suite', () => {
  const dirs: string[] = [];
  let ledger: DevLedger;
  let org2: Ledger;
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinledger-dev-'));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    // A block timeout long enough that concurrent submitters share blocks, as on an orderer.
    ledger = await DevLedger.open({ directory: join(tempDir(), 'ledger'), organizations: ['Org1MSP', 'Org2MSP'], blockTimeoutMs: 25 });
    org2 = ledger.as('Org2MSP');
  });

  after(async () => {
    await ledger?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  ledgerContractSuite(() => ({
    org1: ledger,
    org2,
    client: (org: Org, logger?: Logger) => ledger.as(org, logger ? { logger } : {}),
    tempDir,
  }));

  it('invalidates a write to an owned key endorsed by another organisation (ENDORSEMENT_POLICY_FAILURE), the record unchanged', async () => {
    const key = `Org1MSP/ids/${unique('guarded')}`;
    const deviceId = `${TENANT}:${unique('guarded')}`;
    const stream = `Org1MSP/${unique('guarded')}`;
    const hash = await ledger.initHash(key);
    const device = await ledger.registerDevice({ tenant: TENANT, deviceId });
    await ledger.anchorBatch({ stream, batchId: 'b1', root: hex('guarded 1'), treeSize: 1, prevRoot: GENESIS_ROOT });
    // Org1's own client, but only Org2's peer endorses: the contract agrees (the caller owns the key), the key-level
    // policy set at creation does not.
    const endorsedByOrg2 = ledger.as('Org1MSP', { endorsingOrganizations: ['Org2MSP'] });
    for (const attempt of [
      () => endorsedByOrg2.updateHash({ key, sha256: hex('forged') }),
      () => endorsedByOrg2.anchorBatch({ stream, batchId: 'b2', root: hex('forged'), treeSize: 2, prevRoot: hex('guarded 1') }),
    ]) {
      const error = await rejection(attempt());
      assert.ok(error instanceof CommitError, String(error));
      assert.equal(error.validationCode, 10);
      assert.equal(error.statusName, 'ENDORSEMENT_POLICY_FAILURE');
    }
    // Registering the device again writes nothing (the owner's record comes back), so no policy is involved.
    assert.deepEqual(await endorsedByOrg2.registerDevice({ tenant: TENANT, deviceId }), device);
    assert.deepEqual(await ledger.queryHash(key), hash);
    assert.deepEqual(await ledger.getDevice(TENANT, deviceId), device);
    assert.equal((await ledger.getHead(stream)).seq, 1);
    // Endorsed by both organisations, the owner's peer among them: valid.
    const both = ledger.as('Org1MSP', { endorsingOrganizations: ['Org1MSP', 'Org2MSP'] });
    assert.equal((await both.updateHash({ key, sha256: hex('v1') })).version, 1);
    const block = await ledger.getBlock((await ledger.getChainHeight()) - 1n);
    assert.deepEqual(block?.transactions[0]?.endorsers, ['Org1MSP', 'Org2MSP']);
  });

  it('re-runs transactions that lost an MVCC read conflict, as FabricLedger does', async () => {
    const key = `Org1MSP/ids/${unique('contended')}`;
    await ledger.initHash(key);
    const logger = new RecordingLogger();
    const updaters = Array.from({ length: 4 }, () => ledger.as('Org1MSP', { logger }));
    const updates = await Promise.all(updaters.map((updater, i) => updater.updateHash({ key, sha256: hex(`writer ${i}`) })));
    assert.deepEqual(updates.map((record) => record.version).sort(), [1, 2, 3, 4], 'each writer got its own version: no update lost');
    assert.ok(
      logger.warnings.some(
        (warning) => /conflicted; running it again/.test(warning.message) && /MVCC_READ_CONFLICT/.test(String(warning.fields?.reason)),
      ),
      'at least one writer conflicted and ran again',
    );
    assert.equal((await ledger.getHashHistory(key)).length, 5);
  });
});
