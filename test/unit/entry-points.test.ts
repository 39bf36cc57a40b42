// What importing each entry point loads. The SDK is compiled with the build settings (tsc, as `npm run build`), and
// each entry point of package.json `exports` is imported in a fresh Node process that records every module resolved
// through the ESM loader (test/support/load-recorder.mjs) and everything in `require.cache` (CommonJS packages and
// what they require). A device app that imports `twinledger/device` must not load gRPC, Fabric, kafkajs or rhea.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { apiEntries } from '../../scripts/api-report/surface.js';

const root = resolve(import.meta.dirname, '../..');
const RECORDER = join(root, 'test', 'support', 'load-recorder.mjs');

/** The npm packages the SDK's own files import, per entry point: exactly these, no more. */
const DIRECT_PACKAGES: Record<string, string[]> = {
  twinledger: [
    '@grpc/grpc-js',
    '@hyperledger/fabric-gateway',
    '@hyperledger/fabric-protos',
    'axios',
    'bcryptjs',
    'canonicalize',
    'kafkajs',
    'mqtt',
    'multiformats',
    'rhea',
  ],
  'twinledger/anchor': ['canonicalize', 'multiformats'],
  'twinledger/c2e': ['axios', 'bcryptjs', 'kafkajs', 'mqtt', 'rhea'],
  'twinledger/device': ['axios', 'mqtt'],
  'twinledger/ditto': ['axios'],
  'twinledger/ledger': ['@grpc/grpc-js', '@hyperledger/fabric-gateway', '@hyperledger/fabric-protos', 'axios'],
  // The chaincode (twinledger-chaincode, with fabric-shim) is loaded by DevLedger.open(), not on import.
  'twinledger/ledger/dev': ['@grpc/grpc-js', '@hyperledger/fabric-gateway', '@hyperledger/fabric-protos', 'lmdb'],
  'twinledger/merkle': [],
  'twinledger/offchain': ['multiformats'],
  'twinledger/northbound': ['kafkajs', 'rhea'],
  'twinledger/protocol': [],
  'twinledger/registry': ['axios', 'bcryptjs'],
  // LMDB only with a data directory (loaded by Sandbox.start()).
  'twinledger/sandbox': ['aedes', 'bcryptjs', 'rhea'],
};

/** The chaincode runtime: only DevLedger (`twinledger/ledger/dev`) loads it, and only when a ledger is opened. */
const CHAINCODE_RUNTIME = ['twinledger-chaincode', 'fabric-shim', 'fabric-contract-api'];

/** The IPFS packages of the stores: loaded when a store is first used, never on import (src/offchain/modules.ts). */
const IPFS_RUNTIME = ['kubo-rpc-client', 'ipfs-unixfs-importer', 'ipfs-unixfs-exporter', 'blockstore-fs', '@ipld/car'];

/** Packages that must not be loaded at all, directly or by a dependency. */
const NEVER_LOADED: Record<string, string[]> = {
  twinledger: [...CHAINCODE_RUNTIME, ...IPFS_RUNTIME],
  'twinledger/device': [
    '@grpc/grpc-js',
    '@hyperledger/fabric-gateway',
    '@hyperledger/fabric-protos',
    'kafkajs',
    'rhea',
    'lmdb',
    ...CHAINCODE_RUNTIME,
  ],
  'twinledger/northbound': ['@grpc/grpc-js', '@hyperledger/fabric-gateway', 'mqtt'],
  'twinledger/ditto': ['@grpc/grpc-js', '@hyperledger/fabric-gateway', 'kafkajs', 'rhea', 'mqtt'],
  'twinledger/registry': ['@grpc/grpc-js', '@hyperledger/fabric-gateway', 'kafkajs', 'rhea', 'mqtt'],
  'twinledger/protocol': ['@grpc/grpc-js', '@hyperledger/fabric-gateway', 'kafkajs', 'rhea', 'mqtt', 'axios'],
  'twinledger/ledger': ['kafkajs', 'rhea', 'mqtt', 'lmdb', ...CHAINCODE_RUNTIME],
  'twinledger/ledger/dev': ['kafkajs', 'rhea', 'mqtt', ...CHAINCODE_RUNTIME],
  'twinledger/merkle': ['@grpc/grpc-js', '@hyperledger/fabric-gateway', 'kafkajs', 'rhea', 'mqtt', 'axios'],
  'twinledger/offchain': [
    '@grpc/grpc-js',
    '@hyperledger/fabric-gateway',
    'kafkajs',
    'rhea',
    'mqtt',
    'axios',
    'lmdb',
    ...CHAINCODE_RUNTIME,
    ...IPFS_RUNTIME,
  ],
  'twinledger/anchor': ['kafkajs', 'rhea', 'mqtt', 'lmdb', ...CHAINCODE_RUNTIME, ...IPFS_RUNTIME],
  'twinledger/sandbox': ['@grpc/grpc-js', '@hyperledger/fabric-gateway', 'kafkajs', 'lmdb', ...CHAINCODE_RUNTIME, ...IPFS_RUNTIME],
  'twinledger/c2e': ['@grpc/grpc-js', '@hyperledger/fabric-gateway', ...CHAINCODE_RUNTIME],
};

