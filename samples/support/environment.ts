/**
 * Where a sample runs: on the embedded defaults (the Cloud2Edge sandbox, DevLedger, an EmbeddedStore) or,
 * for each part that the environment configures, on the real thing — Cloud2Edge when its env script's variables
 * (`REGISTRY_BASE_URL`, `DITTO_API_BASE_URL`, …) are set, Fabric with `TWINLEDGER_FABRIC_*`, Kubo with
 * `TWINLEDGER_KUBO_URL`.
 */
import { join } from 'node:path';
import { Anchorer } from '../../src/anchor/index.js';
import { Cloud2Edge } from '../../src/c2e/index.js';
import { type Logger, configFromEnv } from '../../src/core/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import { DevLedger } from '../../src/ledger/dev/index.js';
import { EmbeddedStore, type PayloadStore } from '../../src/offchain/index.js';
import { Sandbox } from '../../src/sandbox/index.js';

export interface DemoEnvironment {
  c2e: Cloud2Edge;
  /** Set when Cloud2Edge is the embedded sandbox. */
  sandbox: Sandbox | undefined;
  anchorer: Anchorer;
  ledger: Ledger;
  store: PayloadStore;
  /** The embedded store's folder (`files` layout: a file per block), when the payloads are kept here. */
  payloadDir: string | undefined;
  /** What runs where, for the report. */
  parts: { cloud2edge: string; ledger: string; store: string };
  close(): Promise<void>;
}

/** Cloud2Edge is configured when its registry and Ditto are. */
export function cloud2EdgeConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env.REGISTRY_BASE_URL && env.DITTO_API_BASE_URL);
}

export async function openEnvironment(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  logger?: Logger,
): Promise<DemoEnvironment> {
  const config = configFromEnv(env);
  const closers: Array<() => Promise<void>> = [];
  /** Closes everything opened so far, last first; one failing close does not keep the others open. */
  const closeAll = async () => {
    const failures: unknown[] = [];
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  };
  try {
    let sandbox: Sandbox | undefined;
    let c2e: Cloud2Edge;
    if (cloud2EdgeConfigured(env)) {
      c2e = Cloud2Edge.fromEnv({}, env);
    } else {
      const started = await Sandbox.start({ dataDir: join(dataDir, 'sandbox'), ...(logger ? { logger } : {}) });
      sandbox = started;
      closers.push(() => started.close());
      c2e = Cloud2Edge.fromEnv({}, sandbox.env());
    }
    closers.push(() => c2e.close());

    let devLedger: DevLedger | undefined;
    if (config.fabric === undefined) {
      devLedger = await DevLedger.open({ directory: join(dataDir, 'ledger') });
      const opened = devLedger;
      closers.push(() => opened.close());
    }
    let embedded: EmbeddedStore | undefined;
    if (config.kubo === undefined) {
      embedded = new EmbeddedStore({ dataDir: join(dataDir, 'payloads'), layout: 'files' });
      await embedded.open();
      const opened = embedded;
      closers.push(() => opened.close());
    }
    const anchorer = await Anchorer.fromEnv(
      {
        dataDir,
        batch: { maxWaitMs: 250 },
        // A Fabric channel outlives this run's outbox: each run anchors on streams of its own.
        ...(config.fabric ? { instanceId: `sample-${Date.now().toString(36)}` } : {}),
        ...(devLedger ? { ledger: devLedger } : {}),
        ...(embedded ? { store: embedded } : {}),
        ...(logger ? { logger } : {}),
      },
      env,
    );
    closers.push(() => anchorer.close({ drain: true, timeoutMs: 30_000 }));
    return {
      c2e,
      sandbox,
      anchorer,
      ledger: anchorer.ledger,
      store: anchorer.store,
      payloadDir: embedded === undefined ? undefined : join(dataDir, 'payloads'),
      parts: {
        cloud2edge: sandbox ? 'embedded sandbox' : `Cloud2Edge at ${env.DITTO_API_BASE_URL}`,
        ledger: devLedger ? 'DevLedger (the real chaincode, in-process)' : `Fabric peer ${config.fabric!.peerEndpoint}`,
        store: embedded ? 'EmbeddedStore (Kubo-identical CIDs)' : `Kubo at ${config.kubo!.url}`,
      },
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
