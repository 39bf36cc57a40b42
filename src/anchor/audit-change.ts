/**
 * The `TwinAuditor`'s view of a Ditto change: one change of the live stream or of the history becomes a
 * `TwinChangeRecord` (the same function for both, so they compare), and anchored records are replayed into the state
 * they determine (which paths of the thing, with which values) to compare with Ditto's.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { mergePatch, valueAt } from '../core/json-tree.js';
import type { RecordKind } from './types.js';
import type { AuditedChange, AuditedHistoryChange, TwinChangeAction, TwinChangeRecord } from './audit-types.js';

const ACTIONS: readonly TwinChangeAction[] = ['created', 'modified', 'merged', 'deleted'];

/** What the auditor asks the change stream for: the default content fields plus revision, time and the protocol context. */
export { valueAt };

export const CHANGE_FIELDS = 'thingId,policyId,definition,attributes,features,_revision,_modified,_context';
/** What it reads of the current thing. */
export const THING_FIELDS = 'thingId,policyId,definition,attributes,features,_revision';

type Json = unknown;
type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A `_revision` as Ditto sends it (a number, or digits). */
export function revisionOf(value: unknown): number | undefined {
  const revision = typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
  return typeof revision === 'number' && Number.isSafeInteger(revision) && revision >= 0 ? revision : undefined;
}

/** A thing without Ditto's `_` fields (`_revision`, `_modified`, `_context`, ...). */
export function contentOf(data: JsonRecord): JsonRecord {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !key.startsWith('_')));
}

/** `/attributes/a` → `['attributes', 'a']`; `/` → `[]`. */
export function pathSegments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

export function pathText(segments: readonly string[]): string {
  return `/${segments.join('/')}`;
}

/**
 * A change as the record the auditor anchors, or why it cannot be one (no revision). The action and path come from the
 * Ditto Protocol context (`_context`); without it (Ditto before 3.3.6), the change is read as a merge of the changed
 * part at `/` (a `created` at revision 1).
 */
export function changeRecord(change: AuditedChange | AuditedHistoryChange): TwinChangeRecord | string {
  const data = change.data;
  const revision = 'revision' in change ? change.revision : revisionOf(data._revision);
  if (revision === undefined) return 'the change has no _revision';
  const rawTimestamp = 'timestamp' in change ? change.timestamp : data._modified;
  const timestamp = typeof rawTimestamp === 'string' ? rawTimestamp : null;
  const context = ('context' in change ? change.context : undefined) ?? (isRecord(data._context) ? data._context : undefined);
  const content = contentOf(data);
  const topicAction = typeof context?.topic === 'string' ? context.topic.split('/').at(-1) : undefined;
  const action = ACTIONS.find((known) => known === topicAction);
  if (action === undefined) {
    return { thingId: change.thingId, action: revision === 1 ? 'created' : 'merged', revision, path: '/', value: content, timestamp };
  }
  const segments = typeof context?.path === 'string' ? pathSegments(context.path) : [];
  let value: Json;
  if (context !== undefined && 'value' in context) value = context.value;
  else if (action === 'deleted') value = null;
  else value = valueAt(content, segments);
  return { thingId: change.thingId, action, revision, path: pathText(segments), value: value ?? null, timestamp };
}

/** The record kind: the thing's creation and deletion are lifecycle records, everything else a `twin-change`. */
export function recordKindOf(record: TwinChangeRecord): RecordKind {
  if (record.path === '/' && record.action === 'created') return 'created';
  if (record.path === '/' && record.action === 'deleted') return 'deleted';
  return 'twin-change';
}

/**
 * The idempotency key of a change's record: the thing, the revision and a digest of the record, so that the same
 * change appended again (after a crash between the outbox commit and the checkpoint line) is recognised, and a
 * different change at a revision seen before (a thing created anew) is not mistaken for it.
 */
export function recordKeyOf(record: TwinChangeRecord): string {
  return `${record.thingId}@${record.revision}#${createHash('sha256').update(canonical(record)).digest('hex')}`;
}

