/**
 * FabricLedger on a real Fabric 2.5 network (scripts/fabric-network: one organisation, one peer, one Raft
 * orderer, TLS, the TwinLedger chaincode as a service, all on loopback of this machine): transactions per second
 * and submit→commit latency (p50/p99 of the whole `anchorBatch` / `publishTelemetry` call: endorse, order, commit
 * status) for `AnchorBatch` and `PublishTelemetryData`, with 1, 8 and 32 concurrent submitters sharing one gateway
 * connection. Each AnchorBatch submitter extends a stream of its own (batches of one stream are a chain and must
 * be sequential); telemetry submitters publish for one device. Measured per orderer batch timeout, which bounds
 * how long a transaction waits for its block. No target: these figures calibrate the anchoring pipeline's
 * per-record mode. Needs FABRIC_BIN_DIR. Prints one JSON line per measurement.
 *
 *   BENCH_SECONDS (8)  BENCH_CONCURRENCY (1,8,32)  BENCH_BATCH_TIMEOUTS (500ms,100ms)
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FabricLedger, GENESIS_ROOT } from '../src/ledger/index.js';
import { down, gatewayOptions, up } from '../scripts/fabric-network/index.js';
import { fabricProblem } from '../test/support/fabric.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8,32').split(',').map(Number);
const BATCH_TIMEOUTS = (process.env.BENCH_BATCH_TIMEOUTS ?? '500ms,100ms').split(',');
const TENANT = 'bench.acme';
const DEVICE = 'bench.acme:sensor-1';

const problem = fabricProblem();
if (problem) {
  console.log(JSON.stringify({ bench: 'fabric-ledger', skipped: problem }));
  process.exit(0);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

type Submit = (worker: number, sequence: number) => Promise<unknown>;

async function measure(
  submit: Submit,
  concurrency: number,
): Promise<{ transactions: number; seconds: number; latencies: number[]; failures: number; firstFailure?: string }> {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let sequence = 0; performance.now() < deadline; sequence += 1) {
        const begin = performance.now();
        try {
          await submit(worker, sequence);
          latencies.push(performance.now() - begin);
        } catch (error) {
          failures += 1;
          firstFailure ??= (error as Error).message;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    transactions: latencies.length,
    seconds,
    latencies: latencies.sort((a, b) => a - b),
    failures,
    ...(firstFailure ? { firstFailure } : {}),
  };
}

for (const batchTimeout of BATCH_TIMEOUTS) {
  const root = mkdtempSync(join(tmpdir(), 'twinledger-fabric-bench-'));
  const dir = join(root, 'network');
  try {
    const started = performance.now();
    const state = await up({ dir, batchTimeout, logSpec: 'warning' });
    console.log(
      JSON.stringify({
        bench: 'fabric-ledger',
        name: 'network-up',
        batchTimeout,
        seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      }),
    );
    const ledger = FabricLedger.connect(gatewayOptions(state, 'Org1MSP'));
    try {
      await ledger.registerDevice({ tenant: TENANT, deviceId: DEVICE });
      const run = randomBytes(4).toString('hex');
      const heads = new Map<string, string>();
      const anchorBatch: Submit = async (worker, sequence) => {
        const stream = `Org1MSP/bench-${run}-${worker}`;
        const root = sha256(`${stream}/${sequence}/${Math.random()}`);
        const prevRoot = heads.get(stream) ?? GENESIS_ROOT;
        await ledger.anchorBatch({ stream, batchId: `b${sequence}-${root.slice(0, 8)}`, root, treeSize: 256, prevRoot });
        heads.set(stream, root);
      };
      const publishTelemetry: Submit = async (worker, sequence) => {
        const command = JSON.stringify({
          topic: 'bench.acme/sensor-1/things/twin/commands/modify',
          headers: { 'response-required': false },
          path: '/features/temperature/properties/value',
          value: worker * 100_000 + sequence,
        });
        await ledger.publishTelemetry({ tenant: TENANT, thingId: DEVICE, command });
      };
      // Warm up the gateway connection and the chaincode server.
      await anchorBatch(999, 0);
      await publishTelemetry(999, 0);
      for (const [transaction, submit] of [
        ['AnchorBatch', anchorBatch],
        ['PublishTelemetryData', publishTelemetry],
      ] as const) {
        for (const concurrency of CONCURRENCY) {
          const result = await measure(submit, concurrency);
          console.log(
            JSON.stringify({
              bench: 'fabric-ledger',
              transaction,
              concurrency,
              batchTimeout,
              transactions: result.transactions,
              seconds: Number(result.seconds.toFixed(2)),
              txPerSec: Number((result.transactions / result.seconds).toFixed(1)),
              p50Ms: Number(percentile(result.latencies, 50).toFixed(1)),
              p99Ms: Number(percentile(result.latencies, 99).toFixed(1)),
              failures: result.failures,
              ...(result.firstFailure ? { firstFailure: result.firstFailure } : {}),
            }),
          );
        }
      }
    } finally {
      await ledger.close();
    }
  } finally {
    await down({ dir });
    rmSync(root, { recursive: true, force: true });
  }
}
