import type { FabricGatewayEndpoint, KuboEndpoint } from '../core/config.js';
import { ValidationError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { durationMs, integerOption } from '../core/options.js';
import type { Ledger } from '../ledger/types.js';
import { resolveCidOptions, validateCidOptions } from '../offchain/cid.js';
import type { CidOptions, PayloadStore } from '../offchain/types.js';
import type { BatchLimits } from './pipeline.js';
import type { AnchorMode } from './types.js';

export interface BatchOptions {
  /** Leaves per batch at most. Default 1,000. */
  maxLeaves?: number;
  /** A batch closes this long after its oldest record was appended. Default 1,000 ms. */
  maxWaitMs?: number;
  /** Payload bytes per batch at most (a larger single record is a batch of its own). Default 16 MiB. */
  maxBytes?: number;
}

export interface AnchorerOptions {
  /** Folder of the outbox, and of the default ledger and store. Default `./.twinledger`. */
  dataDir?: string;
  /** Default: a `FabricLedger` on `fabric` when given, else a `DevLedger` in `<dataDir>/ledger`. The anchorer closes only a ledger it created. */
  ledger?: Ledger;
  /** A Fabric peer and identity to anchor on (the anchorer connects a `FabricLedger` and closes it); instead of `ledger`. */
  fabric?: FabricGatewayEndpoint;
  /** Default: a `KuboStore` on `kubo` when given, else an `EmbeddedStore` in `<dataDir>/payloads`. The anchorer closes only a store it created. */
  store?: PayloadStore;
  /** A Kubo node to store payloads in (the anchorer opens a `KuboStore` and closes it); instead of `store`. */
  kubo?: KuboEndpoint;
  /** Default anchoring of a stream's records: `batch` (AnchorBatch) or `record` (AnchorRecord). Default `batch`. */
  mode?: AnchorMode;
  batch?: BatchOptions;
  /** Records appended and not yet anchored, at most; then `append` waits or fails. Default 50,000 (about 15 MB of memory). */
  maxBacklog?: number;
  /**
   * Appended to every ledger stream name (`<tenant>/<stream>@<instanceId>`), so that several anchorers (one per
   * consumer of a Kafka group, say) never write the same stream. Default none.
   */
  instanceId?: string;
  /** CID options of the payloads (passed with every `put`). Default `{ version: 1 }`: CIDv1, raw leaves. */
  cid?: CidOptions;
  /** fsync every outbox commit. Default true; false only for tests and benchmarks. */
  durable?: boolean;
  /** Backoff of failed uploads and ledger calls. Default 100 ms doubling to 10 s. */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * Payload uploads in flight at most (uploads go in rounds of up to 2,048, with one store flush per round). Default
   * 256 with the embedded store the anchorer opens itself (local puts are cheap), 32 with `store` or `kubo` (HTTP
   * requests in flight to a node).
   */
  uploadConcurrency?: number;
  /** Default deadline of `append` (while it waits for room) and of `proof()`. Default 120,000 ms. */
  timeoutMs?: number;
  logger?: Logger;
}

/** Tenants, stream names and instance IDs: what a ledger key may hold, without its `/` and `@` separators. */
export const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._~:+=-]*$/;

/** Checks the options and fills in the defaults, before anything is opened. */
export function resolveOptions(options: AnchorerOptions) {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object');
  if (options.ledger !== undefined && options.fabric !== undefined) {
    throw new ValidationError('fabric', 'give a ledger or a Fabric endpoint, not both');
  }
  if (options.store !== undefined && options.kubo !== undefined)
    throw new ValidationError('kubo', 'give a store or a Kubo endpoint, not both');
  const mode = options.mode ?? 'batch';
  if (mode !== 'batch' && mode !== 'record') throw new ValidationError('mode', 'must be "batch" or "record"');
  const batch: BatchLimits = {
    maxLeaves: integerOption('batch.maxLeaves', options.batch?.maxLeaves, { min: 1, max: 1_000_000 }, 1_000),
    maxWaitMs: durationMs('batch.maxWaitMs', options.batch?.maxWaitMs, 1_000, { allowZero: true }),
    maxBytes: integerOption('batch.maxBytes', options.batch?.maxBytes, { min: 1, max: 2 ** 40 }, 16 * 1024 * 1024),
  };
  const cid = validateCidOptions('cid', options.cid ?? { version: 1 });
  const settings = {
    mode,
    maxBacklog: integerOption('maxBacklog', options.maxBacklog, { min: 1, max: 100_000_000 }, 50_000),
    instanceId: options.instanceId,
    cid,
    resolvedCid: resolveCidOptions({}, cid),
    timeoutMs: durationMs('timeoutMs', options.timeoutMs, 120_000),
  };
  if (settings.instanceId !== undefined && !(typeof settings.instanceId === 'string' && STREAM_NAME.test(settings.instanceId))) {
    throw new ValidationError('instanceId', 'must be letters, digits and . _ ~ : + = -, starting with a letter or digit');
  }
  const retry = {
    initialDelayMs: durationMs('retry.initialDelayMs', options.retry?.initialDelayMs, 100),
    maxDelayMs: durationMs('retry.maxDelayMs', options.retry?.maxDelayMs, 10_000),
  };
  const uploadConcurrency = integerOption(
    'uploadConcurrency',
    options.uploadConcurrency,
    { min: 1, max: 1024 },
    options.store !== undefined || options.kubo !== undefined ? 32 : 256,
  );
  const logger = options.logger ?? silentLogger;
  return { settings, batch, retry, uploadConcurrency, logger, durable: options.durable ?? true };
}
