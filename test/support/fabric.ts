/**
 * A real Fabric 2.5 network for integration tests and benchmarks: `scripts/fabric-network` started in a
 * temporary folder from FABRIC_BIN_DIR (set by .ci/run, which unpacks the project's Fabric binaries), and a
 * plain fabric-gateway client for what an attacker would send without the SDK.
 */
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { type Contract, connect, hash, signers } from '@hyperledger/fabric-gateway';
import {
  type FabricNetworkOptions,
  type NetworkState,
  down,
  gatewayOptions,
  isRunning,
  locateFabricBinaries,
  up,
} from '../../scripts/fabric-network/index.js';

/** Why the Fabric tests cannot run here, or undefined when they can. */
export function fabricProblem(): string | undefined {
  try {
    locateFabricBinaries();
    return undefined;
  } catch (error) {
    return `Fabric network tests need Fabric 2.5 binaries: ${(error as Error).message}`;
  }
}

export interface TestNetwork {
  state: NetworkState;
  dir: string;
  /**
   * Stops the network and removes its folder; resolves with the recorded processes that were still running afterwards
   * (none, normally).
   */
  stop(): Promise<string[]>;
}

export async function startTestNetwork(options: Omit<FabricNetworkOptions, 'dir'> = {}): Promise<TestNetwork> {
  const dir = join(mkdtempSync(join(tmpdir(), 'twinledger-fabric-')), 'network');
  let state: NetworkState;
  try {
    state = await up({ ...options, dir, startTimeoutMs: 90_000 });
  } catch (error) {
    await down({ dir }).catch(() => undefined);
    throw error;
  }
  return {
    state,
    dir,
    async stop() {
      const current = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkState;
      await down({ dir });
      const left = current.processes.filter((process) => isRunning(process)).map((process) => `${process.name} (pid ${process.pid})`);
      rmSync(join(dir, '..'), { recursive: true, force: true });
      return left;
    },
  };
}

/** Every block file of the channel on the peers and the orderer. */
export function blockFiles(state: NetworkState): string[] {
  const dirs = [
    ...state.orgs.map((org) => join(org.peer.dataDir, 'ledgersData', 'chains', 'chains', state.channel)),
    join(state.orderer.ledgerDir, 'chains', state.channel),
  ];
  return dirs.flatMap((dir) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((name) => name.startsWith('blockfile'))
          .map((name) => join(dir, name))
      : [],
  );
}

/** Every file under a folder, recursively. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : [],
  );
}

/** A plain fabric-gateway contract of one organisation's User1: what someone sends without the SDK's checks. */
export function rawContract(state: NetworkState, org: string): { contract: Contract; close(): void } {
  const options = gatewayOptions(state, org);
  const client = new grpc.Client(options.peerEndpoint, grpc.credentials.createSsl(readFileSync(options.tlsRootCertFile)), {
    'grpc.ssl_target_name_override': options.hostAlias,
  });
  const gateway = connect({
    client,
    identity: { mspId: options.mspId, credentials: readFileSync(options.certificateFile) },
    signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(options.privateKeyFile))),
    hash: hash.sha256,
  });
  return {
    contract: gateway.getNetwork(options.channel).getContract(options.chaincode),
    close() {
      gateway.close();
      client.close();
    },
  };
}

/** The variables a deployment sets for `Anchorer.fromEnv()` / `configFromEnv()` to use this gateway identity. */
export function fabricEnv(gateway: ReturnType<typeof gatewayOptions>): Record<string, string> {
  return {
    TWINLEDGER_FABRIC_PEER: gateway.peerEndpoint,
    ...(gateway.hostAlias ? { TWINLEDGER_FABRIC_HOST_ALIAS: gateway.hostAlias } : {}),
    TWINLEDGER_FABRIC_TLS_CA_FILE: gateway.tlsRootCertFile,
    TWINLEDGER_FABRIC_MSP_ID: gateway.mspId,
    TWINLEDGER_FABRIC_CERT_FILE: gateway.certificateFile,
    TWINLEDGER_FABRIC_KEY_FILE: gateway.privateKeyFile,
    TWINLEDGER_FABRIC_CHANNEL: gateway.channel,
    TWINLEDGER_FABRIC_CHAINCODE: gateway.chaincode,
  };
}
