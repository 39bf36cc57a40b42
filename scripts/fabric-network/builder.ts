/**
 * Builds a network in an empty folder, step by step, recording every process it starts in network.json as soon
 * as it runs: crypto material, the channel's genesis block, the orderer (joined with osnadmin), the peers
 * (joined with the peer CLI), then the chaincode (package, install, chaincode servers, approve, commit).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BinaryLocations, FabricBinaries } from './binaries.js';
import {
  CHAINCODE_DIR,
  chaincodeServerCommand,
  chaincodeVersion,
  ensureChaincodeBuilt,
  packageChaincode,
  writeCollectionsConfig,
} from './chaincode.js';
import { baseEnv, freePorts, peerAdminEnv } from './environment.js';
import {
  LOOPBACK,
  type OrdererPlan,
  type OrgPlan,
  channelConfig,
  cryptoConfig,
  ordererPaths,
  orgPaths,
  orgPlan,
  writePeerCoreYaml,
} from './material.js';
import { type RecordedProcess, runTool, startProcess, waitUntilListening } from './processes.js';
import { type NetworkOrg, type NetworkState, writeState } from './state.js';

export interface FabricNetworkOptions {
  /** Work folder. Default: `FABRIC_NETWORK_DIR`, else `.twinledger/fabric-network` in the repository. */
  dir?: string;
  /** Peer organisations (one peer each), 1 to 4. Default 1. */
  orgs?: number;
  /** Channel name. Default `twinledger`. */
  channel?: string;
  /** Chaincode name on the channel. Default `twinledger`. */
  chaincodeName?: string;
  /** Chaincode-level endorsement policy. Default: any organisation's peer, `OR('Org1MSP.peer', ...)`. */
  endorsementPolicy?: string;
  /** Orderer batch timeout. Default `500ms`. */
  batchTimeout?: string;
  /** Orderer batch size (transactions per block). Default 500. */
  maxMessageCount?: number;
  /** Fabric log level spec for peers and orderer. Default `info`. */
  logSpec?: string;
  /** Chaincode server log level (fabric-shim). Default `warning`. */
  chaincodeLogLevel?: string;
  /** Where the Fabric programs are; defaults from FABRIC_BIN_DIR, FABRIC_CFG_PATH, FABRIC_CCAAS_BUILDER_DIR. */
  binaries?: BinaryLocations;
  /** Bound of each wait for a process to listen. Default 60 000 ms. */
  startTimeoutMs?: number;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

/** The ccaas builder fills this template per peer from CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG. */
export const CHAINCODE_ADDRESS_TEMPLATE = `${LOOPBACK}:{{.ccport}}`;

function defaultPolicy(orgs: OrgPlan[]): string {
  return `OR(${orgs.map((org) => `'${org.mspId}.peer'`).join(', ')})`;
}

export class NetworkBuilder {
  private readonly dir: string;
  private readonly log: (line: string) => void;
  private readonly startTimeoutMs: number;
  private state!: NetworkState;
  private plans!: { orderer: OrdererPlan; orgs: OrgPlan[] };

  constructor(
    private readonly binaries: FabricBinaries,
    dir: string,
    private readonly options: FabricNetworkOptions,
  ) {
    this.dir = dir;
    this.log = options.log ?? (() => undefined);
    this.startTimeoutMs = options.startTimeoutMs ?? 60_000;
  }

  async build(): Promise<NetworkState> {
    await this.plan();
    await this.generateMaterial();
    await this.startOrderer();
    await this.startPeers();
    await this.deployChaincode();
    this.state.status = 'up';
    writeState(this.state);
    return this.state;
  }

