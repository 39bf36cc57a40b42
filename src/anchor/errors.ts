import { TwinLedgerError, ValidationError } from '../core/errors.js';

/**
 * A proof that cannot be read as a TwinLedger proof: a wrong `format`, `version` or `mode`, a missing, extra or
 * ill-typed field, an envelope that breaks its own rules. `field` names it (`proof.envelope.ts`,
 * `proof.auditPath[2]`). A proof that reads but does not prove its claim is not an error: `verify()` reports it in
 * its verdict (and reports a malformed proof there too, as a failed inclusion check).
 */
export class MalformedAnchorProofError extends ValidationError {}

/** More records wait to be anchored than `maxBacklog` allows, and `append` was asked not to wait. */
export class BacklogFullError extends TwinLedgerError {
  readonly backlog: number;
  readonly maxBacklog: number;

  constructor(backlog: number, maxBacklog: number) {
    super(`${backlog} records wait to be anchored; the backlog holds at most ${maxBacklog}`, {
      code: 'anchor.backlog_full',
      hint:
        'The ledger or the payload store is slower than the records arrive, or unavailable (see status().lastError). Retry later, ' +
        'append with whenFull: "wait", or raise maxBacklog.',
    });
    this.backlog = backlog;
    this.maxBacklog = maxBacklog;
  }
}

/** The ledger refused a stream for good (another writer moved its head, or a batch ID is taken with other content). */
export class StreamHaltedError extends TwinLedgerError {
  readonly stream: string;

  constructor(stream: string, reason: string) {
    super(`stream ${stream} is not anchored any more: ${reason}`, {
      code: 'anchor.stream_halted',
      hint:
        'Each stream needs one writer: give each Anchorer its own instanceId (or stream names), and do not reuse a data directory ' +
        'of another installation. The records stay in the outbox.',
    });
    this.stream = stream;
  }
}

/** The payload store named a payload differently than the anchorer computed before anchoring it. */
export class PayloadCidMismatchError extends TwinLedgerError {
  constructor(record: string, expected: string, got: string) {
    super(`the payload store stored ${record} as ${got}, not ${expected}`, {
      code: 'anchor.cid_mismatch',
      hint: 'The store does not honour the CID options passed with put() (a proxy or a modified node?): use a store that does.',
    });
  }
}

/** The outbox does not hold what its own records say it holds: its files were changed or damaged. */
export class OutboxStateError extends TwinLedgerError {
  constructor(detail: string) {
    super(`the anchoring outbox is inconsistent: ${detail}`, {
      code: 'anchor.outbox',
      hint: 'The outbox folder was changed outside TwinLedger or the disk is damaged: restore it from a backup.',
    });
  }
}
