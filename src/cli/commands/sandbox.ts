/** `twinledger sandbox`: runs the embedded Cloud2Edge until stopped and prints the variables to export. */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Sandbox } from '../../sandbox/index.js';
import { type SandboxFile, sandboxFileOf } from '../environment.js';
import type { Output } from '../io.js';

export interface SandboxCommandOptions {
  /** Keep no state: everything lives in memory. */
  memory: boolean;
}

export async function runSandbox(output: Output, options: SandboxCommandOptions): Promise<void> {
  const { dataDir } = output.options;
  output.progress(options.memory ? 'starting the sandbox (in memory)' : `starting the sandbox on ${join(dataDir, 'sandbox')}`);
  const sandbox = await Sandbox.start(options.memory ? {} : { dataDir: join(dataDir, 'sandbox') });
  const file = sandboxFileOf(dataDir);
  try {
    const env = sandbox.env();
    await mkdir(dataDir, { recursive: true });
    const written: SandboxFile = { pid: process.pid, env: { ...env } };
    await writeFile(file, `${JSON.stringify(written, null, 2)}\n`);
    output.result({ env }, () =>
      [
        ...Object.entries(env).map(([name, value]) => `export ${name}=${value}`),
        `# other twinledger commands on --data-dir ${dataDir} find this sandbox by themselves; stop it with Ctrl-C`,
      ].join('\n'),
    );
    await new Promise<void>((resolve) => {
      const signal = output.io.signal;
      if (signal === undefined) return;
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    output.progress('stopping the sandbox');
  } finally {
    await rm(file, { force: true });
    await sandbox.close();
  }
}
