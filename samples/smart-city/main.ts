/**
 * `npm run demo`: the smart city end to end, on the embedded defaults or on what the environment configures
 * (Cloud2Edge's env script, `TWINLEDGER_FABRIC_*`, `TWINLEDGER_KUBO_URL`; see samples/smart-city/README.md).
 *
 *   npm run demo                       # a fresh data directory, removed afterwards
 *   npm run demo -- --data-dir ./city  # keep everything for a look afterwards
 *   npm run demo -- --json             # the report as JSON
 *
 * Exit code 0 when everything verified and every tampering was caught, 1 when not, 2 when the demo could not run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TwinLedgerError } from '../../src/index.js';
import { formatReport } from './report.js';
import { runSmartCity } from './run.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' } } });
const keep = values['data-dir'] !== undefined;
const dataDir = keep ? resolve(values['data-dir']!) : await mkdtemp(join(tmpdir(), 'twinledger-smart-city-'));

try {
  const report = await runSmartCity({
    dataDir,
    onStep: values.json ? undefined : (step) => process.stderr.write(`… ${step}\n`),
  });
  console.log(
    values.json
      ? JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value), 2)
      : formatReport(report),
  );
  if (keep) console.error(`data kept in ${dataDir}`);
  process.exitCode = report.ok ? 0 : 1;
} catch (error) {
  if (error instanceof TwinLedgerError) console.error(`${error.name}: ${error.message}`);
  else console.error(error);
  process.exitCode = 2;
} finally {
  if (!keep) await rm(dataDir, { recursive: true, force: true });
}
