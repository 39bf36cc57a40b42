// Every TypeScript block in README.md and docs/ compiles against the real API (strict mode), each as its own
// module: every name a snippet uses is defined or imported in it. `from 'twinledger'` (and its subpaths) resolve to
// the SDK source; relative imports resolve from the repository root, where a reader runs them. A block that is not
// meant to compile (pseudo-code) uses another fence language.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');

interface Snippet {
  doc: string;
  /** Line of the opening fence in `doc`. */
  line: number;
  code: string;
}

function snippetsOf(doc: string): Snippet[] {
  const text = readFileSync(join(root, doc), 'utf8');
  return [...text.matchAll(/^```(?:ts|typescript)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => ({
    doc,
    line: text.slice(0, m.index).split('\n').length,
    code: m[1] ?? '',
  }));
}

/** `twinledger` and `twinledger/<subpath>` as package.json exports them, mapped from dist/ to the source. */
function packageEntries(): Map<string, string> {
  const { exports } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types?: string }> };
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(exports)) {
    if (typeof target?.types !== 'string') continue;
    entries.set(`twinledger${subpath.slice(1)}`, join(root, target.types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts')));
  }
  return entries;
}

describe('documentation snippets', () => {
  it('every TypeScript block in README.md and docs/ type-checks against the SDK', () => {
    const docs = [
      'README.md',
      ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => join('docs', name)),
    ];
    const snippets = docs.flatMap(snippetsOf);
    assert.ok(snippets.filter((s) => s.doc === 'README.md').length >= 2, 'README has TypeScript snippets');
    assert.ok(snippets.filter((s) => s.doc === join('docs', 'device.md')).length >= 3, 'the device guide has TypeScript snippets');

    const dir = join(root, '.twinledger', 'doc-snippets');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const entries = packageEntries();
    const files = new Map<string, Snippet>();
    for (const snippet of snippets) {
      const name = `${snippet.doc.replace(/[^\w]+/g, '-')}-${snippet.line}.ts`;
      const source = snippet.code.replace(/(from\s+')([^']+)'/g, (match, head: string, specifier: string) => {
        const target = entries.get(specifier) ?? (specifier.startsWith('.') ? join(root, specifier) : undefined);
        if (target === undefined) return match;
        return `${head}./${relative(dir, target).replace(/\.ts$/, '.js')}'`;
      });
      writeFileSync(join(dir, name), `${source}\nexport {};\n`);
      files.set(name, snippet);
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: relative(dir, join(root, 'tsconfig.json')),
        compilerOptions: { noEmit: true, noUnusedLocals: false },
        include: [...files.keys()],
      }),
    );
    try {
      const run = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], {
        cwd: dir,
        encoding: 'utf8',
      });
      // Point each error at the line of the doc it comes from.
      const errors = `${run.stdout}${run.stderr}`.replace(
        /^([^\s(]+\.ts)\((\d+),(\d+)\)/gm,
        (match, file: string, line: string, column: string) => {
          const snippet = files.get(file);
          return snippet === undefined ? match : `${snippet.doc}:${snippet.line + Number(line)}:${column}`;
        },
      );
      assert.equal(errors.trim(), '', 'snippets that do not compile (every name a snippet uses must be defined or imported in it)');
      assert.equal(run.status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
