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
import { runSampleCli } from '../support/sample-cli.js';
import { formatReport } from './report.js';
import { runSmartCity } from './run.js';

await runSampleCli('usage: npm run demo [-- --data-dir <new folder>] [-- --json]', async ({ dataDir, json }) => {
  const report = await runSmartCity({ dataDir, onStep: json ? undefined : (step) => process.stderr.write(`… ${step}\n`) });
  console.log(
    json ? JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value), 2) : formatReport(report),
  );
  return report.ok ? 0 : 1;
});
