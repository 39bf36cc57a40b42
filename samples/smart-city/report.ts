/** The smart-city report as text: what ran, what was anchored, what verified, which tampering was caught by what. */
import type { TwinAuditReport, Verdict } from '../../src/anchor/index.js';
import { FLEET } from './fleet.js';
import type { SmartCityReport } from './run.js';
import type { Verification } from './verification.js';

const PASS = '✔';
const FAIL = '✘';

function auditLine(audit: TwinAuditReport): string {
  if (audit.ok) return `  ${PASS} ${audit.thingId}: ${audit.revisionsChecked} revisions — proofs, Ditto's history and current state agree`;
  return `  ${FAIL} ${audit.thingId}: ${audit.divergences.map((divergence) => divergence.kind).join(', ')}`;
}

function verdictLine(label: string, verdict: Verdict): string {
  const checks = verdict.checks.map((check) => `${check.check} ${check.status}`).join(', ');
  return `  ${verdict.ok ? PASS : FAIL} ${label}: ${checks}`;
}

function verificationLines(verification: Verification): string[] {
  const published = verification.publications;
  return [
    ...verification.audits.map(auditLine),
    ...verification.proofs.map((check) => verdictLine(check.label, check.verdict)),
    `  ${published.every((publication) => publication.ok) ? PASS : FAIL} ${published.length} PublishTelemetryData transactions: ` +
      (published.every((publication) => publication.ok)
        ? 'the ledger holds the SHA-256 of each published command'
        : published
            .filter((publication) => !publication.ok)
            .map((publication) => publication.detail)
            .join('; ')),
  ];
}

export function formatReport(report: SmartCityReport): string {
  const kinds = (kind: string) => FLEET.filter((device) => device.kind === kind).length;
  const { readings, ledgerTransactions: tx } = report;
  const lines = [
    "TwinLedger smart-city demo (the paper's PoC 2)",
    `  Cloud2Edge: ${report.parts.cloud2edge} · ledger: ${report.parts.ledger} · payloads: ${report.parts.store}`,
    '',
    '1. The city ran',
    `  ${report.devices} devices provisioned with provisionDevice(): ${kinds('air-quality')} air-quality stations (MQTT), ` +
      `${kinds('parking')} parking sensors (HTTP, and one through the ledger), ${kinds('traffic-light')} traffic light`,
    `  twin updates: ${readings.mqtt} over MQTT, ${readings.http} over HTTP, ${readings.ledger} through PublishTelemetryData and the relay`,
    `  command: Ditto message ${report.command.subject} ${JSON.stringify(report.command.sent)} → Hono command → the device answered ` +
      `${report.command.status} ${JSON.stringify(report.command.answer)}`,
    '',
    '2. Anchored',
    `  ${report.records.twin} twin records (${report.records.things} things, every revision) and ${report.records.command} command records, ` +
      `payloads in IPFS, in ${report.batches} Merkle batches`,
    `  ledger: ${tx.anchorBatches} AnchorBatch + ${tx.publishTelemetryData} PublishTelemetryData + ${tx.deviceSetup} RegisterDevice/SetCredentials ` +
      `transactions, in ${report.ledgerBlocks} blocks`,
    '',
    '3. Verified',
    ...verificationLines(report.before),
    '',
    '4. Tampered, behind the pipeline’s back',
  ];
  for (const tampering of report.tamperings) {
    lines.push(`  - ${tampering.description}${tampering.applied ? '' : ` — skipped: ${tampering.skipped}`}`);
  }
  lines.push('', '5. Verified again');
  for (const detection of report.assessment.detections) {
    lines.push(`  ${detection.detected ? `${PASS} caught` : `${FAIL} MISSED`}: ${detection.tampering.description}`);
    for (const by of detection.by) lines.push(`      ${by}`);
  }
  const twins = report.after.audits.filter((audit) => audit.ok).length;
  const proofs = report.after.proofs.filter((check) => check.verdict.ok).length;
  const hashes = report.after.publications.filter((publication) => publication.ok).length;
  lines.push(
    `  ${PASS} still verified: the ${twins} twins and ${proofs} proofs nobody touched, and ${hashes} telemetry hashes on the ledger`,
  );
  for (const failure of report.assessment.unexplained) lines.push(`  ${FAIL} unexplained: ${failure}`);
  const caught = report.assessment.detections.filter((detection) => detection.detected).length;
  lines.push(
    '',
    `${report.ok ? 'OK' : 'FAILED'}: ${caught} of ${report.assessment.detections.length} tamperings caught, ` +
      `${report.assessment.unexplained.length} unexplained failures, in ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  return lines.join('\n');
}
