// `node --import ./load-recorder.mjs`: appends every module the ESM loader resolves to the file named by
// TWINLEDGER_LOAD_LOG, one JSON line each: `{ specifier, parent, url }`. Registers itself as the hooks module (the
// hooks run on a thread of their own, where isMainThread is false). Modules that CommonJS code `require`s do not pass
// through these hooks: read `require.cache` for those.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url, { data: { log: process.env.TWINLEDGER_LOAD_LOG } });

let log;

export function initialize(data) {
  log = data?.log;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (log) appendFileSync(log, `${JSON.stringify({ specifier, parent: context.parentURL, url: result.url })}\n`);
  return result;
}
