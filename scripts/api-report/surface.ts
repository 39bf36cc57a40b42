/**
 * The public API as the TypeScript compiler sees it: the entry points package.json `exports` declares, the names
 * each one exports (with their kind), and the declarations an entry's API mentions without exporting them.
 * `npm run api:report` writes the names to test/api/<entry>.api.txt; test/unit/api-report.test.ts compares.
 */
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

export interface ApiEntry {
  /** What an application imports: `twinledger` or `twinledger/device`. */
  specifier: string;
  /** The source of the entry, relative to the repository root: `src/device/index.ts`. */
  source: string;
  /** Its report, relative to the repository root: `test/api/device.api.txt` (`root.api.txt` for the package root). */
  report: string;
}

export interface ExportedName {
  name: string;
  /** `class`, `function`, `const`, `let`, `enum`, `namespace`, `interface`, `type`; `type-only class` for a class exported with `export type`. */
  kind: string;
}

/** A declaration of src/ that an entry's API mentions (a parameter, a property, a base class...) but does not export. */
export interface UnexportedReference {
  name: string;
  /** Where it is declared, relative to the repository root. */
  declaredIn: string;
  /** The exported name whose API mentions it, and the path to it: `DittoClient.http`. */
  via: string;
}

export interface ApiSurface {
  entry: ApiEntry;
  names: ExportedName[];
  unexported: UnexportedReference[];
}

interface ExportTarget {
  types?: unknown;
  import?: unknown;
}

/** The entries of package.json `exports` that have a `types` condition, `./dist/x.d.ts` mapped to `src/x.ts`. */
export function apiEntries(root: string): ApiEntry[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, ExportTarget | string>;
  };
  const entries: ApiEntry[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target !== 'object' || typeof target.types !== 'string') continue;
    const match = /^\.\/dist\/(.+)\.d\.ts$/.exec(target.types);
    if (match?.[1] === undefined) throw new Error(`package.json exports["${subpath}"].types must point into ./dist/: ${target.types}`);
    if (target.import !== `./dist/${match[1]}.js`)
      throw new Error(`package.json exports["${subpath}"]: import must be ./dist/${match[1]}.js, next to its types`);
    const name = subpath === '.' ? 'root' : subpath.slice(2).replace(/\//g, '-');
    entries.push({ specifier: `${pkg.name}${subpath.slice(1)}`, source: `src/${match[1]}.ts`, report: `test/api/${name}.api.txt` });
  }
  return entries;
}

/** Sub-folder modules with an entry point of their own (test/support/architecture.ts lists them too). */
const NESTED_MODULES = ['ledger/dev'];

/** The src/ module a source path belongs to (`src/device/index.ts` → `device`, `src/ledger/dev/x.ts` → `ledger/dev`), `root` for src/index.ts. */
function moduleOf(path: string): string | undefined {
  const segments = path.split('/');
  if (segments[0] !== 'src') return undefined;
  if (segments.length === 2) return 'root';
  const nested = `${segments[1]}/${segments[2]}`;
  return segments.length > 3 && NESTED_MODULES.includes(nested) ? nested : segments[1];
}

