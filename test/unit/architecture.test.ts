// The module map in docs/api.md: "dependencies point downwards only", and a test enforces it. This is that test; the rules
// are MODULE_RULES in test/support/architecture.ts.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { type ImportRef, type SourceImports, checkImports, collectImports, moduleOf, readSourceImports } from '../support/architecture.js';

const src = resolve(import.meta.dirname, '..', '..', 'src');

function file(path: string, ...specifiers: Array<string | [string, ImportRef['kind']]>): SourceImports {
  return {
    file: path,
    imports: specifiers.map((item, index) => {
      const [specifier, kind] = typeof item === 'string' ? [item, 'import' as const] : item;
      return { specifier, kind, line: index + 1 };
    }),
  };
}

describe('module dependency rules (docs/api.md)', () => {
  it('every import in src/ follows them', () => {
    const sources = readSourceImports(src);
    assert.ok(
      sources.some((source) => source.file === 'device/twin.ts'),
      'reads src/ recursively',
    );
    const violations = checkImports(sources);
    assert.deepEqual(
      violations.map((violation) => violation.message),
      [],
    );
  });

  it('device and ditto share the protocol codec; device does not import ditto', () => {
    const sources = readSourceImports(src);
    const device = sources.filter((source) => moduleOf(source.file) === 'device');
    const targets = device
      .flatMap((source) => source.imports.map((ref) => ref.specifier ?? ''))
      .filter((specifier) => specifier.startsWith('../'));
    assert.ok(targets.some((specifier) => specifier.startsWith('../protocol/')));
    assert.deepEqual(
      targets.filter((specifier) => !/^\.\.\/(core|protocol)\//.test(specifier)),
      [],
    );
  });
});

describe('the import checker', () => {
  it('names the file, the line and the import of a violation', () => {
    const violations = checkImports([file('device/twin.ts', '../core/errors.js', '../ditto/protocol.js')]);
    assert.equal(violations.length, 1);
    const [violation] = violations;
    assert.equal(violation?.file, 'device/twin.ts');
    assert.equal(violation?.line, 2);
    assert.equal(violation?.specifier, '../ditto/protocol.js');
    assert.match(
      violation?.message ?? '',
      /^src\/device\/twin\.ts:2 imports '\.\.\/ditto\/protocol\.js' \(ditto; import\): device may use only core, protocol/,
    );
  });

  it('counts type-only imports, re-exports and dynamic imports like any other', () => {
    const violations = checkImports([
      file('device/types.ts', ['../ditto/types.js', 'import type']),
      file('registry/index.ts', ['../northbound/index.js', 'export']),
      file('c2e/cloud2edge.ts', ['../sandbox/index.js', 'dynamic']),
    ]);
    assert.deepEqual(
      violations.map((violation) => violation.file),
      ['device/types.ts', 'registry/index.ts', 'c2e/cloud2edge.ts'],
    );
  });

  it('applies each rule of the module map, including to modules that have not landed yet', () => {
    const forbidden: SourceImports[] = [
      file('core/http.ts', '../protocol/index.js'),
      file('protocol/codec.ts', '../ditto/types.js'),
      file('ditto/things.ts', '../registry/index.js'),
      file('northbound/kafka.ts', '../device/index.js'),
      file('ledger/fabric.ts', '../ledger/dev/index.js'),
      file('ledger/relay.ts', '../registry/index.js'),
      file('ledger/dev/ledger.ts', '../../offchain/index.js'),
      file('merkle/tree.ts', '../ledger/index.js'),
      file('offchain/kubo.ts', '../ledger/index.js'),
      file('anchor/anchorer.ts', '../ditto/index.js'),
      file('c2e/cloud2edge.ts', '../sandbox/index.js'),
      file('index.ts', './sandbox/index.js'),
      file('sandbox/server.ts', '../cli/index.js'),
      file('c2e/cloud2edge.ts', '../index.js'),
    ];
    for (const source of forbidden) {
      assert.equal(checkImports([source]).length, 1, `${source.file} → ${source.imports[0]?.specifier} must be refused`);
    }
    const allowed: SourceImports[] = [
      file('core/http.ts', './errors.js', 'node:crypto', 'axios'),
      file('protocol/codec.ts', '../core/ids.js'),
      file('device/twin.ts', '../core/errors.js', '../protocol/index.js'),
      file('ditto/messages.ts', '../protocol/index.js'),
      file('ledger/relay.ts', './errors.js', '../core/http.js'),
      file('ledger/dev/ledger.ts', '../gateway-port.js', '../../core/errors.js'),
      file(
        'anchor/anchorer.ts',
        '../merkle/index.js',
        '../ledger/index.js',
        '../offchain/index.js',
        '../core/errors.js',
        '../ledger/dev/index.js',
      ),
      file(
        'c2e/cloud2edge.ts',
        '../ditto/index.js',
        '../registry/index.js',
        '../device/index.js',
        '../northbound/index.js',
        '../anchor/index.js',
      ),
      file('sandbox/server.ts', '../c2e/index.js', '../ledger/dev/index.js', '../offchain/index.js'),
      file('cli/main.ts', '../sandbox/index.js', '../c2e/index.js'),
      file('index.ts', './c2e/index.js', './ditto/index.js'),
    ];
    for (const source of allowed)
      assert.deepEqual(checkImports([source]), [], `${source.file} may import ${source.imports.map((ref) => ref.specifier).join(', ')}`);
  });

  it('refuses unknown modules, imports out of src/, self-references and computed dynamic imports', () => {
    const messages = checkImports([
      file('metrics/counter.ts', '../core/errors.js'),
      file('device/client.ts', '../../chaincode/src/contract.js'),
      file('device/mqtt-client.ts', 'twinledger/sandbox'),
      file('ditto/client.ts', '../telemetry/index.js'),
      { file: 'ledger/fabric.ts', imports: [{ specifier: undefined, kind: 'dynamic', line: 9 }] },
    ]).map((violation) => violation.message);
    assert.equal(messages.length, 5, messages.join('\n'));
    assert.match(messages[0] ?? '', /src\/metrics\/counter\.ts is in no known module/);
    assert.match(messages[1] ?? '', /outside src\//);
    assert.match(messages[2] ?? '', /the package itself/);
    assert.match(messages[3] ?? '', /in no known module/);
    assert.match(messages[4] ?? '', /src\/ledger\/fabric\.ts:9: a dynamic import with a computed specifier/);
  });

  it('finds every kind of import in source text', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import './c.js';",
      "export * from './d.js';",
      "export { e } from './e.js';",
      'const f = await import("./f.js");',
      "type G = typeof import('./g.js');",
      "const h = require('./h.js');",
      'const i = await import(name);',
      'export const j = \'import("./not-an-import.js")\';',
    ].join('\n');
    assert.deepEqual(collectImports('x.ts', text), [
      { specifier: './a.js', kind: 'import', line: 1 },
      { specifier: './b.js', kind: 'import type', line: 2 },
      { specifier: './c.js', kind: 'side-effect', line: 3 },
      { specifier: './d.js', kind: 'export', line: 4 },
      { specifier: './e.js', kind: 'export', line: 5 },
      { specifier: './f.js', kind: 'dynamic', line: 6 },
      { specifier: './g.js', kind: 'type query', line: 7 },
      { specifier: './h.js', kind: 'require', line: 8 },
      { specifier: undefined, kind: 'dynamic', line: 9 },
    ]);
  });

  it('knows which module a file is in', () => {
    assert.equal(moduleOf('index.ts'), 'index');
    assert.equal(moduleOf('ledger/fabric.ts'), 'ledger');
    assert.equal(moduleOf('ledger/dev/block-log.ts'), 'ledger/dev');
    assert.equal(moduleOf('protocol/index.ts'), 'protocol');
    assert.equal(moduleOf('telemetry/index.ts'), undefined);
    assert.equal(moduleOf('helpers.ts'), undefined);
  });
});
