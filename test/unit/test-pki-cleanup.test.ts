// The throw-away PKIs of the TLS tests hold private keys: they must be gone when the test process ends, also
// when the test that made them failed before its cleanup, and at once on remove().
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createTestPki } from '../support/certs.js';

const certs = fileURLToPath(new URL('../support/certs.ts', import.meta.url));

function childMakingPkis(failAfterwards: boolean): string[] {
  const script = `
    import { createTestPki } from ${JSON.stringify(certs)};
    const dirs = [createTestPki().dir, createTestPki('other').dir];
    console.log(JSON.stringify(dirs));
    ${failAfterwards ? "throw new Error('a test failed before it cleaned up');" : ''}
  `;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(result.status, failAfterwards ? 1 : 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n')[0] ?? '[]') as string[];
}

describe('createTestPki', () => {
  it('leaves no private key behind when the process exits, whether its tests passed or failed', () => {
    for (const fail of [false, true]) {
      const dirs = childMakingPkis(fail);
      assert.equal(dirs.length, 2);
      for (const dir of dirs) assert.equal(existsSync(dir), false, `${dir} was removed`);
    }
  });

  it('remove() deletes the folder at once', () => {
    const pki = createTestPki();
    assert.ok(existsSync(pki.clientKeyFile));
    pki.remove();
    assert.equal(existsSync(pki.dir), false);
  });
});
