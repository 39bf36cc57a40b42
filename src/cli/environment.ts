/**
 * Where a command finds Cloud2Edge, the ledger and the payload store. Cloud2Edge: the variables of its env script
 * when they are set; else a sandbox that `twinledger sandbox` runs on the same data directory (it leaves
 * `<dataDir>/sandbox.json` while it runs); else a sandbox started in this process on `<dataDir>/sandbox` for the
 * command's duration. The ledger and the store: Fabric and Kubo when `TWINLEDGER_FABRIC_*` / `TWINLEDGER_KUBO_URL`
 * are set, else the embedded ones in `<dataDir>/ledger` and `<dataDir>/payloads` (the anchorer's defaults).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cloud2Edge } from '../c2e/index.js';
import { configFromEnv } from '../core/config.js';
import { isAlive } from '../core/lock-file.js';
import type { Ledger } from '../ledger/index.js';
import type { PayloadStore } from '../offchain/index.js';
import { Sandbox } from '../sandbox/index.js';
import { CliError } from './errors.js';
import type { Output } from './io.js';

/** What `twinledger sandbox` writes while it runs. */
export interface SandboxFile {
  pid: number;
  env: Record<string, string>;
}

export const sandboxFileOf = (dataDir: string): string => join(dataDir, 'sandbox.json');

export async function runningSandbox(dataDir: string): Promise<SandboxFile | undefined> {
  try {
    const found = JSON.parse(await readFile(sandboxFileOf(dataDir), 'utf8')) as SandboxFile;
    return typeof found.pid === 'number' && isAlive(found.pid) && typeof found.env === 'object' ? found : undefined;
  } catch {
    return undefined;
  }
}

export interface OpenCloud2Edge {
  c2e: Cloud2Edge;
  /** The environment the clients were made from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where it is, for messages. */
  source: 'environment' | 'running sandbox' | 'in-process sandbox';
  close(): Promise<void>;
}

/**
 * `reachable`: the command needs a Cloud2Edge that others (devices) can reach, so a sandbox started inside the command
 * will not do; the text says why, for the error.
 */
export async function openCloud2Edge(output: Output, options: { reachable?: string } = {}): Promise<OpenCloud2Edge> {
  const { env } = output.io;
  if (env.REGISTRY_BASE_URL && env.DITTO_API_BASE_URL) {
    const c2e = Cloud2Edge.fromEnv({}, env);
    return { c2e, env, source: 'environment', close: () => c2e.close() };
  }
  const running = await runningSandbox(output.options.dataDir);
  if (running !== undefined) {
    const merged = { ...env, ...running.env };
    const c2e = Cloud2Edge.fromEnv({}, merged);
    return { c2e, env: merged, source: 'running sandbox', close: () => c2e.close() };
  }
  if (options.reachable !== undefined) {
    throw new CliError(
      `no Cloud2Edge to talk to: ${options.reachable}`,
      `Run \`twinledger sandbox\` (with the same --data-dir) in another terminal, or export the variables Cloud2Edge's setCloud2EdgeEnv.sh prints.`,
    );
  }
  output.progress(`no Cloud2Edge configured: starting the sandbox on ${join(output.options.dataDir, 'sandbox')}`);
  const sandbox = await Sandbox.start({ dataDir: join(output.options.dataDir, 'sandbox') });
  const merged = { ...env, ...sandbox.env() };
  let c2e: Cloud2Edge;
  try {
    c2e = Cloud2Edge.fromEnv({}, merged);
  } catch (error) {
    await sandbox.close();
    throw error;
  }
  return {
    c2e,
    env: merged,
    source: 'in-process sandbox',
    close: async () => {
      try {
        await c2e.close();
      } finally {
        await sandbox.close();
      }
    },
  };
}

export interface OpenBackends {
  ledger: Ledger;
  store: PayloadStore;
  close(): Promise<void>;
}

/** The ledger and the payload store the environment names, or the embedded ones in the data directory. */
export async function openBackends(output: Output): Promise<OpenBackends> {
  const config = configFromEnv(output.io.env);
  const { dataDir } = output.options;
  let ledger: Ledger;
  if (config.fabric !== undefined) {
    const { FabricLedger } = await import('../ledger/index.js');
    ledger = FabricLedger.connect(config.fabric);
  } else {
    const { DevLedger } = await import('../ledger/dev/index.js');
    ledger = await DevLedger.open({ directory: join(dataDir, 'ledger') });
  }
  let store: PayloadStore;
  try {
    const { EmbeddedStore, KuboStore } = await import('../offchain/index.js');
    store = config.kubo !== undefined ? new KuboStore(config.kubo) : new EmbeddedStore({ dataDir: join(dataDir, 'payloads') });
  } catch (error) {
    await ledger.close();
    throw error;
  }
  return {
    ledger,
    store,
    close: async () => {
      try {
        await store.close?.();
      } finally {
        await ledger.close();
      }
    },
  };
}
