/**
 * DevLedger: submits per second and commit latency (p50/p99 of the whole `anchorBatch` call: argument checks,
 * endorsement by the real chaincode on the stub, ordering, validation, the synchronous LMDB commit of the block) with
 * several concurrent submitters, each extending an AnchorBatch stream of its own (batches of one stream are a chain:
 * one at a time), per orderer block timeout. Goal: at least 1,000 submits/s. A second line per run reports the blocks
 * cut (transactions per block). Prints one JSON line per measurement.
 *
 *   BENCH_SECONDS (5)  BENCH_CONCURRENCY (1,8,32,64)  BENCH_BLOCK_TIMEOUTS (2,0,10)  BENCH_BLOCK_MAX (500)
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevLedger, GENESIS_ROOT } from '../src/ledger/dev/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8,32,64').split(',').map(Number);
const BLOCK_TIMEOUTS = (process.env.BENCH_BLOCK_TIMEOUTS ?? '2,0,10').split(',').map(Number);
const BLOCK_MAX = Number(process.env.BENCH_BLOCK_MAX ?? 500);
const GOAL = 1_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

for (const blockTimeoutMs of BLOCK_TIMEOUTS) {
  for (const concurrency of CONCURRENCY) {
    const root = mkdtempSync(join(tmpdir(), 'twinledger-dev-bench-'));
    const ledger = await DevLedger.open({ directory: join(root, 'ledger'), blockTimeoutMs, blockMaxTransactions: BLOCK_MAX });
    try {
      const run = randomBytes(4).toString('hex');
      const heads = new Map<number, string>();
      const anchor = async (worker: number, sequence: number) => {
        const stream = `Org1MSP/bench-${run}-${worker}`;
        const batchRoot = sha256(`${stream}/${sequence}`);
        await ledger.anchorBatch({
          stream,
          batchId: `b${sequence}`,
          root: batchRoot,
          treeSize: 256,
          prevRoot: heads.get(worker) ?? GENESIS_ROOT,
        });
        heads.set(worker, batchRoot);
      };
      await anchor(-1, 0); // warm up: the chaincode and the store

      const latencies: number[] = [];
      let failures = 0;
      let firstFailure: string | undefined;
      const startHeight = await ledger.getChainHeight();
      const started = performance.now();
      const deadline = started + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async (_, worker) => {
          for (let sequence = 1; performance.now() < deadline; sequence += 1) {
            const begin = performance.now();
            try {
              await anchor(worker, sequence);
              latencies.push(performance.now() - begin);
            } catch (error) {
              failures += 1;
              firstFailure ??= (error as Error).message;
              break;
            }
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const blocks = Number((await ledger.getChainHeight()) - startHeight);
      latencies.sort((a, b) => a - b);
      const submitsPerSec = latencies.length / seconds;
      console.log(
        JSON.stringify({
          bench: 'dev-ledger',
          transaction: 'AnchorBatch',
          concurrency,
          blockTimeoutMs,
          blockMaxTransactions: BLOCK_MAX,
          transactions: latencies.length,
          seconds: Number(seconds.toFixed(2)),
          submitsPerSec: Number(submitsPerSec.toFixed(1)),
          p50Ms: Number(percentile(latencies, 50).toFixed(2)),
          p99Ms: Number(percentile(latencies, 99).toFixed(2)),
          blocks,
          transactionsPerBlock: blocks > 0 ? Number((latencies.length / blocks).toFixed(1)) : 0,
          goalSubmitsPerSec: GOAL,
          goalMet: submitsPerSec >= GOAL,
          failures,
          ...(firstFailure ? { firstFailure } : {}),
        }),
      );
    } finally {
      await ledger.close();
      rmSync(root, { recursive: true, force: true });
    }
  }
}
