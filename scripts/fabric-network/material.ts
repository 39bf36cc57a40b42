/**
 * The configuration files of the test network: cryptogen's input, the channel's configtx.yaml, and a
 * core.yaml for peers without Docker. All are generated from the network's plan; nothing is hand-edited.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

export interface OrgPlan {
  /** `Org1`, `Org2`, ... */
  name: string;
  mspId: string;
  domain: string;
  peerHost: string;
  peerPort: number;
  peerChaincodePort: number;
  peerOperationsPort: number;
  /** Port of this organisation's chaincode server (chaincode as a service). */
  chaincodePort: number;
}

export interface OrdererPlan {
  mspId: string;
  domain: string;
  host: string;
  port: number;
  adminPort: number;
  operationsPort: number;
}

export const LOOPBACK = '127.0.0.1';

export function orgPlan(
  index: number,
  ports: { peer: number; chaincodeListen: number; operations: number; chaincodeServer: number },
): OrgPlan {
  const name = `Org${index}`;
  const domain = `org${index}.example.com`;
  return {
    name,
    mspId: `${name}MSP`,
    domain,
    peerHost: `peer0.${domain}`,
    peerPort: ports.peer,
    peerChaincodePort: ports.chaincodeListen,
    peerOperationsPort: ports.operations,
    chaincodePort: ports.chaincodeServer,
  };
}

/** Paths inside cryptogen's output for one peer organisation. */
export function orgPaths(cryptoDir: string, org: OrgPlan) {
  const base = join(cryptoDir, 'peerOrganizations', org.domain);
  const peer = join(base, 'peers', org.peerHost);
  const user = (name: string) => join(base, 'users', `${name}@${org.domain}`);
  return {
    msp: join(base, 'msp'),
    peerMsp: join(peer, 'msp'),
    peerTls: join(peer, 'tls'),
    tlsCa: join(peer, 'tls', 'ca.crt'),
    adminMsp: join(user('Admin'), 'msp'),
    user: (name: string) => ({
      certificateFile: join(user(name), 'msp', 'signcerts', `${name}@${org.domain}-cert.pem`),
      privateKeyFile: join(user(name), 'msp', 'keystore', 'priv_sk'),
      msp: join(user(name), 'msp'),
    }),
  };
}

export function ordererPaths(cryptoDir: string, orderer: OrdererPlan) {
  const base = join(cryptoDir, 'ordererOrganizations', orderer.domain);
  const node = join(base, 'orderers', orderer.host);
  const admin = join(base, 'users', `Admin@${orderer.domain}`);
  return {
    msp: join(base, 'msp'),
    nodeMsp: join(node, 'msp'),
    tlsCert: join(node, 'tls', 'server.crt'),
    tlsKey: join(node, 'tls', 'server.key'),
    tlsCa: join(node, 'tls', 'ca.crt'),
    adminTlsCert: join(admin, 'tls', 'client.crt'),
    adminTlsKey: join(admin, 'tls', 'client.key'),
  };
}

/** cryptogen's input: node OUs on (policies name `.peer`, `.client`, `.admin`), loopback in every TLS certificate. */
export function cryptoConfig(orderer: OrdererPlan, orgs: OrgPlan[]): string {
  const sans = ['localhost', LOOPBACK];
  return yaml.dump({
    OrdererOrgs: [
      { Name: 'Orderer', Domain: orderer.domain, EnableNodeOUs: true, Specs: [{ Hostname: orderer.host.split('.')[0], SANS: sans }] },
    ],
    PeerOrgs: orgs.map((org) => ({
      Name: org.name,
      Domain: org.domain,
      EnableNodeOUs: true,
      Template: { Count: 1, SANS: sans },
      Users: { Count: 1 },
    })),
  });
}

const signature = (rule: string) => ({ Type: 'Signature', Rule: rule });
const implicit = (rule: string) => ({ Type: 'ImplicitMeta', Rule: rule });

export interface ChannelTuning {
  /** Orderer batch timeout, e.g. `500ms`: the longest a transaction waits for its block. */
  batchTimeout: string;
  maxMessageCount: number;
}

/**
 * configtx.yaml with one profile, `TwinLedgerChannel`: a single Raft consenter (Fabric 2.5 has no system
 * channel; the orderer joins with osnadmin), the organisations with their anchor peers in the genesis block
 * (so the peers find each other through gossip and the gateways can endorse across organisations), and the
 * V2_5 application capability.
 */
