/**
 * `auditThing()`: one thing's anchored history against Ditto. Each record's proof is verified (ledger and store) and
 * its payload read back; the anchored revisions are compared with Ditto's current revision (none missing after the
 * first anchored one, none beyond it), with Ditto's history where it keeps one (the same change at each revision),
 * and the state the records determine with the thing's current state.
 */
import { NotFoundError, ValidationError, asError } from '../core/errors.js';
import { durationMs, validateCallOptions } from '../core/options.js';
import {
  THING_FIELDS,
  ReplayedTwin,
  canonical,
  changeRecord,
  comparableContent,
  differences,
  parseChangeRecord,
  pathText,
  revisionOf,
  valueAt,
} from './audit-change.js';
import type { AuditIndex, IndexedRecord } from './audit-index.js';
import type { AuditThingOptions, TwinAuditReport, TwinAuditorOptions, TwinChangeRecord, TwinDivergence } from './audit-types.js';
import type { Ledger } from '../ledger/types.js';
import type { PayloadStore } from '../offchain/types.js';
import type { AnchorProof, Verdict } from './types.js';
import { verify } from './verify.js';
import { type Call, beginCall } from '../core/call.js';

export interface AuditContext {
  ditto: TwinAuditorOptions['ditto'];
  anchorer: TwinAuditorOptions['anchorer'];
  index: AuditIndex;
}

/** Missing revisions listed one by one, at most; the rest are summed up in one more divergence. */
const MAX_MISSING_LISTED = 1000;

interface CheckedAuditOptions {
  proofTimeoutMs: number;
  history: boolean;
  ledger: Pick<Ledger, 'getBatch' | 'getRecord'>;
  store: Pick<PayloadStore, 'get'>;
}

function checkAuditOptions(options: AuditThingOptions, context: AuditContext): CheckedAuditOptions {
  validateCallOptions(options);
  const ledger = options.ledger ?? context.anchorer.ledger;
  if (typeof ledger !== 'object' || ledger === null) {
    throw new ValidationError('options.ledger', 'is required when the anchorer has none: the ledger the records were anchored on');
  }
  const store = options.store ?? context.anchorer.store;
  if (typeof store !== 'object' || store === null) {
    throw new ValidationError('options.store', 'is required when the anchorer has none: the payload store of the records');
  }
  if (options.history !== undefined && typeof options.history !== 'boolean')
    throw new ValidationError('options.history', 'must be a boolean');
  return {
    proofTimeoutMs: durationMs('options.proofTimeoutMs', options.proofTimeoutMs, 30_000),
    history: options.history ?? true,
    ledger,
    store,
  };
}

/** Why a verdict does not prove the record: failed checks, and checks that could not be made (chain: only for batches). */
function unproven(proof: AnchorProof, verdict: Verdict): string | undefined {
  const open = verdict.checks.filter(
    (check) => check.status === 'failed' || (check.status === 'skipped' && !(check.check === 'chain' && proof.mode === 'record')),
  );
  return verdict.ok && open.length === 0 ? undefined : open.map((check) => `${check.check} ${check.status}: ${check.reason}`).join('; ');
}

/** The record's verified payload, or the divergence that says why there is none. */
async function checkRecord(
  thingId: string,
  entry: IndexedRecord,
  context: AuditContext,
  { ledger, store, proofTimeoutMs }: CheckedAuditOptions,
  call: Call,
): Promise<TwinChangeRecord | TwinDivergence> {
  const failed = (reason: string): TwinDivergence => ({ kind: 'proof-failed', revision: entry.revision, reason });
  const where = `record ${entry.stream} #${entry.seq}`;
  let proof: AnchorProof;
  try {
    proof = await call.run(({ signal }) => context.anchorer.proof(entry.stream, entry.seq, { signal, timeoutMs: proofTimeoutMs }));
  } catch (error) {
    call.throwIfEnded();
    return failed(`${where} has no proof: ${asError(error).message}`);
  }
  const why = unproven(proof, await verify(proof, { ledger, store, signal: call.signal }));
  if (why !== undefined) return failed(`${where} does not verify: ${why}`);
  if (proof.envelope.thingId !== thingId) return failed(`${where} is a record of ${proof.envelope.thingId}`);
  let record: TwinChangeRecord | undefined;
  try {
    const bytes = await call.run((callOptions) => store.get(proof.envelope.payloadCid, callOptions));
    record = parseChangeRecord(JSON.parse(Buffer.from(bytes).toString('utf8')));
  } catch (error) {
    call.throwIfEnded();
    return failed(`the payload of ${where} cannot be read: ${asError(error).message}`);
  }
  if (record === undefined) return failed(`the payload of ${where} is not a twin change`);
  if (record.thingId !== thingId || record.revision !== entry.revision) {
    return {
      kind: 'unexpected-revision',
      revision: entry.revision,
      reason: `${where} holds revision ${record.revision} of ${record.thingId}, not revision ${entry.revision} of ${thingId}`,
    };
  }
  return record;
}

