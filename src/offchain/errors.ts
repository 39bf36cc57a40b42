import { TwinLedgerError } from '../core/errors.js';

/** Which store raised an error: `kubo` (a Kubo node over its RPC API) or `embedded` (`EmbeddedStore`). */
export type PayloadStoreKind = 'kubo' | 'embedded';

/** No payload under this CID: the store does not hold its root block. */
export class PayloadNotFoundError extends TwinLedgerError {
  readonly cid: string;
  readonly store: PayloadStoreKind;

  constructor(cid: string, store: PayloadStoreKind) {
    super(`no payload ${cid} in the ${store} store`, {
      code: 'offchain.not_found',
      hint:
        store === 'kubo'
          ? 'Check the CID. The node does not have it (with offline: true it does not look in the IPFS network); unpinned payloads go at its next garbage collection.'
          : 'Check the CID. A payload stays while it is pinned (put() pins by default); unpinned payloads go at the next gc().',
    });
    this.cid = cid;
    this.store = store;
  }
}

/** Why a payload failed its integrity check. */
export type IntegrityProblem = 'hash-mismatch' | 'missing-block';

/**
 * A block of the payload does not hash to its CID, or a block the payload links to is missing: the store was
 * modified or damaged. The payload must not be trusted.
 */
export class PayloadIntegrityError extends TwinLedgerError {
  /** The payload asked for. */
  readonly cid: string;
  /** The block that failed (the payload's root or one of its descendants). */
  readonly block: string;
  readonly problem: IntegrityProblem;
  readonly store: PayloadStoreKind;

  constructor(cid: string, block: string, problem: IntegrityProblem, store: PayloadStoreKind) {
    const what =
      problem === 'hash-mismatch'
        ? `block ${block} does not hash to its CID`
        : `block ${block} is missing although the payload's DAG links to it`;
    super(`payload ${cid} failed its integrity check in the ${store} store: ${what}`, {
      code: 'offchain.integrity',
      hint: 'The block store was changed or damaged outside TwinLedger: do not use these bytes. Restore the payload from a backup or another node (a CAR file), then check the storage.',
    });
    this.cid = cid;
    this.block = block;
    this.problem = problem;
    this.store = store;
  }
}

/** The payload is larger than the `maxBytes` of the call (or of the store); nothing was read past the root block. */
export class PayloadSizeLimitError extends TwinLedgerError {
  readonly cid: string;
  /** The payload's size in bytes, as its root block says. */
  readonly size: number;
  readonly maxBytes: number;

  constructor(cid: string, size: number, maxBytes: number) {
    super(`payload ${cid} has ${size} bytes, more than maxBytes (${maxBytes})`, {
      code: 'offchain.size_limit',
      hint: 'Pass a larger maxBytes to get() (or to the store) if payloads this large are expected.',
    });
    this.cid = cid;
    this.size = size;
    this.maxBytes = maxBytes;
  }
}

/** The CID's blocks are not a UnixFS file: a directory, a symlink, or a DAG whose sizes or links do not add up. */
export class PayloadFormatError extends TwinLedgerError {
  readonly cid: string;

  constructor(cid: string, detail: string) {
    super(`${cid} is not a payload this store can read: ${detail}`, {
      code: 'offchain.format',
      hint: 'Payload stores hold single files (UnixFS, dag-pb or raw blocks, sha2-256) as put() writes them.',
    });
    this.cid = cid;
  }
}

/** The store cannot be reached or used: Kubo's RPC API does not answer, or the data directory cannot be used. */
export class StoreUnavailableError extends TwinLedgerError {
  readonly store: PayloadStoreKind;

  constructor(store: PayloadStoreKind, detail: string, hint: string, cause?: unknown) {
    super(`the ${store} payload store is unavailable: ${detail}`, { code: 'offchain.unavailable', hint, cause });
    this.store = store;
  }
}

/** Kubo answered, but refused the request (HTTP status `status`, Kubo's message in `upstreamMessage`). */
export class StoreRequestError extends TwinLedgerError {
  /** The HTTP status of Kubo's answer; undefined when the answer was cut short. */
  readonly status: number | undefined;
  readonly upstreamMessage: string;

  constructor(what: string, status: number | undefined, upstreamMessage: string, hint?: string) {
    super(`${what}: Kubo answered ${status === undefined ? 'incompletely' : status}${upstreamMessage ? ` (${upstreamMessage})` : ''}`, {
      code: status === undefined ? 'offchain.request' : `offchain.request.${status}`,
      hint,
    });
    this.status = status;
    this.upstreamMessage = upstreamMessage;
  }
}

/** Reading the payload given to `put()` failed (its stream or iterable threw); `cause` is what it threw. */
export class PayloadSourceError extends TwinLedgerError {
  constructor(detail: string, cause?: unknown) {
    super(`reading the payload failed: ${detail}`, {
      code: 'offchain.source',
      hint: 'The payload was not stored. Check the stream or iterable passed to put().',
      cause,
    });
  }
}
