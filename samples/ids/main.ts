/**
 * `npm run sample:ids`: the paper's PoC 1 — a filling plant, two twin-based IDS instances with results in IPFS and
 * their hashes on the ledger (InitHash / UpdateHash), and a controller twin that verifies them and closes the valve.
 *
 *   npm run sample:ids                       # embedded defaults, a fresh data directory removed afterwards
 *   npm run sample:ids -- --data-dir ./plant # keep the data
 *   npm run sample:ids -- --json
 *
 * Exit code 0 when both attacks were flagged (no false alarms), the results verified, the valve closed and the
 * tampered result was refused; 1 when not; 2 when the sample could not run.
 */
import { runSampleCli } from '../support/sample-cli.js';
import { type IdsReport, runIdsSample } from './run.js';

function format(report: IdsReport): string {
  const lines = [
    "TwinLedger IDS sample (the paper's PoC 1)",
    `  Cloud2Edge: ${report.parts.cloud2edge} · ledger: ${report.parts.ledger} · results: ${report.parts.store}`,
    '',
    `1. The filling plant ran ${report.steps} steps; attacks injected: ${report.attacks.map((a) => `${a.kind} at steps ${a.from}–${a.to}`).join(', ')}`,
    '',
    '2. The IDS twins labelled its operational log',
  ];
  for (const finding of report.findings) {
    const verdict = finding.missed.length === 0 && finding.falseAlarms.length === 0 ? '✔' : '✘';
    lines.push(
      `  ${verdict} ${finding.ids} (${finding.detector}): attack at steps ${finding.flagged.join(', ') || 'none'}` +
        ` — missed ${finding.missed.length}, false alarms ${finding.falseAlarms.length}`,
      `      result ${finding.cid} in IPFS, its SHA-256 on the ledger (key version ${finding.ledgerVersions}: InitHash, then UpdateHash per result)`,
    );
  }
  lines.push('', '3. The controller twin verified and reacted');
  for (const check of report.controller.checks)
    lines.push(`  ${check.verified ? '✔' : '✘'} ${check.key}: ${check.detail}, ${check.attacks} attack rows`);
  lines.push(
    report.controller.command
      ? `  → setValve {"open":false} sent as a Ditto message; the plant answered ${report.controller.command.status} ${JSON.stringify(report.controller.command.answer)}; valve closed: ${report.controller.valveClosed}`
      : '  → no verified attack: the valve stays open',
    '',
    '4. Tampered',
    report.tampering.applied
      ? `  ${report.tampering.check?.verified === false ? '✔ refused' : '✘ ACCEPTED'}: ${report.tampering.description} — ${report.tampering.check?.detail ?? ''}`
      : `  skipped: ${report.tampering.description} — ${report.tampering.skipped}`,
    '',
    ...report.problems.map((problem) => `✘ ${problem}`),
    `${report.ok ? 'OK' : 'FAILED'} in ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  return lines.join('\n');
}

await runSampleCli('usage: npm run sample:ids [-- --data-dir <new folder>] [-- --json]', async ({ dataDir, json }) => {
  const report = await runIdsSample({ dataDir, onStep: json ? undefined : (step) => process.stderr.write(`… ${step}\n`) });
  console.log(json ? JSON.stringify(report, null, 2) : format(report));
  return report.ok ? 0 : 1;
});