interface Loaded {
  /** Packages imported by the SDK's own files. */
  direct: Set<string>;
  /** Every package loaded, by anyone. */
  all: Set<string>;
}

/** `@scope/name` or `name` of a specifier or of a path inside node_modules. */
function packageOf(text: string): string | undefined {
  const inModules = text.split(/[\\/]node_modules[\\/]/).at(-1);
  const path = text.includes('node_modules') ? inModules : text;
  if (path === undefined || /^(\.|\/|[a-z]+:)/.test(path)) return undefined;
  const [first, second] = path.split(/[\\/]/);
  return first?.startsWith('@') ? `${first}/${second}` : first;
}

function load(file: string, build: string, log: string): Promise<Loaded> {
  const code = [
    "import { createRequire } from 'node:module';",
    'await import(process.env.TWINLEDGER_LOAD_TARGET);',
    "process.stdout.write(JSON.stringify(Object.keys(createRequire(process.cwd() + '/').cache)));",
  ].join('\n');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(RECORDER).href, '--input-type=module', '-e', code], {
      cwd: root,
      env: { ...process.env, TWINLEDGER_LOAD_LOG: log, TWINLEDGER_LOAD_TARGET: pathToFileURL(file).href },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) return reject(new Error(`importing ${file} failed (${status}): ${stderr}`));
      const buildUrl = pathToFileURL(build).href;
      const resolved = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { specifier: string; parent?: string; url: string });
      const direct = new Set(
        resolved
          .filter((entry) => entry.parent?.startsWith(buildUrl) && !entry.specifier.startsWith('node:'))
          .map((entry) => packageOf(entry.specifier))
          .filter((name) => name !== undefined),
      );
      const all = new Set(
        [...resolved.map((entry) => entry.url), ...(JSON.parse(stdout) as string[])].map(packageOf).filter((name) => name !== undefined),
      );
      resolvePromise({ direct, all });
    });
  });
}

describe('entry points', () => {
  const entries = apiEntries(root);
  let build = '';
  const loaded = new Map<string, Loaded>();

  before(async () => {
    mkdirSync(join(root, '.twinledger'), { recursive: true });
    build = mkdtempSync(join(root, '.twinledger', 'entry-points-'));
    const tsc = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        build,
        '--declaration',
        'false',
        '--declarationMap',
        'false',
        '--sourceMap',
        'false',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(tsc.status, 0, tsc.stdout);
    const results = await Promise.all(
      entries.map((entry, index) =>
        load(join(build, entry.source.replace(/^src\//, '').replace(/\.ts$/, '.js')), build, join(build, `load-${index}.jsonl`)),
      ),
    );
    entries.forEach((entry, index) => loaded.set(entry.specifier, results[index] as Loaded));
  });

  after(() => {
    if (build !== '') rmSync(build, { recursive: true, force: true });
  });

  it('every entry point is listed here', () => {
    assert.deepEqual(entries.map((entry) => entry.specifier).sort(), Object.keys(DIRECT_PACKAGES).sort());
  });

  for (const [specifier, expected] of Object.entries(DIRECT_PACKAGES)) {
    it(`${specifier} imports exactly ${expected.length === 0 ? 'no npm package' : expected.join(', ')}`, () => {
      const result = loaded.get(specifier);
      assert.ok(result, `${specifier} was not loaded`);
      assert.deepEqual([...result.direct].sort(), expected);
    });
  }

  for (const [specifier, forbidden] of Object.entries(NEVER_LOADED)) {
    it(`${specifier} loads none of ${forbidden.join(', ')}`, () => {
      const result = loaded.get(specifier);
      assert.ok(result, `${specifier} was not loaded`);
      assert.deepEqual(
        forbidden.filter((name) => result.all.has(name)),
        [],
      );
      assert.ok(specifier !== 'twinledger/device' || result.all.has('mqtt'), 'the recorder sees what an entry point loads');
    });
  }
});
