/**
 * Checking the city's history: every twin audited against its anchored records (proofs against the ledger and the
 * store, Ditto's history, the current state), the command records' proofs verified, and each `PublishTelemetryData`
 * transaction's hash compared with the command that was published. Then, after the tampering, which checks name
 * which tampering, and whether everything that was not touched still verifies.
 */
import { type AnchorProof, type TwinAuditReport, type Verdict, verify } from '../../src/anchor/index.js';
import type { DemoEnvironment } from '../support/environment.js';
import { FLEET, TENANT } from './fleet.js';
import type { ScenarioResult } from './scenario.js';
import type { Tampering } from './tamper.js';

export interface ProofCheck {
  label: string;
  verdict: Verdict;
}

export interface PublicationCheck {
  thingId: string;
  transactionId: string;
  ok: boolean;
  detail: string;
}

export interface Verification {
  audits: TwinAuditReport[];
  proofs: ProofCheck[];
  publications: PublicationCheck[];
}

export async function verifyEverything(
  environment: DemoEnvironment,
  scenario: ScenarioResult,
  proofs: ReadonlyArray<{ label: string; proof: AnchorProof }>,
): Promise<Verification> {
  const { ledger, store } = environment;
  const audits: TwinAuditReport[] = [];
  for (const device of FLEET) audits.push(await scenario.auditor.auditThing(device.thingId));
  const proofChecks: ProofCheck[] = [];
  for (const { label, proof } of proofs) proofChecks.push({ label, verdict: await verify(proof, { ledger, store }) });
  const publications: PublicationCheck[] = [];
  for (const publication of scenario.publications) {
    const onLedger = await ledger.getTelemetry(TENANT, publication.thingId, publication.transactionId);
    const ok = onLedger?.sha256 === publication.sha256;
    publications.push({
      thingId: publication.thingId,
      transactionId: publication.transactionId,
      ok,
      detail: ok ? 'the ledger holds the SHA-256 of the command' : `the ledger holds ${onLedger?.sha256 ?? 'nothing'}`,
    });
  }
  return { audits, proofs: proofChecks, publications };
}

/** Whether nothing failed: every audit, proof and publication holds. */
export function allHold(verification: Verification): boolean {
  return (
    verification.audits.every((audit) => audit.ok) &&
    verification.proofs.every((check) => check.verdict.ok) &&
    verification.publications.every((publication) => publication.ok)
  );
}

export interface Detection {
  tampering: Tampering;
  detected: boolean;
  /** The checks that named it. */
  by: string[];
}

export interface Assessment {
  detections: Detection[];
  /** Failures that no tampering explains: these should not exist. */
  unexplained: string[];
}

/** Which check names which tampering, and what failed without a tampering to explain it. */
export function assess(after: Verification, tamperings: readonly Tampering[], forgedLabel: string): Assessment {
  const applied = tamperings.filter((tampering) => tampering.applied);
  const detections: Detection[] = applied.map((tampering) => {
    const by: string[] = [];
    if (tampering.id === 'forged-proof') {
      const check = after.proofs.find((candidate) => candidate.label === forgedLabel);
      for (const failed of check?.verdict.checks.filter((result) => result.status === 'failed') ?? [])
        by.push(`verify: ${failed.check} failed — ${failed.reason}`);
    } else {
      const audit = after.audits.find((candidate) => candidate.thingId === tampering.thingId);
      for (const divergence of audit?.divergences ?? []) {
        if (explains(tampering, divergence)) by.push(`auditThing: ${divergence.kind} — ${divergence.reason}`);
      }
    }
    return { tampering, detected: by.length > 0, by };
  });
  const unexplained: string[] = [];
  for (const audit of after.audits) {
    for (const divergence of audit.divergences) {
      if (!applied.some((tampering) => tampering.thingId === audit.thingId && explains(tampering, divergence))) {
        unexplained.push(`${audit.thingId}: ${divergence.kind} — ${divergence.reason}`);
      }
    }
  }
  for (const check of after.proofs) if (check.label !== forgedLabel && !check.verdict.ok) unexplained.push(`${check.label}: proof fails`);
  for (const publication of after.publications)
    if (!publication.ok) unexplained.push(`${publication.transactionId}: ${publication.detail}`);
  return { detections, unexplained };
}

function explains(tampering: Tampering, divergence: TwinAuditReport['divergences'][number]): boolean {
  if (tampering.id === 'store-payload') return divergence.revision === tampering.revision;
  if (tampering.id === 'twin-value') return divergence.kind === 'value-differs' && divergence.path === tampering.path;
  return false;
}
