/**
 * The ledger and the payload store an anchorer opens itself: Fabric and Kubo when their endpoints are configured, the
 * embedded dev ledger and store in the data directory otherwise. Each is loaded on first use, so that an application
 * pays only for the backends it uses (the Fabric gateway's gRPC stack, LMDB).
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { FabricGatewayEndpoint, KuboEndpoint } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Ledger } from '../ledger/types.js';
import type { PayloadStore } from '../offchain/types.js';

export async function openLedger(fabric: FabricGatewayEndpoint | undefined, dataDir: string, logger: Logger): Promise<Ledger> {
  if (fabric === undefined) return openDevLedger(join(dataDir, 'ledger'), logger);
  const { FabricLedger } = await import('../ledger/fabric.js');
  return FabricLedger.connect({ ...fabric, logger });
}

export async function openStore(kubo: KuboEndpoint | undefined, dataDir: string, logger: Logger): Promise<PayloadStore> {
  if (kubo === undefined) return openEmbeddedStore(join(dataDir, 'payloads'), logger);
  const { KuboStore } = await import('../offchain/kubo.js');
  return new KuboStore({ url: kubo.url, ...(kubo.credentials ? { credentials: kubo.credentials } : {}), logger });
}

async function openDevLedger(directory: string, logger: Logger): Promise<Ledger> {
  const { DevLedger } = await import('../ledger/dev/index.js');
  return DevLedger.open({ directory, logger });
}

async function openEmbeddedStore(dataDir: string, logger: Logger): Promise<PayloadStore> {
  const { EmbeddedStore } = await import('../offchain/embedded.js');
  // A new store gets the lmdb layout; one written before keeps the layout it has. Not durable per put: the pipeline
  // flushes the store once per upload round, before it counts the round's payloads as uploaded.
  const existing = await access(join(dataDir, 'twinledger-offchain.json')).then(
    () => true,
    () => false,
  );
  const store = new EmbeddedStore({ dataDir, logger, durable: false, ...(existing ? {} : { layout: 'lmdb' as const }) });
  await store.open();
  return store;
}
