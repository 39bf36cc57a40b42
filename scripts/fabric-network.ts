/**
 * A Fabric 2.5 test network on loopback, with the TwinLedger chaincode deployed as a service.
 *
 *   npm run fabric -- up [--orgs 2] [--dir DIR] [--channel NAME] [--batch-timeout 500ms] [--policy "OR(...)"]
 *   npm run fabric -- status [--dir DIR]      prints network.json (endpoints, certificates, PIDs)
 *   npm run fabric -- env [--org Org1MSP]     prints `export` lines for the peer CLI as that organisation's admin
 *   npm run fabric -- down [--dir DIR]        stops exactly the processes `up` started, removes DIR
 *
 * Needs FABRIC_BIN_DIR (the bin/ folder of a Fabric 2.5 release; config/ and builders/ccaas/ beside it, or
 * FABRIC_CFG_PATH and FABRIC_CCAAS_BUILDER_DIR). DIR defaults to FABRIC_NETWORK_DIR, else .twinledger/fabric-network.
 */
import { parseArgs } from 'node:util';
import {
  FabricBinariesMissing,
  type NetworkState,
  down,
  gatewayOptions,
  networkDir,
  peerAdminEnv,
  status,
  up,
} from './fabric-network/index.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string' },
    orgs: { type: 'string', default: '1' },
    channel: { type: 'string' },
    'batch-timeout': { type: 'string' },
    policy: { type: 'string' },
    org: { type: 'string', default: 'Org1MSP' },
    quiet: { type: 'boolean', default: false },
  },
});

const command = positionals[0];
const log = values.quiet ? undefined : (line: string) => console.error(`fabric-network: ${line}`);
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

function running(): NetworkState {
  const state = status({ dir: values.dir });
  if (!state) {
    console.error(`fabric-network: no network is up in ${networkDir(values.dir)}`);
    process.exit(1);
  }
  return state;
}

try {
  switch (command) {
    case 'up': {
      const started = Date.now();
      const state = await up({
        dir: values.dir,
        orgs: Number(values.orgs),
        ...(values.channel ? { channel: values.channel } : {}),
        ...(values['batch-timeout'] ? { batchTimeout: values['batch-timeout'] } : {}),
        ...(values.policy ? { endorsementPolicy: values.policy } : {}),
        ...(log ? { log } : {}),
      });
      log?.(
        `up in ${((Date.now() - started) / 1000).toFixed(1)} s: channel ${state.channel}, chaincode ${state.chaincode.name} (${state.chaincode.packageId})`,
      );
      for (const org of state.orgs)
        log?.(`${org.mspId}: peer ${org.peer.endpoint} (TLS name ${org.peer.hostAlias}), chaincode server ${org.chaincodeServer}`);
      log?.(`details: ${state.dir}/network.json; stop with: npm run fabric -- down${values.dir ? ` --dir ${values.dir}` : ''}`);
      console.log(JSON.stringify(gatewayOptions(state, state.orgs[0]?.mspId), null, 2));
      break;
    }
    case 'down':
      await down({ dir: values.dir });
      log?.(`stopped and removed ${networkDir(values.dir)}`);
      break;
    case 'status':
      console.log(JSON.stringify(running(), null, 2));
      break;
    case 'env': {
      const state = running();
      const org = state.orgs.find((candidate) => candidate.mspId === values.org || candidate.name === values.org);
      if (!org) throw new Error(`no organisation ${values.org}; the network has ${state.orgs.map((o) => o.mspId).join(', ')}`);
      const env = peerAdminEnv(state, org);
      for (const name of Object.keys(env).filter((key) => key.startsWith('CORE_') || key.startsWith('FABRIC_'))) {
        console.log(`export ${name}=${quote(String(env[name]))}`);
      }
      console.log(
        `export ORDERER_ENDPOINT=${quote(state.orderer.endpoint)} ORDERER_CA=${quote(state.orderer.tlsRootCertFile)} CHANNEL=${quote(state.channel)}`,
      );
      break;
    }
    default:
      console.error('usage: npm run fabric -- up [--orgs N] [--dir DIR] | status | env [--org Org1MSP] | down');
      process.exit(2);
  }
} catch (error) {
  console.error(`fabric-network: ${(error as Error).message}`);
  process.exit(error instanceof FabricBinariesMissing ? 3 : 1);
}
