import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { cidText, RAW_CODE, resolveCidOptions, validateCidOptions } from './cid.js';
import { loadEmbeddedModules, unixfsImportOptions } from './modules.js';
import type { CidOptions } from './types.js';

/**
 * The CID a store gives `payload` with these CID options (`put` with the same `cid` options returns it), computed
 * without storing anything: to name a payload before it is uploaded. A payload of one chunk with raw leaves is one raw
 * block, whose CID is computed directly; anything else goes through the UnixFS importer with its blocks discarded.
 */
export async function computeCid(payload: Uint8Array, options?: CidOptions): Promise<string> {
  const cid = resolveCidOptions({}, validateCidOptions('options', options));
  if (cid.rawLeaves && payload.byteLength > 0 && payload.byteLength <= cid.chunkSize) {
    return cidText(CID.createV1(RAW_CODE, await sha256.digest(payload)));
  }
  const modules = await loadEmbeddedModules();
  const discard = { put: async (key: CID) => key };
  const result = await modules.importFile({ content: [payload] }, discard, unixfsImportOptions(modules, cid, 1));
  return cidText(result.cid);
}