  private path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  private async plan(): Promise<void> {
    const orgCount = this.options.orgs ?? 1;
    if (!Number.isInteger(orgCount) || orgCount < 1 || orgCount > 4) throw new Error(`orgs must be 1 to 4, got ${orgCount}`);
    const channel = this.options.channel ?? 'twinledger';
    if (!/^[a-z][a-z0-9.-]{0,248}$/.test(channel))
      throw new Error(`channel ${JSON.stringify(channel)} must match ^[a-z][a-z0-9.-]*$ (Fabric's rule)`);
    const ports = await freePorts(3 + orgCount * 4);
    const take = () => ports.shift() as number;
    const orderer: OrdererPlan = {
      mspId: 'OrdererMSP',
      domain: 'example.com',
      host: 'orderer.example.com',
      port: take(),
      adminPort: take(),
      operationsPort: take(),
    };
    const orgs = Array.from({ length: orgCount }, (_, i) =>
      orgPlan(i + 1, { peer: take(), chaincodeListen: take(), operations: take(), chaincodeServer: take() }),
    );
    this.plans = { orderer, orgs };
    const cryptoDir = this.path('crypto');
    const ordererFiles = ordererPaths(cryptoDir, orderer);
    const version = chaincodeVersion();
    const name = this.options.chaincodeName ?? 'twinledger';
    this.state = {
      version: 1,
      status: 'starting',
      dir: this.dir,
      createdAt: new Date().toISOString(),
      channel,
      configDir: this.path('config'),
      chaincode: {
        name,
        label: `${name}_${version}`,
        version,
        sequence: 1,
        endorsementPolicy: this.options.endorsementPolicy ?? defaultPolicy(orgs),
        address: CHAINCODE_ADDRESS_TEMPLATE,
      },
      orderer: {
        mspId: orderer.mspId,
        endpoint: `${LOOPBACK}:${orderer.port}`,
        adminEndpoint: `${LOOPBACK}:${orderer.adminPort}`,
        hostAlias: orderer.host,
        batchTimeout: this.options.batchTimeout ?? '500ms',
        tlsRootCertFile: ordererFiles.tlsCa,
        ledgerDir: this.path('orderer', 'ledger'),
      },
      orgs: orgs.map((org) => {
        const files = orgPaths(cryptoDir, org);
        const user = (userName: string) => {
          const paths = files.user(userName);
          return { mspDir: paths.msp, certificateFile: paths.certificateFile, privateKeyFile: paths.privateKeyFile };
        };
        return {
          name: org.name,
          mspId: org.mspId,
          domain: org.domain,
          peer: {
            endpoint: `${LOOPBACK}:${org.peerPort}`,
            hostAlias: org.peerHost,
            tlsRootCertFile: files.tlsCa,
            operationsEndpoint: `${LOOPBACK}:${org.peerOperationsPort}`,
            dataDir: this.path(org.peerHost, 'data'),
          },
          chaincodeServer: `${LOOPBACK}:${org.chaincodePort}`,
          users: { Admin: user('Admin'), User1: user('User1') },
        };
      }),
      processes: [],
    };
    mkdirSync(this.path('logs'), { recursive: true });
    writeState(this.state);
  }

  private async generateMaterial(): Promise<void> {
    const { orderer, orgs } = this.plans;
    const env = baseEnv();
    this.log('generating crypto material (cryptogen)');
    writeFileSync(this.path('crypto-config.yaml'), cryptoConfig(orderer, orgs));
    await runTool(this.binaries.cryptogen, ['generate', `--config=${this.path('crypto-config.yaml')}`, `--output=${this.path('crypto')}`], {
      env,
      cwd: this.dir,
    });

    mkdirSync(this.state.configDir, { recursive: true });
    writePeerCoreYaml(this.binaries.configDir, this.state.configDir, this.binaries.ccaasBuilderDir);
    mkdirSync(this.path('configtx'), { recursive: true });
    const tuning = { batchTimeout: this.state.orderer.batchTimeout, maxMessageCount: this.options.maxMessageCount ?? 500 };
    writeFileSync(this.path('configtx', 'configtx.yaml'), channelConfig(this.path('crypto'), orderer, orgs, tuning));
    this.log(`creating the genesis block of channel ${this.state.channel} (configtxgen)`);
    await runTool(
      this.binaries.configtxgen,
      [
        '-profile',
        'TwinLedgerChannel',
        '-outputBlock',
        this.path('channel.block'),
        '-channelID',
        this.state.channel,
        '-configPath',
        this.path('configtx'),
      ],
      { env: { ...env, FABRIC_LOGGING_SPEC: 'warning' }, cwd: this.dir },
    );
  }

  private record(process: RecordedProcess): RecordedProcess {
    this.state.processes.push(process);
    writeState(this.state);
    return process;
  }

