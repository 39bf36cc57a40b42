// The TypeScript snippets in README.md must compile against the real API (strict mode).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
// Names the snippets use without defining them, as a reader's surrounding code would.
const preamble = `declare const secret: string;\n`;

describe('README', () => {
  it('every TypeScript snippet type-checks against the SDK', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    assert.ok(snippets.length >= 2, 'README has TypeScript snippets');
    const dir = join(root, '.twinledger', 'readme-snippets');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = snippets.map((code, index) => {
      const file = join(dir, `snippet-${index + 1}.ts`);
      const source = code.replace(/from 'twinledger'/g, `from '../../src/index.js'`);
      writeFileSync(file, `${preamble}${source}\nexport {};\n`);
      return file;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true, noUnusedLocals: false }, include: files.map((f) => f.slice(dir.length + 1)) }),
    );
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'pipe' });
    } catch (error) {
      const out = (error as { stdout?: Buffer }).stdout?.toString() ?? String(error);
      assert.fail(`README snippets do not compile:\n${out}`);
    }
  });
});
