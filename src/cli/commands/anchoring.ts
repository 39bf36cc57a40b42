/**
 * `twinledger anchor status`, `verify <proof-file | thingId>` and `audit <thingId>`: the anchorer's backlog and
 * streams, a proof checked against the ledger and the payload store, a twin audited against its anchored records.
 */
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Anchorer, TwinAuditor, type TwinAuditReport, type Verdict, verify } from '../../anchor/index.js';
import { ValidationError } from '../../core/errors.js';
import { openBackends, openCloud2Edge } from '../environment.js';
import { CliError } from '../errors.js';
import type { Output } from '../io.js';
import { tenantOf } from './arguments.js';

const signalOf = (output: Output): { signal?: AbortSignal } => (output.io.signal ? { signal: output.io.signal } : {});

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function openAnchorer(output: Output): Promise<Anchorer> {
  const { dataDir } = output.options;
  if (!(await exists(join(dataDir, 'outbox.mdb')))) {
    throw new CliError(
      `no anchorer data in ${dataDir}`,
      "Pass --data-dir with the anchorer's dataDir (e.g. after `npm run demo -- --data-dir ./city`, --data-dir ./city).",
    );
  }
  return Anchorer.fromEnv({ dataDir }, output.io.env);
}

export async function runAnchorStatus(output: Output): Promise<void> {
  const anchorer = await openAnchorer(output);
  try {
    const status = anchorer.status();
    output.result(status, () =>
      [
        `backlog: ${status.backlog} of at most ${status.maxBacklog} records not anchored yet`,
        ...status.streams.map(
          (stream) =>
            `${stream.stream}: ${stream.lastSeq} records (${stream.mode}), ${stream.backlog} waiting` +
            (stream.lastAnchoredBatch
              ? `, last batch #${stream.lastAnchoredBatch.batchSeq ?? '?'} up to seq ${stream.lastAnchoredBatch.lastSeq} in tx ${stream.lastAnchoredBatch.txId}`
              : '') +
            (stream.halted ? ` — HALTED: ${stream.halted}` : ''),
        ),
        ...(status.lastError ? [`last error (${status.lastError.phase}, ${status.lastError.stream}): ${status.lastError.message}`] : []),
      ].join('\n'),
    );
  } finally {
    await anchorer.close();
  }
}

function verdictText(verdict: Verdict): string {
  return [
    verdict.ok ? 'VERIFIED' : 'NOT VERIFIED',
    ...verdict.checks.map((check) => `  ${check.check}: ${check.status} — ${check.reason}`),
  ].join('\n');
}

/** Verifies a proof file; a thing ID instead audits the thing. True when it holds. */
export async function runVerify(output: Output, target: string, options: AuditOptions): Promise<boolean> {
  const path = resolve(output.io.cwd, target);
  if (!(await exists(path))) {
    if (/^[^/\\:]+:[^/\\]+$/.test(target)) return runAudit(output, target, options);
    throw new ValidationError('target', `${target} is neither a proof file nor a thing ID (namespace:name)`);
  }
  let proof: unknown;
  try {
    proof = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    throw new CliError(
      `${target} is not a JSON proof: ${(error as Error).message}`,
      'Save a proof with JSON.stringify(await receipt.proof()).',
    );
  }
  const backends = await openBackends(output);
  try {
    output.progress(`verifying ${target} against the ledger and the payload store`);
    const verdict = await verify(proof, { ledger: backends.ledger, store: backends.store, ...signalOf(output) });
    output.result(verdict, () => verdictText(verdict));
    return verdict.ok;
  } finally {
    await backends.close();
  }
}

export interface AuditOptions {
  tenant?: string;
  checkpoint?: string;
}

function auditText(report: TwinAuditReport): string {
  return [
    `${report.thingId}: ${report.ok ? 'OK' : 'DIVERGES'} — ${report.revisionsChecked} anchored revisions checked, Ditto at revision ${report.dittoRevision ?? '(gone)'}` +
      (report.history.compared ? '' : ` (history not compared: ${report.history.reason})`),
    ...report.divergences.map(
      (divergence) =>
        `  ${divergence.kind}${divergence.revision === undefined ? '' : ` at revision ${divergence.revision}`}: ${divergence.reason}`,
    ),
  ].join('\n');
}

export async function runAudit(output: Output, thingId: string, options: AuditOptions): Promise<boolean> {
  const checkpoint = resolve(output.io.cwd, options.checkpoint ?? join(output.options.dataDir, 'twin-auditor.jsonl'));
  if (!(await exists(checkpoint))) {
    throw new CliError(
      `no twin auditor checkpoint at ${checkpoint}`,
      'Pass --checkpoint with the file the TwinAuditor wrote, or --data-dir of the app.',
    );
  }
  const anchorer = await openAnchorer(output);
  try {
    const opened = await openCloud2Edge(output);
    try {
      const auditor = await TwinAuditor.start({
        ditto: opened.c2e.ditto,
        anchorer,
        tenant: options.tenant ?? tenantOf(thingId),
        checkpoint,
        follow: false,
      });
      try {
        output.progress(`auditing ${thingId}: proofs against the ledger and the store, Ditto's history and current state`);
        const report = await auditor.auditThing(thingId, signalOf(output));
        output.result(report, () => auditText(report));
        return report.ok;
      } finally {
        await auditor.stop();
      }
    } finally {
      await opened.close();
    }
  } finally {
    await anchorer.close();
  }
}