export function channelConfig(cryptoDir: string, orderer: OrdererPlan, orgs: OrgPlan[], tuning: ChannelTuning): string {
  const ordererFiles = ordererPaths(cryptoDir, orderer);
  const ordererOrg = {
    Name: 'OrdererOrg',
    ID: orderer.mspId,
    MSPDir: ordererFiles.msp,
    Policies: {
      Readers: signature(`OR('${orderer.mspId}.member')`),
      Writers: signature(`OR('${orderer.mspId}.member')`),
      Admins: signature(`OR('${orderer.mspId}.admin')`),
    },
    OrdererEndpoints: [`${LOOPBACK}:${orderer.port}`],
  };
  const peerOrgs = orgs.map((org) => ({
    Name: org.mspId,
    ID: org.mspId,
    MSPDir: orgPaths(cryptoDir, org).msp,
    Policies: {
      Readers: signature(`OR('${org.mspId}.admin', '${org.mspId}.peer', '${org.mspId}.client')`),
      Writers: signature(`OR('${org.mspId}.admin', '${org.mspId}.client')`),
      Admins: signature(`OR('${org.mspId}.admin')`),
      Endorsement: signature(`OR('${org.mspId}.peer')`),
    },
    AnchorPeers: [{ Host: LOOPBACK, Port: org.peerPort }],
  }));
  const profile = {
    Policies: {
      Readers: implicit('ANY Readers'),
      Writers: implicit('ANY Writers'),
      Admins: implicit('MAJORITY Admins'),
    },
    Capabilities: { V2_0: true },
    Orderer: {
      OrdererType: 'etcdraft',
      EtcdRaft: {
        Consenters: [{ Host: LOOPBACK, Port: orderer.port, ClientTLSCert: ordererFiles.tlsCert, ServerTLSCert: ordererFiles.tlsCert }],
        // A short tick: the single node elects itself within a second of joining the channel.
        Options: { TickInterval: '100ms', ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5, SnapshotIntervalSize: '16 MB' },
      },
      BatchTimeout: tuning.batchTimeout,
      BatchSize: { MaxMessageCount: tuning.maxMessageCount, AbsoluteMaxBytes: '10 MB', PreferredMaxBytes: '2 MB' },
      Organizations: [ordererOrg],
      Policies: {
        Readers: implicit('ANY Readers'),
        Writers: implicit('ANY Writers'),
        Admins: implicit('MAJORITY Admins'),
        BlockValidation: implicit('ANY Writers'),
      },
      Capabilities: { V2_0: true },
    },
    Application: {
      Organizations: peerOrgs,
      Policies: {
        Readers: implicit('ANY Readers'),
        Writers: implicit('ANY Writers'),
        Admins: implicit('MAJORITY Admins'),
        LifecycleEndorsement: implicit('MAJORITY Endorsement'),
        Endorsement: implicit('MAJORITY Endorsement'),
      },
      Capabilities: { V2_5: true },
    },
  };
  return yaml.dump({ Organizations: [ordererOrg, ...peerOrgs], Profiles: { TwinLedgerChannel: profile } }, { noRefs: true, lineWidth: -1 });
}

interface CoreYaml {
  vm?: { endpoint?: string };
  chaincode?: { externalBuilders?: Array<{ name: string; path: string; propagateEnvironment?: string[] }> };
}

/**
 * The release's core.yaml with the two changes a peer without Docker needs: no Docker endpoint, and the ccaas
 * external builder at its real path (the sample points at the peer image's /opt/hyperledger/ccaas_builder).
 * The builder sees CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG, which fills `{{.name}}` templates in connection.json.
 * Everything else is set per peer with CORE_* variables.
 */
export function writePeerCoreYaml(sampleConfigDir: string, outDir: string, ccaasBuilderDir: string): void {
  const core = yaml.load(readFileSync(join(sampleConfigDir, 'core.yaml'), 'utf8')) as CoreYaml;
  core.vm = { ...core.vm, endpoint: '' };
  core.chaincode = {
    ...core.chaincode,
    externalBuilders: [{ name: 'ccaas_builder', path: ccaasBuilderDir, propagateEnvironment: ['CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG'] }],
  };
  writeFileSync(join(outDir, 'core.yaml'), yaml.dump(core, { noRefs: true, lineWidth: -1 }));
  writeFileSync(join(outDir, 'orderer.yaml'), readFileSync(join(sampleConfigDir, 'orderer.yaml')));
}
