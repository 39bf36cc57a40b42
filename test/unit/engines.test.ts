// Node 20 is what this release supports: every package a fresh `npm ci` installs (the SDK's and the chaincode's
// lockfiles) must accept the oldest Node the project's `engines` allows, or npm prints EBADENGINE warnings and
// the package may not run at all.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import semver from 'semver';

const root = resolve(import.meta.dirname, '..', '..');

interface Lockfile {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; dev?: boolean; optional?: boolean }>;
}

function oldestSupportedNode(folder: string): string {
  const engines = (JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const oldest = semver.minVersion(engines);
  assert.ok(oldest, `engines.node of ${folder || '.'}/package.json is a range`);
  return oldest.version;
}

describe('engines', () => {
  for (const folder of ['', 'chaincode']) {
    it(`every package in ${folder || 'the SDK'}'s lockfile runs on the oldest Node the project supports`, () => {
      const node = oldestSupportedNode(folder);
      assert.ok(semver.satisfies(node, '20.x'), `the project supports Node 20 (engines starts at ${node})`);
      const lock = JSON.parse(readFileSync(join(root, folder, 'package-lock.json'), 'utf8')) as Lockfile;
      const refusing = Object.entries(lock.packages)
        .filter(([path, entry]) => path !== '' && !Array.isArray(entry.engines) && typeof entry.engines?.node === 'string')
        .filter(([, entry]) => !semver.satisfies(node, (entry.engines as { node: string }).node, { includePrerelease: true }))
        .map(
          ([path, entry]) =>
            `${path.replace(/^.*node_modules\//, '')}@${entry.version} needs node ${(entry.engines as { node: string }).node}`,
        );
      assert.deepEqual(refusing, [], `pin these to a line that supports Node ${node}`);
    });
  }
});
