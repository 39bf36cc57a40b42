/**
 * The command line the samples share: `--data-dir <dir>` (keep the data there; default: a fresh temporary folder,
 * removed afterwards), `--json`, `--help`. A folder an earlier run used is refused: its data was tampered with on
 * purpose, and a run on it would report that old tampering as a failure.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TwinLedgerError } from '../../src/index.js';

export interface SampleRun {
  dataDir: string;
  json: boolean;
}

/**
 * Parses the arguments, runs `body` and sets the exit code: `body`'s (0 or 1), 2 when the sample could not run (bad
 * arguments included).
 */
export async function runSampleCli(usage: string, body: (run: SampleRun) => Promise<0 | 1>): Promise<void> {
  let dataDir: string | undefined;
  let keep = false;
  try {
    const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } });
    if (values.help) {
      console.log(usage);
      return;
    }
    keep = values['data-dir'] !== undefined;
    if (keep) {
      dataDir = resolve(values['data-dir']!);
      if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
        console.error(
          `${dataDir} is not empty: an earlier run's data (tampered with on purpose) would fail this run.\n  Pass a new --data-dir, or delete that folder.`,
        );
        process.exitCode = 2;
        return;
      }
    } else {
      dataDir = await mkdtemp(join(tmpdir(), 'twinledger-sample-'));
    }
    process.exitCode = await body({ dataDir, json: values.json ?? false });
    if (keep) console.error(`data kept in ${dataDir}`);
  } catch (error) {
    if (error instanceof TwinLedgerError) console.error(`${error.name}: ${error.message}`);
    else if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) console.error(`${(error as Error).message}\n${usage}`);
    else console.error(error);
    process.exitCode = 2;
  } finally {
    if (!keep && dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  }
}
