// Shared by the cloud2edge-helm/ tests (helm-*.test.ts): where the files are, the tools (HELM_BIN, YAMLLINT_BIN,
// SHELLCHECK_BIN, else on PATH), running them, and reading YAML documents.
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { findExecutable } from './services.js';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const helmDir = join(repo, 'cloud2edge-helm');
export const kuboChart = join(helmDir, 'kubo');
export const valuesDir = join(helmDir, 'values');
export const specs = join(repo, 'test', 'specs', 'cloud2edge');
export const installSh = join(helmDir, 'scripts', 'install.sh');
export const envSh = join(helmDir, 'scripts', 'twinledger-env.sh');
export const initSh = join(kuboChart, 'files', 'init-config.sh');

/** A scratch folder for one test file, removed after it. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'twinledger-helm-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Tool {
  bin: string | undefined;
  problem: string | undefined;
}

/** The tool named by `envVar`, else `name` on PATH. */
function locate(envVar: string, name: string): Tool {
  const configured = process.env[envVar];
  if (configured !== undefined && configured !== '') {
    return existsSync(configured)
      ? { bin: configured, problem: undefined }
      : { bin: undefined, problem: `${envVar}=${configured} does not exist` };
  }
  const found = findExecutable(name, []);
  return found ? { bin: found, problem: undefined } : { bin: undefined, problem: `${name} not found (set ${envVar} or put it on PATH)` };
}

export const helm = locate('HELM_BIN', 'helm');
export const yamllint = locate('YAMLLINT_BIN', 'yamllint');
export const shellcheck = locate('SHELLCHECK_BIN', 'shellcheck');
export const openssl = findExecutable('openssl', []);

export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000, ...options });
  if (result.error) throw result.error;
  return result;
}

export function succeeded(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.status, 0, `${what} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

export type Doc = Record<string, unknown>;

export function isMap(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function at(value: unknown, ...path: Array<string | number>): unknown {
  let node = value;
  for (const key of path) {
    if (Array.isArray(node) && typeof key === 'number') node = node[key];
    else if (isMap(node) && typeof key === 'string') node = node[key];
    else return undefined;
  }
  return node;
}

export function loadYaml(file: string): unknown {
  return yaml.load(readFileSync(file, 'utf8'));
}
