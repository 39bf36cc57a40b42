/**
 * CIDs as the stores use them: the CID options with Kubo's defaults, CID text in and out, and the hash check of a
 * block against its CID.
 */
import { base32 } from 'multiformats/bases/base32';
import { base58btc } from 'multiformats/bases/base58';
import { equals } from 'multiformats/bytes';
import { CID } from 'multiformats/cid';
import { identity } from 'multiformats/hashes/identity';
import { sha256, sha512 } from 'multiformats/hashes/sha2';
import { ValidationError } from '../core/errors.js';
import { integerOption, showValue } from '../core/options.js';
import type { CidOptions } from './types.js';

export const DAG_PB_CODE = 0x70;
export const RAW_CODE = 0x55;

/** `CidOptions` with every field set. */
export interface ResolvedCidOptions {
  version: 0 | 1;
  rawLeaves: boolean;
  chunkSize: number;
  maxLinks: number;
}

/**
 * Kubo's `ipfs add` defaults (`Import.*` unset, the `unixfs-v0-2015` profile): CIDv0, dag-pb leaves, 256 KiB chunks,
 * 174 links per node. `rawLeaves` follows the version: with `version: 1` it becomes true, as `--cid-version=1` does.
 */
export const KUBO_CID_DEFAULTS: Readonly<Required<Omit<CidOptions, 'rawLeaves'>>> = Object.freeze({
  version: 0,
  chunkSize: 262_144,
  maxLinks: 174,
});

/** Kubo refuses larger chunks (2 MiB minus headroom); above 1 MiB blocks also stop travelling between all IPFS nodes. */
export const MAX_CHUNK_SIZE = 1_048_576;
export const MAX_LINKS = 1_024;

/** Checks `CidOptions` (undefined fields stay undefined), so a store can merge per-call options over its own. */
export function validateCidOptions(field: string, value: unknown): CidOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) {
    throw new ValidationError(field, `must be an object { version, rawLeaves, chunkSize, maxLinks }, got ${showValue(value)}`);
  }
  const options = value as CidOptions;
  if (options.version !== undefined && options.version !== 0 && options.version !== 1) {
    throw new ValidationError(`${field}.version`, `must be 0 or 1, got ${showValue(options.version)}`);
  }
  if (options.rawLeaves !== undefined && typeof options.rawLeaves !== 'boolean') {
    throw new ValidationError(`${field}.rawLeaves`, `must be a boolean, got ${showValue(options.rawLeaves)}`);
  }
  integerOption(`${field}.chunkSize`, options.chunkSize, {
    min: 1,
    max: MAX_CHUNK_SIZE,
    hint: 'Kubo uses 262144 (256 KiB); its unixfs-v1-2025 profile uses 1048576.',
  });
  integerOption(`${field}.maxLinks`, options.maxLinks, {
    min: 2,
    max: MAX_LINKS,
    hint: 'Kubo uses 174; its unixfs-v1-2025 profile uses 1024.',
  });
  return {
    version: options.version,
    rawLeaves: options.rawLeaves,
    chunkSize: options.chunkSize,
    maxLinks: options.maxLinks,
  };
}

/** The call's options over the store's, then Kubo's defaults. */
export function resolveCidOptions(store: CidOptions, call: CidOptions): ResolvedCidOptions {
  const version = call.version ?? store.version ?? KUBO_CID_DEFAULTS.version;
  return {
    version,
    rawLeaves: call.rawLeaves ?? store.rawLeaves ?? version === 1,
    chunkSize: call.chunkSize ?? store.chunkSize ?? KUBO_CID_DEFAULTS.chunkSize,
    maxLinks: call.maxLinks ?? store.maxLinks ?? KUBO_CID_DEFAULTS.maxLinks,
  };
}

/** Hash functions whose blocks the stores can check. */
const HASHERS: ReadonlyMap<number, typeof sha256 | typeof sha512> = new Map([sha256, sha512].map((hasher) => [hasher.code, hasher]));

/**
 * Parses a CID argument: `Qm…` (CIDv0), base32 `b…` or base58btc `z…` (CIDv1), naming a dag-pb or raw block hashed
 * with sha2-256, sha2-512 or identity. Never repeats more than the value's first characters in errors.
 */
export function parseCid(field: string, value: unknown): CID {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(field, 'must be a CID string such as QmPUNyiLwRm2zPqf3BHbiyy4gS7zBuVp6MZNYebEMVyfbs or bafkrei…');
  }
  let cid: CID;
  try {
    cid = value.startsWith('z') ? CID.parse(value, base58btc) : CID.parse(value);
  } catch {
    throw new ValidationError(
      field,
      `is not a CID (${showValue(value.length > 16 ? `${value.slice(0, 16)}…` : value)})`,
      'Use the CID text put() returned: Qm… (CIDv0) or b… (CIDv1, base32).',
    );
  }
  if (cid.code !== DAG_PB_CODE && cid.code !== RAW_CODE) {
    throw new ValidationError(field, `names a block of codec 0x${cid.code.toString(16)}, not a dag-pb or raw block`);
  }
  if (cid.multihash.code !== identity.code && !HASHERS.has(cid.multihash.code)) {
    throw new ValidationError(field, `uses hash function 0x${cid.multihash.code.toString(16)}; supported: sha2-256, sha2-512, identity`);
  }
  return cid;
}

/** The canonical text of a CID: base58btc for CIDv0, base32 for CIDv1 (what Kubo prints). */
export function cidText(cid: CID): string {
  return cid.toString();
}

/** Whether `bytes` hash to `cid` (the whole multihash, so a truncated digest does not pass). */
export async function hashMatches(cid: CID, bytes: Uint8Array): Promise<boolean> {
  if (cid.multihash.code === identity.code) return equals(identity.digest(bytes).bytes, cid.multihash.bytes);
  const hasher = HASHERS.get(cid.multihash.code);
  if (hasher === undefined) return false;
  return equals((await hasher.digest(bytes)).bytes, cid.multihash.bytes);
}

/** A key for the block a CID names, whatever its version and codec (block stores key blocks by multihash). */
export function blockKey(cid: CID): string {
  return base32.encode(cid.multihash.bytes);
}
