import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 } from 'multiformats/hashes/sha2';
import { type ResolvedCidOptions, cidText, RAW_CODE, resolveCidOptions, validateCidOptions } from './cid.js';
import { loadEmbeddedModules, unixfsImportOptions } from './modules.js';
import type { CidOptions } from './types.js';

/**
 * The CID a store gives `payload` with these CID options (`put` with the same `cid` options returns it), computed
 * without storing anything: to name a payload before it is uploaded. A payload of one chunk with raw leaves is one raw
 * block, whose CID is computed directly; anything else goes through the UnixFS importer with its blocks discarded.
 */
export async function computeCid(payload: Uint8Array, options?: CidOptions): Promise<string> {
  const cid = resolveCidOptions({}, validateCidOptions('options', options));
  const single = await singleRawBlockCid(payload, cid);
  if (single !== undefined) return cidText(single);
  const modules = await loadEmbeddedModules();
  const discard = { put: async (key: CID) => key };
  const result = await modules.importFile({ content: [payload] }, discard, unixfsImportOptions(modules, cid, 1));
  return cidText(result.cid);
}

/**
 * The CID of a payload that the importer turns into a single raw block (one chunk, raw leaves: the block is the bytes
 * themselves), or undefined for any other payload. Lets a store skip the importer for small payloads.
 */
export async function singleRawBlockCid(payload: Uint8Array, cid: ResolvedCidOptions): Promise<CID | undefined> {
  if (!isSingleRawBlock(payload.byteLength, cid)) return undefined;
  return CID.createV1(RAW_CODE, await sha256.digest(payload));
}

/** `singleRawBlockCid` for a caller that has hashed the payload already (its SHA-256 digest, 32 bytes). */
export function singleRawBlockCidOf(size: number, sha256Digest: Uint8Array, cid: ResolvedCidOptions): CID | undefined {
  if (!isSingleRawBlock(size, cid)) return undefined;
  return CID.createV1(RAW_CODE, Digest.create(sha256.code, sha256Digest));
}

function isSingleRawBlock(size: number, cid: ResolvedCidOptions): boolean {
  return cid.rawLeaves && size > 0 && size <= cid.chunkSize;
}
