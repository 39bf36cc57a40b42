import { spawn } from 'node:child_process';

export interface BenchRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a bench/*.bench.ts file with tsx and the extra environment; resolves with its exit status and output. */
export function runBenchScript(file: string, env: NodeJS.ProcessEnv): Promise<BenchRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