/** Reads every entry with one compiler run over src/. */
export function readApiSurfaces(root: string, entries: readonly ApiEntry[] = apiEntries(root)): ApiSurface[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  if (config === undefined) throw new Error('cannot read tsconfig.build.json');
  const program = ts.createProgram(
    entries.map((entry) => join(root, entry.source)),
    { ...config.options, noEmit: true, declaration: false, declarationMap: false, sourceMap: false },
  );
  const checker = program.getTypeChecker();
  const rel = (fileName: string) => relative(root, fileName).split(sep).join('/');

  const exportsOf = new Map<ApiEntry, ts.Symbol[]>();
  for (const entry of entries) {
    const file = program.getSourceFile(join(root, entry.source));
    const moduleSymbol = file && checker.getSymbolAtLocation(file);
    if (moduleSymbol === undefined) throw new Error(`${entry.source} is no module`);
    exportsOf.set(entry, checker.getExportsOfModule(moduleSymbol));
  }
  const resolved = (symbol: ts.Symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
  /** Module → the declarations its own entry exports (core has none). */
  const exportedByModule = new Map<string, Set<ts.Symbol>>();
  for (const entry of entries) {
    const module = moduleOf(entry.source);
    if (module !== undefined && module !== 'root') exportedByModule.set(module, new Set((exportsOf.get(entry) ?? []).map(resolved)));
  }

  return entries.map((entry) => {
    const symbols = exportsOf.get(entry) ?? [];
    const names = symbols.flatMap((symbol) => describeExport(checker, symbol)).sort(byName);
    const exported = new Set(symbols.map(resolved));
    const declaredIn = (symbol: ts.Symbol) => rel(symbol.declarations?.[0]?.getSourceFile().fileName ?? '');
    // A declaration another module's entry exports is that entry's to check (and may be imported from there: types
    // cost nothing at run time), so the walk stops at it.
    const ownedElsewhere = (symbol: ts.Symbol) => {
      const home = moduleOf(declaredIn(symbol));
      return home !== undefined && home !== moduleOf(entry.source) && (exportedByModule.get(home)?.has(symbol) ?? false);
    };
    const unexported: UnexportedReference[] = [];
    for (const [symbol, via] of referencedDeclarations(checker, symbols, root, ownedElsewhere)) {
      if (!exported.has(symbol)) unexported.push({ name: symbol.name, declaredIn: declaredIn(symbol), via });
    }
    unexported.sort((a, b) => byName(a, b) || a.declaredIn.localeCompare(b.declaredIn));
    return { entry, names, unexported };
  });
}

function byName(a: { name: string }, b: { name: string }): number {
  const x = a.name.toLowerCase();
  const y = b.name.toLowerCase();
  return x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Whether `export type` (or `import type`) is anywhere on the way from the entry to the declaration. */
function isTypeOnlyExport(checker: ts.TypeChecker, symbol: ts.Symbol): boolean {
  let current: ts.Symbol | undefined = symbol;
  while (current !== undefined && current.flags & ts.SymbolFlags.Alias) {
    if (current.declarations?.some((declaration) => ts.isTypeOnlyImportOrExportDeclaration(declaration))) return true;
    current = checker.getImmediateAliasedSymbol(current);
  }
  return false;
}

function kindOf(symbol: ts.Symbol): string {
  const flags = symbol.flags;
  if (flags & ts.SymbolFlags.Class) return 'class';
  if (flags & ts.SymbolFlags.Function) return 'function';
  if (flags & ts.SymbolFlags.Enum) return 'enum';
  if (flags & ts.SymbolFlags.Variable) {
    const declaration = symbol.declarations?.find(ts.isVariableDeclaration);
    return declaration !== undefined && ts.getCombinedNodeFlags(declaration) & ts.NodeFlags.Const ? 'const' : 'let';
  }
  if (flags & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) return 'namespace';
  if (flags & ts.SymbolFlags.Interface) return 'interface';
  if (flags & ts.SymbolFlags.TypeAlias) return 'type';
  return 'unknown';
}

function describeExport(checker: ts.TypeChecker, symbol: ts.Symbol, prefix = ''): ExportedName[] {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  let kind = kindOf(target);
  if (kind === 'class' && isTypeOnlyExport(checker, symbol)) kind = 'type-only class';
  const name = `${prefix}${symbol.name}`;
  const own: ExportedName = { name, kind };
  if (kind !== 'namespace') return [own];
  const members = checker.getExportsOfModule(target).flatMap((member) => describeExport(checker, member, `${name}.`));
  return [own, ...members.sort(byName)];
}

const TYPE_DECLARATION = ts.SymbolFlags.Class | ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Enum;

/**
 * Every class, interface, type alias and enum declared under src/ that the exported names' API mentions: parameter,
 * return and property types, base classes and interfaces, type arguments and constraints, recursively. Private and
 * protected members (the SDK's classes are not meant to be extended), implementation bodies and the static side of
 * classes exported as types only do not count, nor does what `ownedElsewhere` claims. Maps each to the first path
 * that reached it.
 */
function referencedDeclarations(
  checker: ts.TypeChecker,
  exported: readonly ts.Symbol[],
  root: string,
  ownedElsewhere: (symbol: ts.Symbol) => boolean,
): Map<ts.Symbol, string> {
  const src = join(root, 'src') + sep;
  const found = new Map<ts.Symbol, string>();
  const seenSymbols = new Set<ts.Symbol>();
  const seenTypes = new Set<ts.Type>();
  const inSrc = (symbol: ts.Symbol) =>
    symbol.declarations?.some((declaration) => declaration.getSourceFile().fileName.startsWith(src)) ?? false;

  const isHidden = (member: ts.Symbol) =>
    member.declarations?.some(
      (declaration) =>
        ts.getCombinedModifierFlags(declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) ||
        ((ts.isPropertyDeclaration(declaration) ||
          ts.isMethodDeclaration(declaration) ||
          ts.isGetAccessor(declaration) ||
          ts.isSetAccessor(declaration)) &&
          ts.isPrivateIdentifier(declaration.name)),
    ) ?? false;

  const visitMembers = (type: ts.Type, via: string) => {
    for (const member of checker.getPropertiesOfType(type)) {
      if (isHidden(member) || member.name.startsWith('__#')) continue;
      for (const declaration of member.declarations ?? []) {
        if (ts.isPropertySignature(declaration) || ts.isPropertyDeclaration(declaration))
          visitAnnotation(declaration.type, `${via}.${member.name}`);
      }
      visitType(checker.getTypeOfSymbol(member), `${via}.${member.name}`);
    }
    for (const signature of [...type.getCallSignatures(), ...type.getConstructSignatures()]) {
      // A private or protected constructor is no API (a static factory such as `open()` is).
      const declaration = signature.getDeclaration() as ts.SignatureDeclaration | undefined;
      if (declaration && ts.getCombinedModifierFlags(declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      visitSignature(signature, via);
    }
    for (const info of checker.getIndexInfosOfType(type)) {
      visitType(info.keyType, `${via}[]`);
      visitType(info.type, `${via}[]`);
    }
  };

  /** The names a type annotation uses: an alias such as `type Env = Readonly<...>` leaves no trace in the type itself. */
  const visitAnnotation = (node: ts.Node | undefined, via: string): void => {
    if (node === undefined || !node.getSourceFile().fileName.startsWith(src)) return;
    const visit = (child: ts.Node): void => {
      if (ts.isTypeReferenceNode(child)) {
        const symbol = checker.getSymbolAtLocation(child.typeName);
        if (symbol !== undefined) visitSymbol(symbol, via);
      }
      ts.forEachChild(child, visit);
    };
    visit(node);
  };

  const visitSignature = (signature: ts.Signature, via: string) => {
    for (const parameter of signature.typeParameters ?? []) visitTypeParameter(parameter, via);
    for (const parameter of signature.getParameters()) {
      const declaration = parameter.valueDeclaration;
      if (declaration !== undefined && ts.isParameter(declaration)) visitAnnotation(declaration.type, `${via}(${parameter.name})`);
      visitType(checker.getTypeOfSymbol(parameter), `${via}(${parameter.name})`);
    }
    const declaration = signature.getDeclaration() as ts.SignatureDeclaration | undefined;
    visitAnnotation(declaration?.type, `${via}()`);
    visitType(signature.getReturnType(), `${via}()`);
  };

  const visitTypeParameter = (parameter: ts.TypeParameter, via: string) => {
    const constraint = parameter.getConstraint();
    if (constraint !== undefined) visitType(constraint, `${via}<${parameter.symbol.name}>`);
    const fallback = parameter.getDefault();
    if (fallback !== undefined) visitType(fallback, `${via}<${parameter.symbol.name}>`);
  };

  const visitSymbol = (symbol: ts.Symbol, via: string): void => {
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    if (seenSymbols.has(symbol)) return;
    seenSymbols.add(symbol);
    if (!inSrc(symbol) || ownedElsewhere(symbol)) return; // not ours to export, or another entry point's to check
    if (symbol.flags & TYPE_DECLARATION && !found.has(symbol)) found.set(symbol, via);
    if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
      const declared = checker.getDeclaredTypeOfSymbol(symbol) as ts.InterfaceType;
      for (const parameter of declared.typeParameters ?? []) visitTypeParameter(parameter, via);
      for (const base of checker.getBaseTypes(declared)) visitType(base, `${via} extends`);
      for (const declaration of symbol.declarations ?? []) {
        if (!ts.isClassDeclaration(declaration)) continue;
        for (const clause of declaration.heritageClauses ?? []) {
          for (const node of clause.types) visitType(checker.getTypeAtLocation(node), `${via} implements`);
        }
      }
      visitMembers(declared, via);
    }
    if (symbol.flags & ts.SymbolFlags.TypeAlias) {
      const declaration = symbol.declarations?.find(ts.isTypeAliasDeclaration);
      for (const parameter of declaration?.typeParameters ?? [])
        visitTypeParameter(checker.getTypeAtLocation(parameter) as ts.TypeParameter, via);
      visitType(checker.getDeclaredTypeOfSymbol(symbol), via);
    }
    if (symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Variable)) visitType(checker.getTypeOfSymbol(symbol), via);
    if (symbol.flags & ts.SymbolFlags.ValueModule) {
      for (const member of checker.getExportsOfModule(symbol)) visitSymbol(member, `${via}.${member.name}`);
    }
  };

  const visitType = (type: ts.Type, via: string): void => {
    if (seenTypes.has(type)) return;
    seenTypes.add(type);
    if (type.aliasSymbol !== undefined) {
      visitSymbol(type.aliasSymbol, via);
      for (const argument of type.aliasTypeArguments ?? []) visitType(argument, via);
      if (inSrc(type.aliasSymbol)) return;
    }
    if (type.isUnionOrIntersection()) {
      for (const part of type.types) visitType(part, via);
      return;
    }
    if (type.flags & ts.TypeFlags.TypeParameter) {
      visitTypeParameter(type as ts.TypeParameter, via);
      return;
    }
    if (type.flags & ts.TypeFlags.IndexedAccess) {
      visitType((type as ts.IndexedAccessType).objectType, via);
      visitType((type as ts.IndexedAccessType).indexType, via);
      return;
    }
    if (type.flags & ts.TypeFlags.Index) {
      visitType((type as ts.IndexType).type, via);
      return;
    }
    if (!(type.flags & ts.TypeFlags.Object)) return;
    const object = type as ts.ObjectType;
    if (object.objectFlags & ts.ObjectFlags.Reference) {
      const reference = object as ts.TypeReference;
      for (const argument of checker.getTypeArguments(reference)) visitType(argument, `${via}<>`);
      if (reference.target !== reference) {
        visitType(reference.target, via);
        return;
      }
    }
    const symbol = object.symbol as ts.Symbol | undefined;
    if (symbol !== undefined && symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
      visitSymbol(symbol, via);
      return;
    }
    if (symbol !== undefined && symbol.flags & ts.SymbolFlags.ValueModule) {
      visitSymbol(symbol, via);
      return;
    }
    visitMembers(object, via);
  };

  for (const symbol of exported) {
    visitSymbol(symbol, symbol.name);
    // Statics and the constructor are API only where the class itself is: a type-only export hides them.
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (target.flags & ts.SymbolFlags.Class && !isTypeOnlyExport(checker, symbol))
      visitMembers(checker.getTypeOfSymbol(target), symbol.name);
  }
  return found;
}

/** The report file's text: one line per name, `<kind> <name>`, sorted by name. */
export function renderReport(surface: ApiSurface): string {
  const header = [
    `# ${surface.entry.specifier}: the names ${surface.entry.source} exports.`,
    '# Generated by `npm run api:report`; test/unit/api-report.test.ts fails when it differs from the source.',
    '# One `<kind> <name>` line per name; a `type-only class` can be named but not constructed; namespace members as `ns.name`.',
  ];
  return `${[...header, ...surface.names.map(({ name, kind }) => `${kind} ${name}`)].join('\n')}\n`;
}

/** `-` for lines only in `before`, `+` for lines only in `after` (reports are sorted lists: a set difference suffices). */
export function lineDiff(before: string, after: string): string {
  const old = new Set(before.split('\n'));
  const next = new Set(after.split('\n'));
  const removed = [...old].filter((line) => !next.has(line)).map((line) => `- ${line}`);
  const added = [...next].filter((line) => !old.has(line)).map((line) => `+ ${line}`);
  return [...removed, ...added].join('\n');
}
