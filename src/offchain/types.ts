import type { CallOptions, Closeable } from '../core/options.js';

/**
 * How a payload becomes a CID: a UnixFS file DAG as Kubo's `ipfs add` builds it (fixed-size chunks, balanced
 * tree, sha2-256). Every field defaults to Kubo's own default, so the same bytes get the same CID from
 * `EmbeddedStore`, `KuboStore` and `ipfs add` with the matching flags. Both stores pass all of them explicitly
 * (to Kubo too), so a Kubo node's `Import.*` configuration does not change the CIDs.
 */
export interface CidOptions {
  /** CID version of the root: 0 (`Qm…`, Kubo's default) or 1 (`bafy…`/`bafk…`). `ipfs add --cid-version`. */
  version?: 0 | 1;
  /**
   * Store the data blocks (leaves) as raw blocks instead of dag-pb nodes. Default: `true` with version 1, `false`
   * with version 0 (as Kubo). A payload of one chunk with raw leaves *is* that raw block, so its CID is a CIDv1
   * (`bafk…`) even with version 0. `ipfs add --raw-leaves`.
   */
  rawLeaves?: boolean;
  /** Bytes per chunk, 1 to 1,048,576. Default 262,144 (256 KiB). `ipfs add --chunker=size-<chunkSize>`. */
  chunkSize?: number;
  /** Children per node of the balanced DAG, 2 to 1,024. Default 174. `ipfs add --max-file-links`. */
  maxLinks?: number;
}

/** Bytes to store: one buffer, or chunks from a (possibly async) iterable such as a file read stream. */
export type PayloadSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface PayloadPutOptions extends CallOptions {
  /** Pin the payload, so that garbage collection keeps it. Default true (as `ipfs add`). */
  pin?: boolean;
  /** CID options for this call; fields not given come from the store's `cid` option. */
  cid?: CidOptions;
}

export interface StoredPayload {
  /** The payload's CID, in its canonical text form (`Qm…` for version 0, base32 `b…` for version 1). */
  cid: string;
  /** Payload size in bytes. */
  size: number;
}

export interface PayloadGetOptions extends CallOptions {
  /** Refuse payloads larger than this many bytes (`PayloadSizeLimitError`), before reading them. Default: the store's `maxBytes`. */
  maxBytes?: number;
}

export interface PayloadStat {
  cid: string;
  /** Payload size in bytes. */
  size: number;
  /** Pinned by the store (recursively), so garbage collection keeps it. */
  pinned: boolean;
}

/**
 * Content-addressed storage for off-chain payloads: `put` returns the CID of the bytes, `get` returns the bytes of
 * a CID after checking every block against its hash. Every method takes `CallOptions` (`signal`, `timeoutMs`);
 * `close()` is final. Implemented by `KuboStore` (a Kubo node) and `EmbeddedStore` (in-process, a data directory).
 */
export interface PayloadStore extends Closeable {
  put(payload: PayloadSource, options?: PayloadPutOptions): Promise<StoredPayload>;
  /** The payload's bytes, each block checked against its CID (`PayloadIntegrityError` when one does not match). */
  get(cid: string, options?: PayloadGetOptions): Promise<Uint8Array>;
  /** Whether the store holds the payload's root block locally (a cheap check; `get` checks the rest). */
  has(cid: string, options?: CallOptions): Promise<boolean>;
  /** Pins a payload the store holds, with all its blocks (`PayloadNotFoundError` when it does not). */
  pin(cid: string, options?: CallOptions): Promise<void>;
  /** Removes the pin; a payload that is not pinned is left as it is (no error). */
  unpin(cid: string, options?: CallOptions): Promise<void>;
  stat(cid: string, options?: CallOptions): Promise<PayloadStat>;
  /**
   * Makes what was stored so far durable, for stores that can defer it (`EmbeddedStore` with `durable: false`): one
   * flush for many puts. Stores without it make each put durable themselves (or leave it to the node, as Kubo does).
   */
  flush?(options?: CallOptions): Promise<void>;
}
