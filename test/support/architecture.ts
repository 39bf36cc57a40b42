// The module dependency rules of docs/api.md ("dependencies point downwards only"), as data, and a checker that reads
// every import of a source tree (static, type-only, re-exports, side-effect, dynamic `import()`, `import('x')` types,
// `require`) with the TypeScript parser and reports each one a rule forbids.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** Where a module lives under src/: a folder (`ledger/dev` is a sub-folder module) or `index` for src/index.ts. */
export type ModuleName =
  | 'index'
  | 'core'
  | 'protocol'
  | 'registry'
  | 'ditto'
  | 'device'
  | 'northbound'
  | 'c2e'
  | 'merkle'
  | 'offchain'
  | 'ledger'
  | 'ledger/dev'
  | 'anchor'
  | 'sandbox'
  | 'cli';

export interface ModuleRule {
  /** The other modules it may import (its own files are always allowed). */
  uses: readonly ModuleName[];
  why: string;
}

const ALL: readonly ModuleName[] = [
  'core',
  'protocol',
  'registry',
  'ditto',
  'device',
  'northbound',
  'c2e',
  'merkle',
  'offchain',
  'ledger',
  'ledger/dev',
  'anchor',
  'sandbox',
];
const allBut = (...excluded: ModuleName[]): ModuleName[] => ALL.filter((name) => !excluded.includes(name));

/**
 * The rules of docs/api.md. Modules that have not landed yet (merkle, offchain, ledger/dev, anchor, sandbox, cli) are here
 * so they are checked from their first file. Nothing imports `cli` (the top: an application) or the root index.
 */
export const MODULE_RULES: Readonly<Record<ModuleName, ModuleRule>> = {
  core: { uses: [], why: 'core uses nothing' },
  protocol: { uses: ['core'], why: 'the Ditto Protocol codec is a leaf that uses only core' },
  registry: { uses: ['core', 'protocol'], why: 'registry uses only core and the protocol codec' },
  ditto: { uses: ['core', 'protocol'], why: 'ditto uses only core and the protocol codec' },
  device: { uses: ['core', 'protocol'], why: 'device uses only core and the protocol codec' },
  northbound: { uses: ['core', 'protocol'], why: 'northbound uses only core and the protocol codec' },
  merkle: { uses: ['core'], why: 'the Merkle code is pure: only core' },
  offchain: { uses: ['core'], why: 'offchain uses only core' },
  ledger: { uses: ['core'], why: 'ledger uses only core (the dev ledger is ledger/dev, which ledger does not load)' },
  'ledger/dev': { uses: ['core', 'ledger'], why: 'the dev ledger implements the ledger interfaces with core only' },
  anchor: {
    uses: ['core', 'merkle', 'ledger', 'offchain', 'ledger/dev'],
    why: 'anchor uses ledger and offchain through their interfaces, the Merkle code, and opens a DevLedger for its defaults',
  },
  c2e: { uses: allBut('sandbox'), why: 'c2e may use everything but the sandbox' },
  sandbox: { uses: allBut('sandbox'), why: 'sandbox may use everything' },
  cli: { uses: ALL, why: 'the CLI may use everything' },
  index: { uses: allBut('sandbox'), why: 'the package root never loads the sandbox (it is the twinledger/sandbox subpath)' },
};

export type ImportKind = 'import' | 'import type' | 'export' | 'side-effect' | 'dynamic' | 'type query' | 'require';

export interface ImportRef {
  /** The module specifier, or undefined for a dynamic import with a computed specifier. */
  specifier: string | undefined;
  kind: ImportKind;
  /** 1-based. */
  line: number;
}

export interface SourceImports {
  /** Path under src/, with `/` separators, e.g. `device/twin.ts`. */
  file: string;
  imports: readonly ImportRef[];
}

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  message: string;
}

/** Every import of one source file, in order. */
export function collectImports(fileName: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: ImportRef[] = [];
  const add = (node: ts.Node, kind: ImportKind, specifier: ts.Node | undefined) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    found.push({ specifier: specifier !== undefined && ts.isStringLiteralLike(specifier) ? specifier.text : undefined, kind, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      add(node, clause === undefined ? 'side-effect' : clause.isTypeOnly ? 'import type' : 'import', node.moduleSpecifier);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      add(node, 'export', node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, 'require', node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, 'dynamic', node.arguments[0]);
    } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
      add(node, 'require', node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, 'type query', node.argument.literal);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The module a path under src/ belongs to (`ledger/dev/x.ts` → `ledger/dev`), or undefined for an unknown folder. */
export function moduleOf(path: string): ModuleName | undefined {
  const segments = path.split('/');
  if (segments.length === 1) return /^index\.[cm]?[jt]sx?$/.test(path) ? 'index' : undefined;
  const nested = `${segments[0]}/${segments[1]}`;
  if (segments.length > 2 && nested in MODULE_RULES) return nested as ModuleName;
  return segments[0] !== undefined && segments[0] in MODULE_RULES ? (segments[0] as ModuleName) : undefined;
}

/** Checks the imports of files under src/ against `rules`. */
export function checkImports(files: readonly SourceImports[], rules: Readonly<Record<ModuleName, ModuleRule>> = MODULE_RULES): Violation[] {
  const violations: Violation[] = [];
  for (const { file, imports } of files) {
    const from = moduleOf(file);
    if (from === undefined) {
      violations.push({
        file,
        line: 1,
        specifier: '',
        message: `src/${file} is in no known module: add its folder to MODULE_RULES (and to the module map in docs/api.md)`,
      });
      continue;
    }
    const rule = rules[from];
    for (const { specifier, kind, line } of imports) {
      const report = (message: string) => violations.push({ file, line, specifier: specifier ?? '<computed>', message });
      if (specifier === undefined) {
        report(`src/${file}:${line}: a ${kind} import with a computed specifier cannot be checked; use a string literal`);
        continue;
      }
      if (specifier === 'twinledger' || specifier.startsWith('twinledger/')) {
        report(`src/${file}:${line} imports '${specifier}' (the package itself): use a relative import so the rules can check it`);
        continue;
      }
      if (!specifier.startsWith('.')) continue; // node: built-ins and npm packages
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      if (target === '..' || target.startsWith('../')) {
        report(`src/${file}:${line} imports '${specifier}', which is outside src/`);
        continue;
      }
      const to = moduleOf(target);
      if (to === from) continue;
      if (to === undefined) {
        report(`src/${file}:${line} imports '${specifier}', which is in no known module`);
      } else if (!rule.uses.includes(to)) {
        const allowed = rule.uses.length === 0 ? 'nothing' : rule.uses.join(', ');
        report(`src/${file}:${line} imports '${specifier}' (${to}; ${kind}): ${from} may use only ${allowed} (${rule.why})`);
      }
    }
  }
  return violations;
}

/** Every source file under `dir`, recursively, sorted. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.[cm]?[jt]sx?$/.test(name)) out.push(full);
  }
  return out;
}

/** Reads every source file under `srcDir` and returns its imports. */
export function readSourceImports(srcDir: string): SourceImports[] {
  return sourceFiles(srcDir).map((full) => ({
    file: relative(srcDir, full).split(sep).join('/'),
    imports: collectImports(full, readFileSync(full, 'utf8')),
  }));
}
