/**
 * Where the Fabric programs are. The layout is the one of Fabric's release archives (what fabric-samples'
 * `install-fabric.sh binary` unpacks): `bin/` with peer, orderer, configtxgen, cryptogen and osnadmin,
 * `config/` with the sample core.yaml and orderer.yaml, and `builders/ccaas/bin/` with the external builder
 * for chaincode as a service.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface FabricBinaries {
  /** Folder holding `peer`, `orderer`, `configtxgen`, `cryptogen`, `osnadmin`. */
  binDir: string;
  /** Folder holding the sample `core.yaml` and `orderer.yaml`. */
  configDir: string;
  /** Folder of the ccaas external builder (the one that holds `bin/detect`, `bin/build`, `bin/release`). */
  ccaasBuilderDir: string;
  peer: string;
  orderer: string;
  configtxgen: string;
  cryptogen: string;
  osnadmin: string;
}

export interface BinaryLocations {
  /** Default: `FABRIC_BIN_DIR`. */
  binDir?: string;
  /** Default: `FABRIC_CFG_PATH`, else `<binDir>/../config`. */
  configDir?: string;
  /** Default: `FABRIC_CCAAS_BUILDER_DIR`, else `<binDir>/../builders/ccaas`. */
  ccaasBuilderDir?: string;
}

const PROGRAMS = ['peer', 'orderer', 'configtxgen', 'cryptogen', 'osnadmin'] as const;

export class FabricBinariesMissing extends Error {
  override readonly name = 'FabricBinariesMissing';
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the binaries, the sample configuration and the ccaas builder, or throws `FabricBinariesMissing`
 * saying which is missing and how to get it.
 */
export function locateFabricBinaries(locations: BinaryLocations = {}, env: NodeJS.ProcessEnv = process.env): FabricBinaries {
  const given = locations.binDir ?? env.FABRIC_BIN_DIR;
  if (!given) {
    throw new FabricBinariesMissing(
      'FABRIC_BIN_DIR is not set: point it at the bin/ folder of a Fabric 2.5 release ' +
        '(e.g. fabric-samples/bin after `./install-fabric.sh binary`), which holds peer, orderer, configtxgen, cryptogen and osnadmin',
    );
  }
  const binDir = resolve(given);
  const missing = PROGRAMS.filter((name) => !executable(join(binDir, name)));
  if (missing.length > 0) {
    throw new FabricBinariesMissing(`FABRIC_BIN_DIR=${binDir} lacks ${missing.join(', ')} (or they are not executable)`);
  }
  const configDir = resolve(locations.configDir ?? env.FABRIC_CFG_PATH ?? join(dirname(binDir), 'config'));
  for (const file of ['core.yaml', 'orderer.yaml']) {
    if (!existsSync(join(configDir, file))) {
      throw new FabricBinariesMissing(
        `${join(configDir, file)} is missing: set FABRIC_CFG_PATH to the config/ folder of the Fabric release (beside bin/)`,
      );
    }
  }
  const ccaasBuilderDir = resolve(locations.ccaasBuilderDir ?? env.FABRIC_CCAAS_BUILDER_DIR ?? join(dirname(binDir), 'builders', 'ccaas'));
  const builderMissing = ['detect', 'build', 'release'].filter((name) => !executable(join(ccaasBuilderDir, 'bin', name)));
  if (builderMissing.length > 0) {
    throw new FabricBinariesMissing(
      `the ccaas external builder is incomplete in ${ccaasBuilderDir} (missing bin/${builderMissing.join(', bin/')}): ` +
        'Fabric release archives ship it as builders/ccaas beside bin/; elsewhere set FABRIC_CCAAS_BUILDER_DIR',
    );
  }
  return {
    binDir,
    configDir,
    ccaasBuilderDir,
    peer: join(binDir, 'peer'),
    orderer: join(binDir, 'orderer'),
    configtxgen: join(binDir, 'configtxgen'),
    cryptogen: join(binDir, 'cryptogen'),
    osnadmin: join(binDir, 'osnadmin'),
  };
}
