/**
 * Off-chain payload stores: content-addressed bytes for the ledger's anchors. `KuboStore` on a Kubo node,
 * `EmbeddedStore` in a local data directory with the same CIDs; both check every block they read against its CID.
 */
export type { CidOptions, PayloadGetOptions, PayloadSource, PayloadStat, PayloadStore, PayloadPutOptions, StoredPayload } from './types.js';
export { KuboStore, type ImportCarOptions, type KuboStoreOptions } from './kubo.js';
export { computeCid } from './compute-cid.js';
export { EmbeddedStore, type EmbeddedStoreOptions, type ExportCarOptions, type GcResult } from './embedded.js';
export {
  PayloadFormatError,
  PayloadIntegrityError,
  PayloadNotFoundError,
  PayloadSizeLimitError,
  PayloadSourceError,
  StoreRequestError,
  StoreUnavailableError,
  type IntegrityProblem,
  type PayloadStoreKind,
} from './errors.js';
// The shared core API (errors, options, retry, logging, TLS, ID rules, configuration, events): one curated list, src/core/index.ts.
export * from '../core/index.js';
