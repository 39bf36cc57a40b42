/**
 * Three ways someone might rewrite the city's history, each behind the pipeline's back: an anchored payload edited
 * in the payload store's files, a twin's value changed in Ditto's database (no revision, no event), and a proof
 * handed to an auditor with a forged envelope. Each is done only where this run can do it (the store's files exist
 * only for the embedded store; the database only in the sandbox); otherwise it is reported as skipped, and why.
 */
import { type AnchorProof, recordKey } from '../../src/anchor/index.js';
import type { DemoEnvironment } from '../support/environment.js';
import { rewriteStoredPayload } from '../support/tamper-store.js';
import { TENANT } from './fleet.js';
import type { ScenarioResult } from './scenario.js';

export type TamperingId = 'store-payload' | 'twin-value' | 'forged-proof';

export interface Tampering {
  id: TamperingId;
  /** What was changed, in words. */
  description: string;
  thingId: string;
  /** The revision whose record was changed (store-payload). */
  revision?: number;
  /** The twin path that was changed (twin-value). */
  path?: string;
  applied: boolean;
  /** Why it was not applied. */
  skipped?: string;
}

export const STORE_TARGET = { thingId: `${TENANT}:air-quality-1`, path: '/features/pm25/properties/value', from: '35.2', to: '12' };
export const TWIN_TARGET = { thingId: `${TENANT}:parking-1`, path: '/features/occupancy/properties/occupied', value: false };

/** Rewrites the anchored record of air-quality-1's PM2.5 peak (35.2 µg/m³) to 12 in the store's block file. */
export async function tamperWithStoredPayload(environment: DemoEnvironment, scenario: ScenarioResult): Promise<Tampering> {
  const base = {
    id: 'store-payload' as const,
    description: `the anchored record of ${STORE_TARGET.thingId}'s PM2.5 peak edited from ${STORE_TARGET.from} to ${STORE_TARGET.to} in the payload store`,
    thingId: STORE_TARGET.thingId,
  };
  const record = (scenario.twinRecords.get(STORE_TARGET.thingId) ?? []).filter((entry) => entry.path === STORE_TARGET.path)[1];
  if (record === undefined) return { ...base, applied: false, skipped: 'the record of the peak was not anchored' };
  if (environment.payloadDir === undefined) {
    return {
      ...base,
      revision: record.revision,
      applied: false,
      skipped: 'the payloads are on a Kubo node, which refuses blocks that do not match their CID',
    };
  }
  const proof = await environment.anchorer.proof(record.stream, record.seq);
  const rewritten = await rewriteStoredPayload(environment, proof.payloadCid, (text) =>
    text.replace(`"value":${STORE_TARGET.from}`, `"value":${STORE_TARGET.to}`),
  );
  if (rewritten) return { ...base, revision: record.revision, applied: true };
  return { ...base, revision: record.revision, applied: false, skipped: 'the block file was not found' };
}

/** Flips parking-1's twin to "free" in Ditto's database, as an administrator with database access could. */
export async function tamperWithTwin(environment: DemoEnvironment): Promise<Tampering> {
  const base = {
    id: 'twin-value' as const,
    description: `${TWIN_TARGET.thingId} set to free (occupied: ${TWIN_TARGET.value}) directly in Ditto's database, without a revision or event`,
    thingId: TWIN_TARGET.thingId,
    path: TWIN_TARGET.path,
  };
  if (environment.sandbox === undefined)
    return { ...base, applied: false, skipped: "needs access to Ditto's database (done in the sandbox only)" };
  await environment.sandbox.tamperWithTwin(TWIN_TARGET.thingId, TWIN_TARGET.path, TWIN_TARGET.value);
  return { ...base, applied: true };
}

/** A copy of the setPhase command's proof whose envelope claims another payload: what a forger would hand over. */
export function forgeProof(proof: AnchorProof): { tampering: Tampering; forged: AnchorProof } {
  const forged = structuredClone(proof);
  forged.envelope.payloadSha256 = 'f'.repeat(64);
  return {
    tampering: {
      id: 'forged-proof',
      description: `a copy of the setPhase command's proof (${recordKey(proof.stream, proof.envelope.seq)}) with the payload hash replaced`,
      thingId: proof.envelope.thingId,
      applied: true,
    },
    forged,
  };
}
