/**
 * The TwinLedger chaincode as the network deploys it, through the chaincode package's own scripts:
 * `npm run build`, `scripts/package-ccaas.mjs` (the CCaaS package and its ID), `scripts/collections.mjs`
 * (one private data collection per organisation of the channel) and `scripts/start-server.mjs`.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTool } from './processes.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHAINCODE_DIR = join(REPO_ROOT, 'chaincode');

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stat.mtimeMs);
}

/**
 * Compiles the chaincode when its sources are newer than the build. Its dependencies come with `npm install` in the
 * repository root (chaincode/ is a workspace there); `npm ci` inside chaincode/ would reinstall the whole workspace.
 */
export async function ensureChaincodeBuilt(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  try {
    createRequire(join(CHAINCODE_DIR, 'package.json')).resolve('fabric-shim');
  } catch {
    throw new Error('the chaincode dependencies are not installed: run `npm install` in the repository root');
  }
  const built = join(CHAINCODE_DIR, 'dist', 'src', 'index.js');
  const sources = Math.max(newestMtime(join(CHAINCODE_DIR, 'src')), newestMtime(join(CHAINCODE_DIR, 'tsconfig.json')));
  if (!existsSync(built) || statSync(built).mtimeMs < sources) {
    log('compiling the chaincode (npm run build in chaincode/)');
    await runTool(npm, ['run', 'build'], { env, cwd: CHAINCODE_DIR, timeoutMs: 300_000 });
  }
}

export function chaincodeVersion(): string {
  return (JSON.parse(readFileSync(join(CHAINCODE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Builds the CCaaS package; resolves with its file and package ID (`label:sha256`). */
export async function packageChaincode(options: {
  label: string;
  address: string;
  outDir: string;
  env: NodeJS.ProcessEnv;
}): Promise<{ file: string; packageId: string }> {
  const script = join(CHAINCODE_DIR, 'scripts', 'package-ccaas.mjs');
  const { stdout } = await runTool(
    process.execPath,
    [script, '--label', options.label, '--address', options.address, '--out', options.outDir],
    {
      env: options.env,
      cwd: CHAINCODE_DIR,
    },
  );
  const packageId = stdout.trim();
  if (!packageId.startsWith(`${options.label}:`))
    throw new Error(`package-ccaas.mjs printed ${JSON.stringify(packageId)}, not a package ID`);
  return { file: join(options.outDir, `${options.label}.tar.gz`), packageId };
}

/** Writes the collections config for exactly these organisations (Fabric refuses members outside the channel). */
export async function writeCollectionsConfig(mspIds: string[], file: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { stdout } = await runTool(process.execPath, [join(CHAINCODE_DIR, 'scripts', 'collections.mjs'), ...mspIds], {
    env,
    cwd: CHAINCODE_DIR,
  });
  JSON.parse(stdout);
  writeFileSync(file, stdout);
}

/** Command and environment of one organisation's chaincode server. */
export function chaincodeServerCommand(options: {
  packageId: string;
  address: string;
  mspId: string;
  logLevel: string;
  modulePath?: string;
  baseEnv: NodeJS.ProcessEnv;
}) {
  const script = join(CHAINCODE_DIR, 'scripts', 'start-server.mjs');
  return {
    command: process.execPath,
    args: [script],
    env: {
      ...options.baseEnv,
      CHAINCODE_ID: options.packageId,
      CHAINCODE_SERVER_ADDRESS: options.address,
      CORE_PEER_LOCALMSPID: options.mspId,
      CORE_CHAINCODE_LOGGING_LEVEL: options.logLevel,
      ...(options.modulePath ? { CHAINCODE_MODULE_PATH: options.modulePath } : {}),
    },
  };
}
