/**
 * A Fabric 2.5 test network on loopback, without Docker: cryptogen material for one orderer organisation and
 * N peer organisations, one Raft orderer joined to the channel with osnadmin, one peer per organisation (TLS
 * on, free ports, the ccaas builder configured), and the TwinLedger chaincode deployed as a service (one
 * package installed on every peer, approved by every organisation, committed with a collections config for the
 * channel's organisations, one chaincode server per organisation).
 *
 * `up` is idempotent: a network that is up (every recorded process still running) is returned as it is;
 * anything else in the folder is stopped and removed first. `down` stops exactly the recorded processes and
 * removes the folder.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { locateFabricBinaries } from './binaries.js';
import { type FabricNetworkOptions, NetworkBuilder } from './builder.js';
import { CHAINCODE_DIR, REPO_ROOT, chaincodeServerCommand } from './chaincode.js';
import { baseEnv } from './environment.js';
import { isRunning, startProcess, stopProcess, waitUntilListening } from './processes.js';
import { type NetworkState, acquireLock, readState, writeState } from './state.js';

export const DEFAULT_NETWORK_DIR = join(REPO_ROOT, '.twinledger', 'fabric-network');

export function networkDir(dir?: string): string {
  return resolve(dir ?? process.env.FABRIC_NETWORK_DIR ?? DEFAULT_NETWORK_DIR);
}

function healthy(state: NetworkState, options: FabricNetworkOptions): boolean {
  return (
    state.status === 'up' &&
    state.orgs.length === (options.orgs ?? 1) &&
    state.channel === (options.channel ?? 'twinledger') &&
    state.chaincode.name === (options.chaincodeName ?? 'twinledger') &&
    state.orderer.batchTimeout === (options.batchTimeout ?? '500ms') &&
    (options.endorsementPolicy === undefined || state.chaincode.endorsementPolicy === options.endorsementPolicy) &&
    state.processes.length > 0 &&
    state.processes.every((process) => isRunning(process))
  );
}

async function stopAll(state: NetworkState): Promise<void> {
  // Chaincode servers first, then peers, then the orderer: the reverse of the start order.
  for (const process of [...state.processes].reverse()) await stopProcess(process);
}

/**
 * Starts the network, or returns the one already up in the folder when it has the same shape (organisations,
 * channel, chaincode name, batch timeout, endorsement policy if given) and all its processes run.
 */
export async function up(options: FabricNetworkOptions = {}): Promise<NetworkState> {
  const binaries = locateFabricBinaries(options.binaries);
  const dir = networkDir(options.dir);
  mkdirSync(resolve(dir, '..'), { recursive: true });
  const release = acquireLock(dir);
  try {
    const existing = readState(dir);
    if (existing && healthy(existing, options)) {
      options.log?.(`the network in ${dir} is already up`);
      return existing;
    }
    if (existing) await stopAll(existing);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const builder = new NetworkBuilder(binaries, dir, options);
    try {
      return await builder.build();
    } catch (error) {
      const state = readState(dir);
      if (state) await stopAll(state);
      throw new Error(`fabric-network up failed; processes stopped, logs kept in ${join(dir, 'logs')}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  } finally {
    release();
  }
}

/** Stops exactly the processes the network in the folder recorded and removes the folder. */
export async function down(options: { dir?: string } = {}): Promise<void> {
  const dir = networkDir(options.dir);
  if (!existsSync(dir)) return;
  const release = acquireLock(dir);
  try {
    const state = readState(dir);
    if (state) await stopAll(state);
    rmSync(dir, { recursive: true, force: true });
  } finally {
    release();
  }
}

export interface ChaincodeServerOptions {
  dir?: string;
  /** Serve another build of the contract (a folder with a package.json whose `main` exports `contracts`). */
  modulePath?: string;
  /** Extra environment for the server process. */
  env?: NodeJS.ProcessEnv;
  chaincodeLogLevel?: string;
  startTimeoutMs?: number;
}

/**
 * Replaces an organisation's chaincode server with a new process under the same package ID and address (the
 * development loop of chaincode as a service: the peer reconnects on the next invocation, no reinstall). The new
 * process is recorded in place of the old one, so `down` stops it.
 */
export async function restartChaincodeServer(org: string, options: ChaincodeServerOptions = {}): Promise<NetworkState> {
  const dir = networkDir(options.dir);
  const release = acquireLock(dir);
  try {
    const state = readState(dir);
    if (!state || state.status !== 'up' || !state.chaincode.packageId) throw new Error(`no network is up in ${dir}`);
    const target = state.orgs.find((candidate) => candidate.mspId === org || candidate.name === org);
    if (!target) throw new Error(`the network has no organisation ${JSON.stringify(org)}`);
    const name = `chaincode.${target.name.toLowerCase()}`;
    const index = state.processes.findIndex((process) => process.name === name);
    const old = state.processes[index];
    if (old) await stopProcess(old);
    const server = chaincodeServerCommand({
      packageId: state.chaincode.packageId,
      address: target.chaincodeServer,
      mspId: target.mspId,
      logLevel: options.chaincodeLogLevel ?? 'warning',
      ...(options.modulePath ? { modulePath: resolve(options.modulePath) } : {}),
      baseEnv: { ...baseEnv(), ...options.env },
    });
    const started = startProcess({ name, ...server, cwd: CHAINCODE_DIR, log: join(dir, 'logs', `${name}.log`) });
    if (index >= 0) state.processes[index] = started;
    else state.processes.push(started);
    writeState(state);
    await waitUntilListening(started, Number(target.chaincodeServer.split(':')[1]), options.startTimeoutMs ?? 60_000);
    return state;
  } finally {
    release();
  }
}

/** The network's description, when one is up in the folder. */
export function status(options: { dir?: string } = {}): NetworkState | undefined {
  const state = readState(networkDir(options.dir));
  return state && state.status === 'up' && state.processes.every((process) => isRunning(process)) ? state : undefined;
}
