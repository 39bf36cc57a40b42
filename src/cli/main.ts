#!/usr/bin/env node
/** The `twinledger` bin: runs the command line on this process's streams; Ctrl-C ends long-running commands. */
import { runCli } from './program.js';

const stop = new AbortController();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('… stopping (once more to force)\n');
    stop.abort();
  });
}
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: stop.signal,
});
