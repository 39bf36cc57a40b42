// The device sample explains what to set and exits 0 when no Cloud2Edge is configured.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

describe('device sample (samples/device/lamp.ts)', () => {
  it('prints the variables to set and exits 0 without configuration', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'samples/device/lamp.ts'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LAMP_TRANSPORT: 'http' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /HTTP_ADAPTER_BASE_URL/);
    assert.match(result.stdout, /DEMO_DEVICE_PASSWORD/);
    assert.match(result.stdout, /setCloud2EdgeEnv\.sh/);
  });
});
