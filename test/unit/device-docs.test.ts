// The TypeScript snippets in docs/device.md must compile against the real API (strict mode).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
// Names the snippets use without defining them, as a reader's surrounding code would.
const preamble = `import type { DeviceClient } from './twinledger.js';\ndeclare const device: DeviceClient;\n`;

describe('docs/device.md', () => {
  it('every TypeScript snippet type-checks against the SDK', () => {
    const doc = readFileSync(join(root, 'docs', 'device.md'), 'utf8');
    const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    assert.ok(snippets.length >= 3, 'the device guide has TypeScript snippets');
    const dir = join(root, '.twinledger', 'device-doc-snippets');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // What `import ... from 'twinledger'` will give once src/index.ts exports the device module.
    writeFileSync(join(dir, 'twinledger.ts'), `export * from '../../src/index.js';\nexport * from '../../src/device/index.js';\n`);
    const files = snippets.map((code, index) => {
      const file = join(dir, `snippet-${index + 1}.ts`);
      const source = code.replace(/from 'twinledger'/g, `from './twinledger.js'`);
      writeFileSync(file, `${source.includes('createDeviceClient({') ? '' : preamble}${source}\nexport {};\n`);
      return file;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true, noUnusedLocals: false }, include: ['*.ts'] }),
    );
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'pipe' });
    } catch (error) {
      const out = (error as { stdout?: Buffer }).stdout?.toString() ?? String(error);
      assert.fail(`docs/device.md snippets do not compile:\n${out}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(files.length, snippets.length);
  });
});
