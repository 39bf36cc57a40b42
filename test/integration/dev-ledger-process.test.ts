/**
 * DevLedger across processes: one writer per folder (a second process is refused, naming the holder), and a process
 * killed with SIGKILL in the middle of a stream of submits leaves a ledger that opens, verifies, holds every
 * acknowledged transaction and no half-applied one — private data (credentials) included, whose store is committed
 * apart from the block log.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { DevLedger, GENESIS_ROOT } from '../../src/ledger/dev/index.js';
import { hex } from '../support/ledger-suite.js';

const SCRIPT = join(import.meta.dirname, '..', 'fixtures', 'dev-ledger', 'process.ts');

interface Child {
  process: ChildProcess;
  /** Every JSON line printed so far. */
  lines: Array<Record<string, unknown>>;
  /** Resolves once `count` lines were printed. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

function start(directory: string, mode: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, directory, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    lines,
    exited,
    waitFor: (count, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child printed ${lines.length} of ${count} lines; stderr: ${stderr}`)), timeoutMs);
        const check = () => {
          if (lines.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        void exited.then(() => {
          if (lines.length < count) reject(new Error(`child exited after ${lines.length} of ${count} lines; stderr: ${stderr}`));
        });
        check();
      }),
  };
}

describe('DevLedger processes', () => {
  const dirs: string[] = [];
  const children: Child[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinledger-dev-'));
    dirs.push(dir);
    return join(dir, 'ledger');
  };

  after(() => {
    for (const child of children) child.process.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a second process opening the same folder is refused, naming the process that has it open', async () => {
    const directory = folder();
    const holder = start(directory, 'hold');
    children.push(holder);
    await holder.waitFor(1);
    const second = start(directory, 'try-open');
    await second.waitFor(1);
    assert.deepEqual(second.lines[0], {
      name: 'LedgerLockedError',
      code: 'ledger.dev.locked',
      pid: holder.process.pid,
      message: second.lines[0]?.message,
    });
    assert.match(String(second.lines[0]?.message), new RegExp(`is open in process ${holder.process.pid}.*single-writer`));
    // In this process too; and once the holder is gone its lock is stale and taken over.
    await assert.rejects(DevLedger.open({ directory }), { name: 'LedgerLockedError' });
    holder.process.kill('SIGKILL');
    await holder.exited;
    const ledger = await DevLedger.open({ directory });
    await ledger.close();
  });

  it('SIGKILL during a stream of submits leaves a consistent ledger: every acknowledged transaction, none half-applied', async () => {
    const directory = folder();
    const writer = start(directory, 'stream');
    children.push(writer);
    await writer.waitFor(1 + 200);
    writer.process.kill('SIGKILL');
    await writer.exited;
    const lines = writer.lines.slice(1) as Array<{ kind: string; stream: string; batchId: string; seq: number; txId: string; n: number }>;
    const acknowledged = lines.filter((line) => line.kind === 'batch');
    const credentialsAcknowledged = lines.filter((line) => line.kind === 'credentials');
    assert.ok(acknowledged.length > 0 && credentialsAcknowledged.length > 0, 'batches and credentials were acknowledged');

    const ledger = await DevLedger.open({ directory }); // verifies the chain and every row on open
    try {
      for (const ack of acknowledged) {
        const batch = await ledger.getBatch(ack.stream, ack.batchId);
        assert.equal(batch?.txId, ack.txId, `acknowledged batch ${ack.stream}/${ack.batchId} is on the ledger`);
      }
      for (const submitter of [0, 1, 2, 3]) {
        const stream = `crash/${submitter}`;
        const head = await ledger.getHead(stream);
        const acked = acknowledged.filter((ack) => ack.stream === stream).length;
        assert.ok(head.seq >= acked, `${stream}: the head covers every acknowledged batch`);
        // Batch and head are written by one transaction: the chain from the head back to genesis is whole, and nothing is beyond it.
        let prevRoot = GENESIS_ROOT;
        for (let seq = 1; seq <= head.seq; seq += 1) {
          const batch = await ledger.getBatch(stream, `b${seq}`);
          assert.equal(batch?.prevRoot, prevRoot, `${stream} b${seq} links to b${seq - 1}`);
          prevRoot = hex(`${stream} ${seq}`);
        }
        assert.equal(head.root, prevRoot);
        assert.equal(await ledger.getBatch(stream, `b${head.seq + 1}`), undefined, `${stream}: no batch beyond the head`);
      }
      // The device's public record and its private credentials are from one transaction, at least the last acknowledged.
      const device = await ledger.getDevice('org.acme', 'org.acme:crash-credentials');
      const credentials = await ledger.getCredentials('org.acme', 'org.acme:crash-credentials');
      assert.ok(device?.credentials && credentials, 'credentials are set');
      assert.equal(device.credentials.txId, credentials.txId, 'public commitment and private credentials of the same transaction');
      const n = Number(/^password-(\d+)$/.exec(credentials.password)?.[1]);
      assert.ok(n >= (credentialsAcknowledged.at(-1)?.n ?? 0), `stored credentials ${n} cover the acknowledged ones`);
      if (n <= (credentialsAcknowledged.at(-1)?.n ?? 0)) {
        assert.equal(credentials.txId, credentialsAcknowledged.find((line) => line.n === n)?.txId);
      }
      const commitment = createHash('sha256')
        .update(
          Buffer.concat([
            Buffer.from(credentials.salt, 'hex'),
            Buffer.from(credentials.authId),
            Buffer.from([0]),
            Buffer.from(credentials.password),
          ]),
        )
        .digest('hex');
      assert.equal(device.credentials.commitment, commitment);
      // And it goes on.
      const head = await ledger.getHead('crash/0');
      const next = await ledger.anchorBatch({
        stream: 'crash/0',
        batchId: `b${head.seq + 1}`,
        root: hex('after the crash'),
        treeSize: 1,
        prevRoot: head.root,
      });
      assert.equal(next.seq, head.seq + 1);
    } finally {
      await ledger.close();
    }
  });
});
