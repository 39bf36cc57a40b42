// The TypeScript snippets in README.md must compile against the real API (strict mode).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');

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
      writeFileSync(file, `${source}\nexport {};\n`);
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
      assert.fail(`README snippets do not compile (every name a snippet uses must be defined or imported in it):\n${out}`);
    }
  });

  it('says the same about Cloud2Edge\'s environment script as the samples print', async () => {
    const { SET_CLOUD2EDGE_ENV } = await import('../../samples/support/cloud2edge-env.js');
    const invocation = (text: string) => [...text.matchAll(/eval "\$\(\.\/setCloud2EdgeEnv\.sh [^)]*\)"/g)].map((m) => m[0]);
    const expected = invocation(SET_CLOUD2EDGE_ENV.join('\n'));
    assert.equal(expected.length, 1);
    for (const file of ['README.md', 'samples/quickstart/quickstart.ts', ...['docs/device.md', 'docs/northbound.md', 'docs/northbound-kafka.md', 'docs/ledger.md']]) {
      for (const found of invocation(readFileSync(join(root, file), 'utf8'))) assert.equal(found, expected[0], `${file} invokes the script the same way`);
    }
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const line of SET_CLOUD2EDGE_ENV) assert.ok(readme.includes(line), `README shows: ${line}`);
  });
});
