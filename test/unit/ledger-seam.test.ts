// test/seams/ledger-types.ts holds the chaincode's and the SDK's ledger types against each other. These tests run
// tsc on it, and on copies of it in which one side drifted, to show that every drift breaks it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const seamFile = join(root, 'test/seams/ledger-types.ts');
const chaincodeTypes = join(root, 'chaincode/src/types.ts');
const sdkTypes = join(root, 'src/ledger/types.ts');

/** tsc's diagnostics, each with its continuation lines, keyed by the file they are reported in. */
function typeCheck(project: string, cwd: string): { status: number | null; diagnostics: Array<{ file: string; text: string }> } {
  const run = spawnSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd, encoding: 'utf8' });
  const diagnostics: Array<{ file: string; text: string }> = [];
  for (const line of `${run.stdout}${run.stderr}`.split('\n')) {
    const start = /^(\S[^(]*)\(\d+,\d+\): error /.exec(line);
    if (start) diagnostics.push({ file: resolve(cwd, start[1] ?? ''), text: line });
    else if (line.trim() !== '' && diagnostics.length > 0) diagnostics[diagnostics.length - 1]!.text += `\n${line}`;
    else if (line.trim() !== '') diagnostics.push({ file: '', text: line });
  }
  return { status: run.status, diagnostics };
}

/** `source` as it would read at `to`, its relative imports still pointing at the files they named at `from`. */
function moved(source: string, from: string, to: string): string {
  return source.replace(/(from\s+')(\.{1,2}\/[^']+)'/g, (_match, head: string, specifier: string) => {
    const target = relative(dirname(to), resolve(dirname(from), specifier));
    return `${head}${target.startsWith('.') ? target : `./${target}`}'`;
  });
}

/** Adds a field to `export interface name { ... }`. */
function withField(source: string, name: string, field: string): string {
  const head = `export interface ${name} {\n`;
  assert.ok(source.includes(head), `interface ${name} is declared`);
  return source.replace(head, `${head}  ${field}\n`);
}

/** Seam property → type name on each side, as test/seams/ledger-types.ts pairs them. */
function pairs(seam: string, side: 'Sdk' | 'Chaincode'): Map<string, string> {
  return new Map([...seam.matchAll(new RegExp(`^  (\\w+): (?:typeof )?${side}\\.(\\w+);$`, 'gm'))].map((m) => [m[2] ?? '', m[1] ?? '']));
}

describe('the ledger types of the chaincode and the SDK', () => {
  it('are assignable both ways, with the same field names', () => {
    const { status, diagnostics } = typeCheck(join(root, 'test/seams/tsconfig.json'), root);
    assert.deepEqual(
      diagnostics.map((d) => d.text),
      [],
    );
    assert.equal(status, 0);
  });

  it('no longer compile against each other when either side drifts', () => {
    const seam = readFileSync(seamFile, 'utf8');
    const chaincode = readFileSync(chaincodeTypes, 'utf8');
    const sdk = readFileSync(sdkTypes, 'utf8');
    const chaincodeSide = pairs(seam, 'Chaincode');
    const sdkSide = pairs(seam, 'Sdk');

    // Every interface the chaincode declares is on the ledger or in an event, so every one must be guarded.
    const chaincodeInterfaces = [...chaincode.matchAll(/^export interface (\w+) \{$/gm)].map((m) => m[1] ?? '');
    assert.ok(chaincodeInterfaces.length >= 10, 'reads the chaincode interfaces');
    const unguarded = chaincodeInterfaces.filter((name) => !chaincodeSide.has(name));
    assert.deepEqual(unguarded, [], 'chaincode types missing from test/seams/ledger-types.ts');

    type Drift = { name: string; seamName: string; chaincode?: string; sdk?: string };
    const drifts: Drift[] = [
      // A required field only the chaincode has: the SDK's records no longer fit the chaincode's.
      ...chaincodeInterfaces.map((name) => ({
        name: `chaincode ${name} gains a field`,
        seamName: chaincodeSide.get(name) ?? name,
        chaincode: withField(chaincode, name, 'drift: string;'),
      })),
      // An optional field only the SDK has: still assignable both ways, caught by the field names.
      ...[...sdkSide]
        .filter(([name]) => name !== 'LEDGER_EVENTS')
        .map(([name, seamName]) => ({
          name: `SDK ${name} gains an optional field`,
          seamName,
          sdk: withField(sdk, name, 'drift?: string;'),
        })),
      {
        name: 'an event is renamed in the chaincode',
        seamName: 'EVENTS',
        chaincode: chaincode.replace("recordAnchored: 'RecordAnchored',", "recordAnchored: 'RecordStored',"),
      },
      {
        name: 'TelemetryRecord.ttd is no longer nullable in the SDK',
        seamName: 'TelemetryRecord',
        sdk: sdk.replace(/(export interface TelemetryRecord \{[^}]*ttd: )number \| null;/, '$1number;'),
      },
    ];
    for (const drift of drifts) {
      const mutated = drift.chaincode ?? drift.sdk;
      assert.ok(mutated !== chaincode && mutated !== sdk, `${drift.name}: the mutation applies`);
    }

    const dir = join(root, '.twinledger', 'ledger-seam-drift');
    rmSync(dir, { recursive: true, force: true });
    try {
      // One project for all cases (one tsc run); case 0 is the unchanged seam, to show that the copies compile.
      const cases: Drift[] = [{ name: 'unchanged', seamName: '' }, ...drifts];
      cases.forEach((drift, index) => {
        const caseDir = join(dir, `case-${index}`);
        mkdirSync(caseDir, { recursive: true });
        let copy = moved(seam, seamFile, join(caseDir, 'ledger-types.ts'));
        for (const [side, original, mutated] of [
          ['chaincode', chaincodeTypes, drift.chaincode],
          ['sdk', sdkTypes, drift.sdk],
        ] as const) {
          if (mutated === undefined) continue;
          const target = join(caseDir, `${side}-types.ts`);
          writeFileSync(target, moved(mutated, original, target));
          const specifier = relative(caseDir, original).replace(/\.ts$/, '.js');
          assert.ok(copy.includes(`'${specifier}'`), `the seam imports ${specifier}`);
          copy = copy.replace(`'${specifier}'`, `'./${side}-types.js'`);
        }
        writeFileSync(join(caseDir, 'ledger-types.ts'), copy);
      });
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ extends: relative(dir, join(root, 'test/seams/tsconfig.json')), include: ['case-*/ledger-types.ts'] }),
      );
      const { diagnostics } = typeCheck(join(dir, 'tsconfig.json'), dir);
      const errorsOf = (index: number) => diagnostics.filter((d) => d.file.startsWith(join(dir, `case-${index}`) + '/')).map((d) => d.text);
      const stray = diagnostics.filter((d) => !d.file.startsWith(dir + '/'));
      assert.deepEqual(
        stray.map((d) => d.text),
        [],
        'no errors outside the copies',
      );
      assert.deepEqual(errorsOf(0), [], 'the unchanged copy compiles');
      cases.forEach((drift, index) => {
        if (index === 0) return;
        const errors = errorsOf(index).join('\n');
        assert.ok(errors !== '', `${drift.name}: the seam does not notice`);
        assert.match(errors, new RegExp(`'${drift.seamName}['.]`), `${drift.name}: the error names ${drift.seamName}`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
