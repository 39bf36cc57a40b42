import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Compiles the SDK with the project's build settings into node_modules/.cache/twinledger-bench (or `folder` there),
 * so benchmarks measure the code users run (tsc output) rather than tsx's on-the-fly transform. Returns the output
 * folder, or `undefined` (after printing a JSON note naming `bench`) when tsc fails.
 */
export function compileSdk(bench: string, folder = 'twinledger-bench'): string | undefined {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const out = join(repo, 'node_modules', '.cache', folder);
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = ['--outDir', out, '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'];
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', ...flags], { cwd: repo, encoding: 'utf8' });
  if (result.status !== 0) {
    console.log(JSON.stringify({ bench, note: 'tsc build failed', detail: result.stdout.slice(0, 300) }));
    return undefined;
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n'); // node_modules has no package scope of its own
  return out;
}
