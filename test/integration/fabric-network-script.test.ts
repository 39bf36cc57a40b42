/**
 * scripts/fabric-network: `up` is idempotent and rebuilds a network that lost a process, a failed `up` leaves
 * nothing running, and `down` stops exactly the recorded processes and removes the folder. Needs FABRIC_BIN_DIR.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { down, isRunning, readState, status, up } from '../../scripts/fabric-network/index.js';
import { fabricProblem } from '../support/fabric.js';
import { skipUnlessAvailable } from '../support/services.js';

const problem = fabricProblem();

describe('scripts/fabric-network up / down', { skip: skipUnlessAvailable(problem) }, () => {
  const root = mkdtempSync(join(tmpdir(), 'twinledger-fabric-script-'));
  const dir = join(root, 'network');
  after(async () => {
    await down({ dir }).catch(() => undefined);
    await down({ dir: join(root, 'broken') }).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('returns the running network on a second up, and rebuilds one that lost a process', async () => {
    if (problem) throw new Error(problem);
    const first = await up({ dir });
    assert.equal(first.status, 'up');
    assert.deepEqual(
      first.processes.map((p) => p.name),
      ['orderer', 'peer0.org1.example.com', 'chaincode.org1'],
    );
    assert.ok(first.processes.every((p) => isRunning(p)));

    const again = await up({ dir });
    assert.deepEqual(
      again.processes.map((p) => p.pid),
      first.processes.map((p) => p.pid),
      'nothing restarted',
    );
    assert.equal(again.createdAt, first.createdAt);
    assert.deepEqual(status({ dir })?.processes, first.processes);

    const peer = first.processes[1]!;
    process.kill(peer.pid, 'SIGKILL');
    for (let i = 0; i < 100 && isRunning(peer); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(status({ dir }), undefined, 'a network with a dead process is not up');

    const rebuilt = await up({ dir });
    assert.notEqual(rebuilt.createdAt, first.createdAt);
    assert.ok(
      first.processes.every((p) => !isRunning(p)),
      'the survivors of the old network were stopped',
    );
    assert.ok(rebuilt.processes.every((p) => isRunning(p)));
  });

  it('down stops exactly the recorded processes and removes the folder; a second down does nothing', async () => {
    const state = readState(dir);
    assert.ok(state, 'the network of the previous test');
    await down({ dir });
    assert.ok(state.processes.every((p) => !isRunning(p)));
    assert.equal(existsSync(dir), false);
    assert.equal(existsSync(`${dir}.lock`), false);
    await down({ dir });
  });

  it('a failed up stops what it started and keeps the logs', async () => {
    const broken = join(root, 'broken');
    await assert.rejects(up({ dir: broken, endorsementPolicy: 'NOT A POLICY' }), (error: Error) => {
      assert.match(error.message, /fabric-network up failed; processes stopped, logs kept in .*logs/);
      assert.match(error.message, /approveformyorg/);
      return true;
    });
    const state = readState(broken);
    assert.ok(state && state.processes.length >= 2, 'the orderer and the peer had been started');
    assert.ok(
      state.processes.every((p) => !isRunning(p)),
      'none is left running',
    );
    assert.ok(readdirSync(join(broken, 'logs')).includes('orderer.log'));
    await down({ dir: broken });
    assert.equal(existsSync(broken), false);
  });
});
