/**
 * Long-running processes of the network (orderer, peers, chaincode servers) and short tool runs.
 *
 * Each long-running process is started detached, in a process group of its own, with its output in a log
 * file, so the network outlives the `up` command. What was started is recorded (PID and the kernel's start
 * time of that PID), and `stop` signals only a process whose PID still has that start time: a PID reused by
 * some other program after a reboot is never touched.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

export interface RecordedProcess {
  /** What it is, e.g. `orderer`, `peer0.org1`, `chaincode.org1`. */
  name: string;
  pid: number;
  /** Start time of the PID (field 22 of /proc/<pid>/stat, clock ticks since boot); absent where /proc is not. */
  startTime?: string;
  command: string[];
  log: string;
}

function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, not yet reaped
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True while the recorded process still runs (and is the one that was recorded). */
export function isRunning(record: Pick<RecordedProcess, 'pid' | 'startTime'>): boolean {
  if (existsSync('/proc/self/stat')) {
    const startTime = procStartTime(record.pid);
    return startTime !== undefined && (record.startTime === undefined || startTime === record.startTime);
  }
  try {
    process.kill(record.pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: string;
}

export function startProcess(options: StartOptions): RecordedProcess {
  const fd = openSync(options.log, 'a');
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`${options.name}: ${options.command} could not be started`);
    // Swallow a late spawn error event; the readiness wait reports a process that is not running.
    child.on('error', () => undefined);
    const startTime = procStartTime(child.pid);
    return {
      name: options.name,
      pid: child.pid,
      ...(startTime !== undefined ? { startTime } : {}),
      command: [options.command, ...options.args],
      log: options.log,
    };
  } finally {
    closeSync(fd);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Stops the process and its process group (SIGTERM, then SIGKILL after `graceMs`). Does nothing when the PID no
 * longer belongs to the recorded process.
 */
export async function stopProcess(record: RecordedProcess, graceMs = 10_000): Promise<void> {
  if (!isRunning(record)) return;
  const signal = (name: NodeJS.Signals) => {
    for (const target of [-record.pid, record.pid]) {
      try {
        process.kill(target, name);
        return;
      } catch {
        // not a group leader any more, or gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(record)) return;
    await sleep(50);
  }
  signal('SIGKILL');
  for (let i = 0; i < 100 && isRunning(record); i += 1) await sleep(50);
}

/** The last lines of a log file, for error messages. */
export function logTail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function portOpen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until the process accepts TCP connections on the port; fails early, with its log, if it exits. */
export async function waitUntilListening(record: RecordedProcess, port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await portOpen(port, host)) return;
    if (!isRunning(record)) {
      throw new Error(
        `${record.name} exited before it listened on ${host}:${port}; its log (${record.log}) ends with:\n${logTail(record.log)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${record.name} does not listen on ${host}:${port} after ${timeoutMs} ms; its log (${record.log}) ends with:\n${logTail(record.log)}`,
      );
    }
    await sleep(100);
  }
}

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws with its output when it fails or runs past `timeoutMs`. */
export function runTool(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs?: number },
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: options.env, cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${String(stderr)}\n${String(stdout)}`.trim().split('\n').slice(-30).join('\n');
          const how = error.killed ? `was killed after ${options.timeoutMs ?? 120_000} ms` : `failed (exit code ${String(error.code)})`;
          reject(new Error(`${[command, ...args].join(' ')} ${how}:\n${output}`));
          return;
        }
        resolve({ stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
