// The public surface, entry point by entry point (package.json `exports`), against the checked-in report in test/api/:
// a change of the API fails here until `npm run api:report` rewrites the report, so the change shows in review. Also
// the export policy: every entry point brings the shared core API, the root is exactly the union of the entry points,
// every type an entry point's API mentions can be imported, and internal helpers stay internal.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { type ApiSurface, apiEntries, lineDiff, readApiSurfaces, renderReport } from '../../scripts/api-report/surface.js';

const root = resolve(import.meta.dirname, '../..');
const REGENERATE = 'Run `npm run api:report` and review the difference (it becomes part of the change).';
/** The modules that get an entry point of their own once their folder exists under src/. */
const WITH_ENTRY_POINT = [
  'c2e',
  'device',
  'northbound',
  'ditto',
  'registry',
  'ledger',
  'protocol',
  'merkle',
  'offchain',
  'anchor',
  'sandbox',
];
/**
 * Entry points the root does not re-export: the root never loads the sandbox (test/support/architecture.ts), nor the
 * dev ledger (it loads the chaincode runtime, fabric-shim, and LMDB's native addon; docs/ledger.md).
 */
const NOT_AT_ROOT = new Set(['twinledger', 'twinledger/sandbox', 'twinledger/ledger/dev']);

describe('the public API', () => {
  let surfaces: ApiSurface[] = [];
  const named = (specifier: string): ApiSurface => {
    const surface = surfaces.find((candidate) => candidate.entry.specifier === specifier);
    assert.ok(surface, `no entry point ${specifier}`);
    return surface;
  };
  const names = (surface: ApiSurface) => surface.names.filter((name) => !name.name.includes('.')).map((name) => name.name);

  before(() => {
    surfaces = readApiSurfaces(root);
  });

  it('package.json exports one entry point per module, each with types and import in dist/', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; sideEffects: unknown };
    assert.equal(pkg.exports['./package.json'], './package.json');
    assert.equal(pkg.sideEffects, false);
    const entries = apiEntries(root);
    assert.deepEqual(entries.map((entry) => entry.specifier).sort(), [
      'twinledger',
      'twinledger/anchor',
      'twinledger/c2e',
      'twinledger/device',
      'twinledger/ditto',
      'twinledger/ledger',
      'twinledger/ledger/dev',
      'twinledger/merkle',
      'twinledger/northbound',
      'twinledger/offchain',
      'twinledger/protocol',
      'twinledger/registry',
      'twinledger/sandbox',
    ]);
    for (const entry of entries) assert.ok(existsSync(join(root, entry.source)), `${entry.specifier}: ${entry.source} is missing`);
    for (const module of WITH_ENTRY_POINT.filter((name) => existsSync(join(root, 'src', name)))) {
      assert.ok(
        entries.some((entry) => entry.specifier === `twinledger/${module}`),
        `src/${module}/ has landed: add "./${module}" to package.json exports`,
      );
    }
  });

  it('matches the report in test/api/ for every entry point', () => {
    const problems: string[] = [];
    for (const surface of surfaces) {
      const file = join(root, surface.entry.report);
      const expected = renderReport(surface);
      if (!existsSync(file)) problems.push(`${surface.entry.report} is missing`);
      else {
        const current = readFileSync(file, 'utf8');
        if (current !== expected) problems.push(`${surface.entry.specifier} (${surface.entry.report}):\n${lineDiff(current, expected)}`);
      }
    }
    const reports = new Set(surfaces.map((surface) => surface.entry.report));
    for (const file of readdirSync(join(root, 'test', 'api')).filter((name) => name.endsWith('.api.txt'))) {
      if (!reports.has(`test/api/${file}`)) problems.push(`test/api/${file} belongs to no entry point`);
    }
    if (problems.length > 0)
      assert.fail(`The public API differs from test/api/ (- report, + source). ${REGENERATE}\n\n${problems.join('\n\n')}`);
  });

  it('every entry point but the protocol codec exports the shared core API (src/core/index.ts)', () => {
    const shared = readApiSurfaces(root, [{ specifier: 'core', source: 'src/core/index.ts', report: '' }])[0]?.names ?? [];
    assert.ok(shared.some((name) => name.name === 'TwinLedgerError'));
    for (const surface of surfaces.filter((candidate) => candidate.entry.specifier !== 'twinledger/protocol')) {
      const own = new Map(surface.names.map((name) => [name.name, name.kind]));
      const missing = shared.filter((name) => own.get(name.name) !== name.kind).map((name) => `${name.kind} ${name.name}`);
      assert.deepEqual(missing, [], `${surface.entry.source} lacks part of the shared core API`);
    }
  });

  it('the root exports exactly the union of the other entry points', () => {
    const union = new Map<string, string>();
    for (const surface of surfaces) {
      if (NOT_AT_ROOT.has(surface.entry.specifier)) continue;
      for (const name of surface.names) union.set(name.name, name.kind);
    }
    const rootNames = new Map(named('twinledger').names.map((name) => [name.name, name.kind]));
    const onlyInModules = [...union].filter(([name, kind]) => rootNames.get(name) !== kind).map(([name, kind]) => `${kind} ${name}`);
    const onlyAtRoot = [...rootNames].filter(([name]) => !union.has(name)).map(([name, kind]) => `${kind} ${name}`);
    assert.deepEqual(onlyInModules, [], 'add these to src/index.ts');
    assert.deepEqual(onlyAtRoot, [], 'export these from their module entry point, or drop them from src/index.ts');
  });

  it('every type an entry point mentions can be imported: from it, or from the entry point of its module', () => {
    const unexported = surfaces.flatMap((surface) =>
      surface.unexported.map(
        (reference) => `${surface.entry.specifier}: ${reference.via} uses ${reference.name} (${reference.declaredIn})`,
      ),
    );
    assert.deepEqual(unexported, [], 'export these (as types, where users only name them) or keep them out of the signatures');
  });

  it('leaves internal helpers and implementation classes out', () => {
    const rootNames = new Set(names(named('twinledger')));
    for (const internal of [
      'sleep',
      'timerDelay',
      'raceAbort',
      'numberProperty',
      'validateTimeoutMs',
      'durationMs',
      'integerOption',
      'validateCallOptions',
      'redactingLogger',
      'resolveTls',
      'validateThingId',
      'encodeComponent',
      'httpErrorFor',
      'asError',
      'readBody',
      'parseRetryAfter',
      'deviceHttpError',
      'publishTopic',
      'resolveAddress',
      'AMQP_DEFAULTS',
      'decodeText',
      'encodeSearchQuery',
      'passwordSecret',
      'validateCredentials',
      'dittoHeaders',
      'API_PREFIX',
      'provisionDevice',
      'DeliveredStore',
      'grpcCodeName',
      'BaseDeviceClient',
      'MqttDeviceClient',
      'RegistryTransport',
      'DittoResource',
    ]) {
      assert.ok(!rootNames.has(internal), `${internal} is internal but exported`);
    }
  });

  it('offers RQL as one namespace, not as operators at the top level', () => {
    const ditto = named('twinledger/ditto');
    assert.ok(ditto.names.some((name) => name.name === 'rql' && name.kind === 'namespace'));
    assert.ok(ditto.names.some((name) => name.name === 'rql.and' && name.kind === 'function'));
    for (const operator of ['and', 'or', 'not', 'eq', 'raw'])
      assert.ok(!names(named('twinledger')).includes(operator), `${operator} at the top level`);
  });
});