async function readHistory(
  context: AuditContext,
  thingId: string,
  from: number,
  to: number,
  call: Call,
): Promise<{ changes: Map<number, TwinChangeRecord>; reason: string }> {
  const changes = new Map<number, TwinChangeRecord>();
  try {
    const history = context.ditto.things.history(thingId, {
      fromHistoricalRevision: from,
      toHistoricalRevision: to,
      context: true,
      signal: call.signal,
    });
    for await (const change of history) {
      const record = changeRecord(change);
      if (typeof record !== 'string') changes.set(record.revision, record);
    }
  } catch (error) {
    call.throwIfEnded();
    return { changes: new Map(), reason: `Ditto's history could not be read: ${asError(error).message}` };
  }
  call.throwIfEnded();
  if (changes.size === 0) {
    return { changes, reason: `Ditto has no history of revisions ${from}..${to} (history switched off, or cleaned up already)` };
  }
  const kept = [...changes.keys()];
  return { changes, reason: `compared with Ditto's history of revisions ${Math.min(...kept)}..${Math.max(...kept)}` };
}

function describeChange(record: TwinChangeRecord): string {
  return `${record.action} ${record.path} = ${canonical(record.value)}`;
}

export async function auditThing(thingId: string, options: AuditThingOptions, context: AuditContext): Promise<TwinAuditReport> {
  const checked = checkAuditOptions(options, context);
  const { history } = checked;
  const call = beginCall(`auditThing(${thingId})`, options);
  try {
    const divergences: TwinDivergence[] = [];
    const entries = context.index.records(thingId);
    const anchored = new Map<number, TwinChangeRecord>();
    for (const entry of entries) {
      const outcome = await checkRecord(thingId, entry, context, checked, call);
      if ('kind' in outcome) {
        divergences.push(outcome);
        continue;
      }
      const twin = anchored.get(outcome.revision);
      if (twin !== undefined && canonical(twin) !== canonical(outcome)) {
        divergences.push({
          kind: 'value-differs',
          revision: outcome.revision,
          path: outcome.path,
          anchored: outcome.value,
          reason: `revision ${outcome.revision} is anchored twice, as ${describeChange(twin)} and as ${describeChange(outcome)}`,
        });
      }
      if (twin === undefined) anchored.set(outcome.revision, outcome);
    }
    const revisions = [...new Set(entries.map((entry) => entry.revision))].sort((a, b) => a - b);

    let thing: Record<string, unknown> | undefined;
    try {
      thing = await call.run(({ signal }) => context.ditto.things.get(thingId, { fields: THING_FIELDS, signal }));
    } catch (error) {
      call.throwIfEnded();
      if (!(error instanceof NotFoundError)) throw error;
    }
    const report = (dittoRevision: number | undefined, historyResult: TwinAuditReport['history']): TwinAuditReport => ({
      thingId,
      ok: divergences.length === 0,
      revisionsChecked: revisions.length,
      ...(dittoRevision !== undefined ? { dittoRevision } : {}),
      history: historyResult,
      divergences,
    });

    if (thing === undefined) {
      const last = anchored.get(revisions.at(-1) ?? -1);
      if (!(last?.action === 'deleted' && last.path === '/')) {
        divergences.push({
          kind: 'missing-record',
          reason:
            revisions.length === 0
              ? `Ditto has no thing ${thingId} (or it is not readable) and no record of it is anchored`
              : `Ditto has no thing ${thingId} (deleted, or not readable), but its last anchored record (revision ${revisions.at(-1)}) is not its deletion`,
        });
      }
      return report(undefined, { compared: false, reason: 'the thing cannot be read in Ditto' });
    }
    const current = revisionOf(thing._revision);
    if (current === undefined) throw new ValidationError('thing._revision', `Ditto sent no revision for ${thingId}`);
    if (revisions.length === 0) {
      divergences.push({ kind: 'missing-record', revision: current, reason: `no record of ${thingId} is anchored` });
      return report(current, { compared: false, reason: 'no anchored record to compare' });
    }
    const first = revisions[0]!;

    const dittoHistory =
      history && first <= current
        ? await readHistory(context, thingId, first, current, call)
        : {
            changes: new Map<number, TwinChangeRecord>(),
            reason: history ? 'no anchored revision up to the current one' : 'not asked for',
          };
    const kept = [...dittoHistory.changes.keys()];
    const oldestKept = kept.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...kept);

    for (const revision of revisions) {
      const record = anchored.get(revision);
      if (revision > current) {
        divergences.push({
          kind: 'unexpected-revision',
          revision,
          ...(record !== undefined ? { path: record.path, anchored: record.value } : {}),
          reason: `revision ${revision} is anchored, but Ditto's current revision is ${current}`,
        });
        continue;
      }
      if (record === undefined) continue;
      const theirs = dittoHistory.changes.get(revision);
      if (theirs === undefined) {
        if (revision >= oldestKept) {
          divergences.push({
            kind: 'unexpected-revision',
            revision,
            path: record.path,
            anchored: record.value,
            reason: `revision ${revision} is anchored, but Ditto's history has no such revision`,
          });
        }
        continue;
      }
      if (theirs.action !== record.action || theirs.path !== record.path || canonical(theirs.value) !== canonical(record.value)) {
        divergences.push({
          kind: 'value-differs',
          revision,
          path: record.path,
          anchored: record.value,
          ditto: theirs.value,
          reason: `revision ${revision}: anchored ${describeChange(record)}, Ditto's history says ${describeChange(theirs)}`,
        });
      }
    }

    const present = new Set(revisions);
    const gaps = context.index.gaps(thingId);
    let missing = 0;
    for (let revision = first + 1; revision <= current; revision += 1) {
      if (present.has(revision)) continue;
      missing += 1;
      if (missing > MAX_MISSING_LISTED) continue;
      const theirs = dittoHistory.changes.get(revision);
      const gap = gaps.find((known) => known.from <= revision && revision <= known.to);
      divergences.push({
        kind: 'missing-record',
        revision,
        ...(theirs !== undefined ? { path: theirs.path, ditto: theirs.value } : {}),
        reason:
          `revision ${revision} of Ditto has no anchored record` +
          (theirs !== undefined ? ` (Ditto's history: ${describeChange(theirs)})` : '') +
          (gap !== undefined ? `; the auditor reported it as a gap at ${gap.at}: ${gap.reason}` : ''),
      });
    }
    if (missing > MAX_MISSING_LISTED) {
      divergences.push({
        kind: 'missing-record',
        reason: `${missing - MAX_MISSING_LISTED} more revisions up to ${current} have no anchored record`,
      });
    }

    const replayed = new ReplayedTwin();
    const applied = [...anchored.values()].filter((record) => record.revision <= current).sort((a, b) => a.revision - b.revision);
    for (const record of applied) replayed.apply(record);
    const dittoState = comparableContent(thing);
    const lastApplied = applied.at(-1)?.revision;
    for (const segments of replayed.decidedPaths()) {
      for (const { segments: at, ours, theirs } of differences(
        valueAt(replayed.state, segments),
        valueAt(dittoState, segments),
        segments,
      )) {
        const path = pathText(at);
        divergences.push({
          kind: 'value-differs',
          path,
          ...(ours !== undefined ? { anchored: ours } : {}),
          ...(theirs !== undefined ? { ditto: theirs } : {}),
          reason:
            `the anchored changes up to revision ${lastApplied} leave ${path} ${ours === undefined ? 'absent' : `= ${canonical(ours)}`}, ` +
            `but Ditto has ${theirs === undefined ? 'nothing there' : canonical(theirs)} at revision ${current}`,
        });
      }
    }
    return report(current, { compared: dittoHistory.changes.size > 0, reason: dittoHistory.reason });
  } finally {
    call.done();
  }
}
