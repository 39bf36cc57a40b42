// What README.md says must match the code. (Its TypeScript snippets are compiled by doc-snippets.test.ts.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');

describe('README', () => {
  it("says the same about Cloud2Edge's environment script as the samples print", async () => {
    const { SET_CLOUD2EDGE_ENV } = await import('../../samples/support/cloud2edge-env.js');
    const invocation = (text: string) => [...text.matchAll(/eval "\$\(\.\/setCloud2EdgeEnv\.sh [^)]*\)"/g)].map((m) => m[0]);
    const expected = invocation(SET_CLOUD2EDGE_ENV.join('\n'));
    assert.equal(expected.length, 1);
    for (const file of [
      'README.md',
      'samples/quickstart/quickstart.ts',
      ...['docs/device.md', 'docs/northbound.md', 'docs/northbound-kafka.md', 'docs/ledger.md'],
    ]) {
      for (const found of invocation(readFileSync(join(root, file), 'utf8')))
        assert.equal(found, expected[0], `${file} invokes the script the same way`);
    }
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const line of SET_CLOUD2EDGE_ENV) assert.ok(readme.includes(line), `README shows: ${line}`);
  });
});