  private async startOrderer(): Promise<void> {
    const { orderer } = this.plans;
    const files = ordererPaths(this.path('crypto'), orderer);
    const list = (file: string) => `[${file}]`;
    const env: NodeJS.ProcessEnv = {
      ...baseEnv(),
      FABRIC_CFG_PATH: this.state.configDir,
      FABRIC_LOGGING_SPEC: this.options.logSpec ?? 'info',
      ORDERER_GENERAL_LISTENADDRESS: LOOPBACK,
      ORDERER_GENERAL_LISTENPORT: String(orderer.port),
      ORDERER_GENERAL_LOCALMSPID: orderer.mspId,
      ORDERER_GENERAL_LOCALMSPDIR: files.nodeMsp,
      ORDERER_GENERAL_TLS_ENABLED: 'true',
      ORDERER_GENERAL_TLS_PRIVATEKEY: files.tlsKey,
      ORDERER_GENERAL_TLS_CERTIFICATE: files.tlsCert,
      ORDERER_GENERAL_TLS_ROOTCAS: list(files.tlsCa),
      ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE: files.tlsCert,
      ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY: files.tlsKey,
      ORDERER_GENERAL_CLUSTER_ROOTCAS: list(files.tlsCa),
      ORDERER_GENERAL_BOOTSTRAPMETHOD: 'none',
      ORDERER_CHANNELPARTICIPATION_ENABLED: 'true',
      ORDERER_ADMIN_LISTENADDRESS: `${LOOPBACK}:${orderer.adminPort}`,
      ORDERER_ADMIN_TLS_ENABLED: 'true',
      ORDERER_ADMIN_TLS_CERTIFICATE: files.tlsCert,
      ORDERER_ADMIN_TLS_PRIVATEKEY: files.tlsKey,
      ORDERER_ADMIN_TLS_ROOTCAS: list(files.tlsCa),
      ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED: 'true',
      ORDERER_ADMIN_TLS_CLIENTROOTCAS: list(files.tlsCa),
      ORDERER_FILELEDGER_LOCATION: this.state.orderer.ledgerDir,
      ORDERER_CONSENSUS_WALDIR: this.path('orderer', 'etcdraft', 'wal'),
      ORDERER_CONSENSUS_SNAPDIR: this.path('orderer', 'etcdraft', 'snapshot'),
      ORDERER_OPERATIONS_LISTENADDRESS: `${LOOPBACK}:${orderer.operationsPort}`,
      ORDERER_METRICS_PROVIDER: 'disabled',
    };
    this.log(`starting the orderer on ${this.state.orderer.endpoint}`);
    const process = this.record(
      startProcess({
        name: 'orderer',
        command: this.binaries.orderer,
        args: [],
        env,
        cwd: this.dir,
        log: this.path('logs', 'orderer.log'),
      }),
    );
    await waitUntilListening(process, orderer.adminPort, this.startTimeoutMs);
    this.log(`joining the orderer to channel ${this.state.channel} (osnadmin)`);
    await runTool(
      this.binaries.osnadmin,
      [
        'channel',
        'join',
        '--channelID',
        this.state.channel,
        '--config-block',
        this.path('channel.block'),
        '-o',
        this.state.orderer.adminEndpoint,
        '--ca-file',
        files.tlsCa,
        '--client-cert',
        files.adminTlsCert,
        '--client-key',
        files.adminTlsKey,
      ],
      { env: baseEnv(), cwd: this.dir },
    );
  }

  private async startPeers(): Promise<void> {
    for (const [index, plan] of this.plans.orgs.entries()) {
      const org = this.state.orgs[index] as NetworkOrg;
      const files = orgPaths(this.path('crypto'), plan);
      const peerDir = this.path(plan.peerHost);
      mkdirSync(org.peer.dataDir, { recursive: true });
      const env: NodeJS.ProcessEnv = {
        ...baseEnv(),
        FABRIC_CFG_PATH: this.state.configDir,
        FABRIC_LOGGING_SPEC: this.options.logSpec ?? 'info',
        CORE_PEER_ID: plan.peerHost,
        CORE_PEER_ADDRESS: org.peer.endpoint,
        CORE_PEER_LISTENADDRESS: org.peer.endpoint,
        CORE_PEER_CHAINCODEADDRESS: `${LOOPBACK}:${plan.peerChaincodePort}`,
        CORE_PEER_CHAINCODELISTENADDRESS: `${LOOPBACK}:${plan.peerChaincodePort}`,
        CORE_PEER_GOSSIP_BOOTSTRAP: org.peer.endpoint,
        CORE_PEER_GOSSIP_EXTERNALENDPOINT: org.peer.endpoint,
        CORE_PEER_LOCALMSPID: plan.mspId,
        CORE_PEER_MSPCONFIGPATH: files.peerMsp,
        CORE_PEER_TLS_ENABLED: 'true',
        CORE_PEER_TLS_CERT_FILE: join(files.peerTls, 'server.crt'),
        CORE_PEER_TLS_KEY_FILE: join(files.peerTls, 'server.key'),
        CORE_PEER_TLS_ROOTCERT_FILE: files.tlsCa,
        CORE_PEER_FILESYSTEMPATH: org.peer.dataDir,
        CORE_LEDGER_SNAPSHOTS_ROOTDIR: join(peerDir, 'snapshots'),
        CORE_OPERATIONS_LISTENADDRESS: org.peer.operationsEndpoint,
        CORE_METRICS_PROVIDER: 'disabled',
        // Fills {{.ccport}} in the package's connection.json: each peer dials its own organisation's chaincode server.
        CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: JSON.stringify({ ccport: String(plan.chaincodePort) }),
      };
      this.log(`starting ${plan.peerHost} (${plan.mspId}) on ${org.peer.endpoint}`);
      const process = this.record(
        startProcess({
          name: plan.peerHost,
          command: this.binaries.peer,
          args: ['node', 'start'],
          env,
          cwd: this.dir,
          log: this.path('logs', `${plan.peerHost}.log`),
        }),
      );
      await waitUntilListening(process, plan.peerPort, this.startTimeoutMs);
      this.log(`joining ${plan.peerHost} to channel ${this.state.channel}`);
      await this.peerCli(org, ['channel', 'join', '-b', this.path('channel.block')]);
    }
  }

