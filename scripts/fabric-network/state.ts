/**
 * `network.json`: what `up` built and started, read by `down`, by tests and by anyone who connects to the
 * network. Written crash-safe (temporary file, rename) after every process started, so `down` can stop a
 * network whose `up` died half-way.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedProcess } from './processes.js';

export interface UserFiles {
  mspDir: string;
  certificateFile: string;
  privateKeyFile: string;
}

export interface NetworkOrg {
  name: string;
  mspId: string;
  domain: string;
  peer: {
    /** `127.0.0.1:<port>`: the gateway and the peer CLI connect here. */
    endpoint: string;
    /** Name in the peer's TLS certificate (its SANs also hold `localhost` and `127.0.0.1`). */
    hostAlias: string;
    tlsRootCertFile: string;
    operationsEndpoint: string;
    /** The peer's file system path (`ledgersData/` holds its block files and state). */
    dataDir: string;
  };
  /** Where this organisation's chaincode server listens (chaincode as a service). */
  chaincodeServer: string;
  users: { Admin: UserFiles; User1: UserFiles };
}

export interface NetworkState {
  version: 1;
  status: 'starting' | 'up';
  dir: string;
  createdAt: string;
  channel: string;
  /** FABRIC_CFG_PATH for the peer CLI (core.yaml of this network). */
  configDir: string;
  chaincode: {
    name: string;
    label: string;
    version: string;
    sequence: number;
    endorsementPolicy: string;
    /** The address template in the package's connection.json. */
    address: string;
    packageId?: string;
    packageFile?: string;
    collectionsConfigFile?: string;
  };
  orderer: {
    mspId: string;
    endpoint: string;
    adminEndpoint: string;
    hostAlias: string;
    /** How long the orderer waits for more transactions before it cuts a block. */
    batchTimeout: string;
    tlsRootCertFile: string;
    ledgerDir: string;
  };
  orgs: NetworkOrg[];
  processes: RecordedProcess[];
}

export const STATE_FILE = 'network.json';

export function readState(dir: string): NetworkState | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as NetworkState;
    return state.version === 1 && Array.isArray(state.processes) ? state : undefined;
  } catch {
    return undefined;
  }
}

export function writeState(state: NetworkState): void {
  const file = join(state.dir, STATE_FILE);
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

/**
 * One `up` or `down` at a time per network folder: `<dir>.lock` holds the PID of its holder; a lock whose
 * holder no longer runs is taken over.
 */
export function acquireLock(dir: string): () => void {
  const lock = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lock, 'utf8').trim());
      let alive = false;
      try {
        if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid) {
          process.kill(holder, 0);
          alive = true;
        }
      } catch {
        alive = false;
      }
      if (alive)
        throw new Error(
          `another fabric-network up/down (pid ${holder}) is working on ${dir}; wait for it, or delete ${lock} if it is gone`,
        );
      rmSync(lock, { force: true });
    }
  }
  throw new Error(`cannot take the lock ${lock}`);
}
