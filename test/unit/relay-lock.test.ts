import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ValidationError } from '../../src/core/index.js';
import { acquireRelayLock } from '../../src/ledger/relay-lock.js';

const root = mkdtempSync(join(tmpdir(), 'twinledger-relay-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
const folder = (): string => mkdtempSync(join(root, 'state-'));

// Several relays in one test process: each gets its own pid; the pids in `alive` are running processes.
const alive = new Set([1001, 1002, 1003, 1004]);
const as = (pid: number) => ({ pid, isAlive: (other: number) => alive.has(other) });

describe('relay lock', () => {
  it('creates the lock whole, refuses a live holder and releases only its own lock', async () => {
    const dir = folder();
    const lock = await acquireRelayLock(dir, as(1001));
    assert.equal(readFileSync(lock.path, 'utf8').split('\n')[0], '1001');
    await assert.rejects(
      acquireRelayLock(dir, as(1002)),
      (error: unknown) => error instanceof ValidationError && /another relay \(pid 1001\) uses/.test(error.message),
    );
    await lock.release();
    const next = await acquireRelayLock(dir, as(1002));
    await lock.release(); // a stale release must not remove the new holder's lock
    assert.equal(readFileSync(next.path, 'utf8').split('\n')[0], '1002');
    await next.release();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('treats a lock with the own pid as stale (a container restarted as the same pid)', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'relay.lock'), '1001\n');
    const lock = await acquireRelayLock(dir, as(1001));
    assert.notEqual(readFileSync(lock.path, 'utf8'), '1001\n');
  });

  it('lets exactly one of several relays racing for a stale lock win', async () => {
    for (let round = 0; round < 40; round += 1) {
      const dir = folder();
      writeFileSync(join(dir, 'relay.lock'), '999999\n'); // a relay that is gone
      const results = await Promise.allSettled([1001, 1002, 1003, 1004].map((pid) => acquireRelayLock(dir, as(pid))));
      const winners = results.filter((r) => r.status === 'fulfilled');
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} relays took the lock`);
      for (const result of results) {
        if (result.status === 'rejected')
          assert.ok(
            result.reason instanceof ValidationError && /another relay \(pid \d+\) (uses|is starting on)/.test(result.reason.message),
            String(result.reason),
          );
      }
      const holder = readFileSync(join(dir, 'relay.lock'), 'utf8').split('\n')[0];
      assert.ok(['1001', '1002', '1003', '1004'].includes(holder as string));
      assert.deepEqual(readdirSync(dir), ['relay.lock'], 'no temporary or takeover file left');
    }
  });

  it('says how to recover when a takeover was interrupted', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'relay.lock'), '999999\n');
    // A relay died between claiming the takeover and replacing the lock.
    const first = await acquireRelayLock(dir, as(1001));
    await first.release();
    writeFileSync(join(dir, 'relay.lock'), '999998\n');
    const marker = join(dir, `relay.lock.takeover-${createHash('sha256').update('999998\n').digest('hex').slice(0, 16)}`);
    writeFileSync(marker, '999997\n');
    await assert.rejects(
      acquireRelayLock(dir, as(1002)),
      (error: unknown) =>
        error instanceof ValidationError &&
        /takeover of the stale lock .* was interrupted.*delete .*relay\.lock and .*takeover-/.test(error.message),
    );
  });
});