  private peerCli(org: NetworkOrg, args: string[], timeoutMs = 120_000) {
    return runTool(this.binaries.peer, args, { env: peerAdminEnv(this.state, org), cwd: this.dir, timeoutMs });
  }

  private ordererArgs(): string[] {
    return [
      '-o',
      this.state.orderer.endpoint,
      '--ordererTLSHostnameOverride',
      this.state.orderer.hostAlias,
      '--tls',
      '--cafile',
      this.state.orderer.tlsRootCertFile,
    ];
  }

  private definitionArgs(): string[] {
    const { chaincode, channel } = this.state;
    return [
      '--channelID',
      channel,
      '--name',
      chaincode.name,
      '--version',
      chaincode.version,
      '--sequence',
      String(chaincode.sequence),
      '--collections-config',
      chaincode.collectionsConfigFile as string,
      '--signature-policy',
      chaincode.endorsementPolicy,
    ];
  }

  private async deployChaincode(): Promise<void> {
    const env = baseEnv();
    await ensureChaincodeBuilt({ ...process.env }, this.log);
    const chaincode = this.state.chaincode;
    mkdirSync(this.path('chaincode'), { recursive: true });
    const pkg = await packageChaincode({ label: chaincode.label, address: chaincode.address, outDir: this.path('chaincode'), env });
    chaincode.packageId = pkg.packageId;
    chaincode.packageFile = pkg.file;
    chaincode.collectionsConfigFile = this.path('chaincode', 'collections_config.json');
    await writeCollectionsConfig(
      this.state.orgs.map((org) => org.mspId),
      chaincode.collectionsConfigFile,
      env,
    );
    writeState(this.state);

    for (const org of this.state.orgs) {
      this.log(`installing ${pkg.packageId} on ${org.peer.hostAlias}`);
      await this.peerCli(org, ['lifecycle', 'chaincode', 'install', pkg.file]);
      const server = chaincodeServerCommand({
        packageId: pkg.packageId,
        address: org.chaincodeServer,
        mspId: org.mspId,
        logLevel: this.options.chaincodeLogLevel ?? 'warning',
        baseEnv: env,
      });
      this.log(`starting the chaincode server of ${org.mspId} on ${org.chaincodeServer}`);
      const started = this.record(
        startProcess({
          name: `chaincode.${org.name.toLowerCase()}`,
          ...server,
          cwd: CHAINCODE_DIR,
          log: this.path('logs', `chaincode.${org.name.toLowerCase()}.log`),
        }),
      );
      await waitUntilListening(started, Number(org.chaincodeServer.split(':')[1]), this.startTimeoutMs);
    }
    for (const org of this.state.orgs) {
      this.log(`approving the chaincode definition for ${org.mspId}`);
      await this.peerCli(org, [
        'lifecycle',
        'chaincode',
        'approveformyorg',
        ...this.ordererArgs(),
        ...this.definitionArgs(),
        '--package-id',
        pkg.packageId,
      ]);
    }
    this.log(`committing chaincode ${chaincode.name} on channel ${this.state.channel}`);
    const peers = this.state.orgs.flatMap((org) => ['--peerAddresses', org.peer.endpoint, '--tlsRootCertFiles', org.peer.tlsRootCertFile]);
    await this.peerCli(this.state.orgs[0] as NetworkOrg, [
      'lifecycle',
      'chaincode',
      'commit',
      ...this.ordererArgs(),
      ...this.definitionArgs(),
      ...peers,
    ]);
    for (const org of this.state.orgs) await this.waitForChaincode(org);
  }

  /** The peer connects to the chaincode server on the first invocation: query until that works. */
  private async waitForChaincode(org: NetworkOrg): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    const query = [
      'chaincode',
      'query',
      '-C',
      this.state.channel,
      '-n',
      this.state.chaincode.name,
      '-c',
      '{"Args":["GetHead","fabric-network.ready"]}',
    ];
    for (;;) {
      try {
        await this.peerCli(org, query, 30_000);
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`chaincode ${this.state.chaincode.name} does not answer on ${org.peer.hostAlias}: ${(error as Error).message}`);
        await new Promise((done) => setTimeout(done, 500));
      }
    }
  }
}
