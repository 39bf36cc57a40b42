/** Environments and ports for the network's programs. */
import { createServer } from 'node:net';
import { LOOPBACK } from './material.js';
import type { NetworkOrg, NetworkState } from './state.js';

/** Programs get a clean environment: CORE_* / ORDERER_* / FABRIC_* of the caller never leak into a node. */
export function baseEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'npm_config_cache'];
  return Object.fromEntries(keep.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]]));
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Ports that were free a moment ago, all different. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Everything the peer CLI needs to act as an organisation's admin against its peer. */
export function peerAdminEnv(state: NetworkState, org: NetworkOrg): NodeJS.ProcessEnv {
  return {
    ...baseEnv(),
    FABRIC_CFG_PATH: state.configDir,
    FABRIC_LOGGING_SPEC: 'warning',
    CORE_PEER_TLS_ENABLED: 'true',
    CORE_PEER_LOCALMSPID: org.mspId,
    CORE_PEER_TLS_ROOTCERT_FILE: org.peer.tlsRootCertFile,
    CORE_PEER_MSPCONFIGPATH: org.users.Admin.mspDir,
    CORE_PEER_ADDRESS: org.peer.endpoint,
  };
}
