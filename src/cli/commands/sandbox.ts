/** `twinledger sandbox`: runs the embedded Cloud2Edge until stopped and prints the variables to export. */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Sandbox } from '../../sandbox/index.js';
import { type SandboxFile, runningSandbox, sandboxFileOf } from '../environment.js';
import { CliError } from '../errors.js';
import type { Output } from '../io.js';

export interface SandboxCommandOptions {
  /** Keep no state: everything lives in memory. */
  memory: boolean;
}

/** Removes the sandbox file if it is still this process's (another sandbox may have taken the folder since). */
async function removeOwnFile(file: string): Promise<void> {
  try {
    const found = JSON.parse(await readFile(file, 'utf8')) as SandboxFile;
    if (found.pid === process.pid) await rm(file, { force: true });
  } catch {
    // gone already, or not ours to judge
  }
}

export async function runSandbox(output: Output, options: SandboxCommandOptions): Promise<void> {
  const { dataDir } = output.options;
  const other = await runningSandbox(dataDir);
  if (other !== undefined) {
    throw new CliError(
      `a sandbox (process ${other.pid}) already runs on ${dataDir}`,
      'Use that one (other commands with this --data-dir find it), stop it first, or pass another --data-dir.',
    );
  }
  await mkdir(dataDir, { recursive: true });
  output.progress(options.memory ? 'starting the sandbox (in memory)' : `starting the sandbox on ${join(dataDir, 'sandbox')}`);
  const sandbox = await Sandbox.start(options.memory ? {} : { dataDir: join(dataDir, 'sandbox') });
  const file = sandboxFileOf(dataDir);
  try {
    const env = sandbox.env();
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
    try {
      await removeOwnFile(file);
    } finally {
      await sandbox.close();
    }
  }
}