/** Canonical JSON (RFC 8785) of a value, for comparing; `undefined` stays apart from `null`. */
export function canonical(value: unknown): string {
  return value === undefined ? 'undefined' : (canonicalize(value) ?? 'undefined');
}

export interface Difference {
  segments: string[];
  ours: unknown;
  theirs: unknown;
}

/** Where two values differ: descends into objects both sides have, so each difference names the deepest path. */
export function differences(ours: unknown, theirs: unknown, segments: string[] = [], out: Difference[] = []): Difference[] {
  if (canonical(ours) === canonical(theirs)) return out;
  if (isRecord(ours) && isRecord(theirs)) {
    for (const key of [...new Set([...Object.keys(ours), ...Object.keys(theirs)])].sort()) {
      differences(ours[key], theirs[key], [...segments, key], out);
    }
  } else {
    out.push({ segments, ours, theirs });
  }
  return out;
}

/** A thing's content to compare: without `_` fields and without its `thingId` (the identity, compared apart). */
export function comparableContent(data: unknown): JsonRecord {
  if (!isRecord(data)) return {};
  const { thingId: _thingId, ...rest } = contentOf(data);
  return rest;
}

/** A record read back from the store: the shape the auditor writes, or undefined. */
export function parseChangeRecord(value: unknown): TwinChangeRecord | undefined {
  if (!isRecord(value)) return undefined;
  const { thingId, action, revision, path, timestamp } = value;
  if (typeof thingId !== 'string' || typeof path !== 'string' || !ACTIONS.includes(action as TwinChangeAction)) return undefined;
  if (revisionOf(revision) === undefined || typeof revision !== 'number' || !('value' in value)) return undefined;
  if (timestamp !== null && typeof timestamp !== 'string') return undefined;
  return { thingId, action: action as TwinChangeAction, revision, path, value: value.value, timestamp };
}

function setAt(root: Json, segments: readonly string[], value: Json): Json {
  if (segments.length === 0) return value;
  const [head, ...rest] = segments as [string, ...string[]];
  const copy: JsonRecord = isRecord(root) ? { ...root } : {};
  const inner = setAt(copy[head], rest, value);
  if (inner === undefined) delete copy[head];
  else copy[head] = inner;
  return copy;
}

/** The leaf paths a merge patch decides (a `null` decides that the path is absent). */
function patchLeaves(prefix: readonly string[], patch: Json, out: string[][]): void {
  if (!isRecord(patch)) {
    out.push([...prefix]);
    return;
  }
  for (const [key, value] of Object.entries(patch)) patchLeaves([...prefix, key], value, out);
}

/**
 * The state anchored records determine: replaying them in revision order gives a thing (or part of one) and the
 * paths whose whole value the records decide. Only those are compared with Ditto, so a history the auditor joined
 * late (no `created` record) is compared where it is known.
 */
export class ReplayedTwin {
  state: Json = {};
  private readonly decided = new Set<string>();

  apply(record: TwinChangeRecord): void {
    const segments = pathSegments(record.path);
    if (segments.length === 0 && record.action !== 'merged') this.decided.clear();
    if (record.action === 'deleted') {
      this.state = setAt(this.state, segments, undefined);
      this.decide(segments);
    } else if (record.action === 'merged') {
      this.state = setAt(this.state, segments, mergePatch(valueAt(this.state, segments), record.value));
      const leaves: string[][] = [];
      patchLeaves(segments, record.value, leaves);
      for (const leaf of leaves) this.decide(leaf);
    } else {
      this.state = setAt(this.state, segments, segments.length === 0 ? comparableContent(record.value) : record.value);
      this.decide(segments);
    }
  }

  /** The decided paths without a decided ancestor: comparing them compares everything the records decide. */
  decidedPaths(): string[][] {
    const all = [...this.decided].map((key) => (key === '' ? [] : key.split('\u0000')));
    const covered = (path: string[]) => all.some((other) => other.length < path.length && other.every((s, i) => s === path[i]));
    return all.filter((path) => !covered(path)).sort((a, b) => pathText(a).localeCompare(pathText(b)));
  }

  private decide(segments: readonly string[]): void {
    this.decided.add(segments.join('\u0000'));
  }
}
