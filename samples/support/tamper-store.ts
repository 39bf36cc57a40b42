/**
 * Tampering with the embedded store behind its back, as someone with write access to its folder could: the block file
 * of a one-block payload (the anchorer's CIDv1 payloads up to one chunk) is rewritten. Used by the samples to show
 * that the change is caught.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DemoEnvironment } from './environment.js';

/** Rewrites the payload's block file with `edit(its text)`; false when there is no such file (not the embedded store). */
export async function rewriteStoredPayload(environment: DemoEnvironment, cid: string, edit: (text: string) => string): Promise<boolean> {
  if (environment.payloadDir === undefined) return false;
  const original = Buffer.from(await environment.store.get(cid));
  const blocks = join(environment.payloadDir, 'blocks');
  for (const name of await readdir(blocks, { recursive: true })) {
    const path = join(blocks, name);
    if (!name.endsWith('.data') || !(await readFile(path)).equals(original)) continue;
    await writeFile(path, edit(original.toString('utf8')));
    return true;
  }
  return false;
}
