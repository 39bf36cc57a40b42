import type { NetworkOrg, NetworkState } from './state.js';

/** What `FabricLedger.connect` needs to act as a user of one organisation of the network. */
export interface NetworkGatewayOptions {
  peerEndpoint: string;
  hostAlias: string;
  tlsRootCertFile: string;
  mspId: string;
  certificateFile: string;
  privateKeyFile: string;
  channel: string;
  chaincode: string;
}

/** Gateway options for `User1` (or `Admin`) of an organisation, given by MSP ID or name (`Org1MSP`, `Org1`). */
export function gatewayOptions(state: NetworkState, org: string = 'Org1MSP', user: 'User1' | 'Admin' = 'User1'): NetworkGatewayOptions {
  const found: NetworkOrg | undefined = state.orgs.find((candidate) => candidate.mspId === org || candidate.name === org);
  if (!found)
    throw new Error(`the network has no organisation ${JSON.stringify(org)}; it has ${state.orgs.map((o) => o.mspId).join(', ')}`);
  const identity = found.users[user];
  return {
    peerEndpoint: found.peer.endpoint,
    hostAlias: found.peer.hostAlias,
    tlsRootCertFile: found.peer.tlsRootCertFile,
    mspId: found.mspId,
    certificateFile: identity.certificateFile,
    privateKeyFile: identity.privateKeyFile,
    channel: state.channel,
    chaincode: state.chaincode.name,
  };
}
