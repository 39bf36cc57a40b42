export { type BinaryLocations, type FabricBinaries, FabricBinariesMissing, locateFabricBinaries } from './binaries.js';
export { CHAINCODE_ADDRESS_TEMPLATE, type FabricNetworkOptions } from './builder.js';
export { peerAdminEnv } from './environment.js';
export { type ChaincodeServerOptions, DEFAULT_NETWORK_DIR, down, networkDir, restartChaincodeServer, status, up } from './network.js';
export { type NetworkOrg, type NetworkState, type UserFiles, readState } from './state.js';
export { type RecordedProcess, isRunning, stopProcess } from './processes.js';
export { gatewayOptions, type NetworkGatewayOptions } from './connect.js';
