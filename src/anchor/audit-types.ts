/**
 * The `TwinAuditor`'s types: what it needs of a Ditto client (typed structurally, so that `anchor` does not depend on
 * `ditto`: a `DittoClient` fits as it is), its options, events, the record it anchors per change, and the audit report.
 */
import type { CallOptions } from '../core/options.js';
import type { Logger } from '../core/logger.js';
import type { RetryPolicy } from '../core/retry.js';
import type { Ledger } from '../ledger/types.js';
import type { PayloadStore } from '../offchain/types.js';
import type { Anchorer } from './anchorer.js';

/** A change as Ditto's change stream (`ditto.changes.subscribe`) hands it out: the changed part, shaped like a thing. */
export interface AuditedChange {
  thingId: string;
  /** With `_revision`, `_modified` and `_context` selected, as the auditor asks. */
  data: { thingId: string; [key: string]: unknown };
}

/** A change from Ditto's history (`ditto.things.history`). */
export interface AuditedHistoryChange extends AuditedChange {
  revision: number;
  timestamp: string | undefined;
  /** The Ditto Protocol event behind the change (asked for with `context: true`). */
  context?: { topic?: string; path?: string; value?: unknown; [key: string]: unknown };
}

/** A thing as `ditto.things.get` returns it. */
export interface AuditedThing {
  thingId: string;
  [key: string]: unknown;
}

/** What the auditor uses of a `DittoClient`: the change stream, `things.get` and `things.history`. */
export interface TwinAuditorDitto {
  changes: {
    subscribe(options: {
      ids?: readonly string[];
      namespaces?: readonly string[];
      fields?: string;
      signal?: AbortSignal;
      retry?: RetryPolicy;
      idleTimeoutMs?: number;
    }): AsyncIterable<AuditedChange>;
  };
  things: {
    get(thingId: string, options?: { fields?: string; signal?: AbortSignal }): Promise<AuditedThing>;
    history(
      thingId: string,
      options: { fromHistoricalRevision: number; toHistoricalRevision?: number; context?: boolean; signal?: AbortSignal },
    ): AsyncIterable<AuditedHistoryChange>;
  };
}

export interface TwinAuditorOptions {
  /** A `DittoClient` (or anything with its `changes.subscribe`, `things.get` and `things.history`). */
  ditto: TwinAuditorDitto;
  /**
   * Where the records go. The auditor does not close it. `auditThing` verifies against its `ledger` and `store` unless
   * given others.
   */
  anchorer: Pick<Anchorer, 'append' | 'proof'> & Partial<Pick<Anchorer, 'ledger' | 'store'>>;
  /** The tenant of the records (names the ledger stream `<tenant>/<stream>`). */
  tenant: string;
  /** Follow the things of these namespaces. Default: every thing the credentials may read. */
  namespaces?: readonly string[];
  /** Follow these things only (not together with `namespaces`). */
  thingIds?: readonly string[];
  /**
   * The auditor's file (JSON lines): per record the thing, revision, stream and seq. It is the checkpoint (the last
   * revision anchored per thing) and the index `auditThing` reads. Required; keep it next to the anchorer's
   * `dataDir`, e.g. `.twinledger/twin-auditor.jsonl`. One auditor per file (a lock file `<checkpoint>.lock`).
   */
  checkpoint: string;
  /** Stream name of the records within the tenant. Default `twin`. */
  stream?: string;
  /** Follow the change stream. Default true; `false` opens the index for `auditThing` only. */
  follow?: boolean;
  /** fsync every line of the checkpoint file. Default true (false only for tests). */
  durable?: boolean;
  /** Reconnect policy of the change stream (passed to `changes.subscribe`). Default: the stream's own (1 s → 30 s). */
  retry?: RetryPolicy;
  /** Reconnect the change stream after this much silence (Ditto sends keep-alives). Default: off. */
  idleTimeoutMs?: number;
  logger?: Logger;
  /** Stops the auditor, like `stop()`. */
  signal?: AbortSignal;
}

/** What Ditto did: the last segment of the Ditto Protocol event's topic. */
export type TwinChangeAction = 'created' | 'modified' | 'merged' | 'deleted';

/**
 * The payload of each record (its canonical JSON): one change of a thing. `path` is the changed path inside the
 * thing (`/` for the whole thing); `value` what the change wrote there (`null` for a deletion); `timestamp` Ditto's
 * `_modified`, when it sent it.
 */
export interface TwinChangeRecord {
  thingId: string;
  action: TwinChangeAction;
  revision: number;
  path: string;
  value: unknown;
  timestamp: string | null;
}

/** A change anchored: `live` from the change stream, `history` filled in from Ditto's history. */
export interface AuditAppendedEvent {
  thingId: string;
  revision: number;
  action: TwinChangeAction;
  path: string;
  stream: string;
  seq: number;
  source: 'live' | 'history';
}

/**
 * Revisions of a thing the auditor could not anchor: they are neither in the change stream nor in Ditto's history
 * (history off, cleaned up, the thing deleted meanwhile). `toRevision` is missing when it is unknown (the thing cannot
 * be read any more). The checkpoint moves past a gap with a known end, so it is reported once; `auditThing` reports
 * those revisions as `missing-record`.
 */
export interface AuditGapEvent {
  thingId: string;
  fromRevision: number;
  toRevision: number | undefined;
  reason: string;
}

export interface TwinAuditorEvents {
  appended: [AuditAppendedEvent];
  gap: [AuditGapEvent];
  /** A failure that stopped the auditor (the change stream refused, the anchorer failed); `stopped` follows. */
  error: [Error];
  stopped: [];
}

export interface AuditThingOptions extends CallOptions {
  /** The ledger the records were anchored on: each proof is verified against it. Default: the anchorer's. */
  ledger?: Pick<Ledger, 'getBatch' | 'getRecord'>;
  /** The payload store: each payload is verified and read from it. Default: the anchorer's. */
  store?: Pick<PayloadStore, 'get'>;
  /** Compare each anchored revision with Ditto's history of the thing. Default true (skipped when Ditto keeps none). */
  history?: boolean;
  /** How long to wait for the proof of a record not anchored yet. Default 30 000 ms. */
  proofTimeoutMs?: number;
}

export type DivergenceKind = 'missing-record' | 'value-differs' | 'proof-failed' | 'unexpected-revision';

export interface TwinDivergence {
  kind: DivergenceKind;
  revision?: number;
  path?: string;
  /** What the anchored records say. */
  anchored?: unknown;
  /** What Ditto says. */
  ditto?: unknown;
  reason: string;
}

/** The result of `auditThing()`: plain JSON. */
export interface TwinAuditReport {
  thingId: string;
  /** No divergence. */
  ok: boolean;
  /** Anchored revisions checked. */
  revisionsChecked: number;
  /** Ditto's current revision; missing when the thing cannot be read (deleted). */
  dittoRevision?: number;
  /** Whether the anchored revisions were compared with Ditto's history, and why not. */
  history: { compared: boolean; reason: string };
  divergences: TwinDivergence[];
}
