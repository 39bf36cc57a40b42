/**
 * The two twin-based IDS instances and the twin that acts on their findings. An IDS instance reads the plant's
 * operational log from its twin's history, labels each row with its detector, stores the labelled result in IPFS
 * and keeps the result's SHA-256 and CID on the ledger under its key (`InitHash` once, then `UpdateHash`); its own
 * twin shows the last result. The controller queries each key's hash on the ledger, downloads the result by its CID,
 * checks the bytes against the hash, and closes the plant's valve by command when a verified result reports an
 * attack. A result whose bytes do not match the ledger is not trusted.
 */
import { createHash } from 'node:crypto';
import type { HashRecord } from '../../src/ledger/index.js';
import type { DemoEnvironment } from '../support/environment.js';
import { DETECTORS, type DetectorName, type Label, type LogRow } from './detector.js';
import { PLANT, TENANT } from './plant.js';

export interface IdsInstance {
  thingId: string;
  detector: DetectorName;
  /** The ledger key of its results. */
  key: string;
}

export const IDS_INSTANCES: readonly IdsInstance[] = [
  { thingId: `${TENANT}:ids-1`, detector: 'mass-balance', key: `ids/${TENANT}/ids-1` },
  { thingId: `${TENANT}:ids-2`, detector: 'valve-state', key: `ids/${TENANT}/ids-2` },
];
export const CONTROLLER = `${TENANT}:controller`;

export interface IdsResult {
  format: 'twinledger-ids-result';
  version: 1;
  ids: string;
  detector: DetectorName;
  plant: string;
  window: { fromRevision: number; toRevision: number };
  labels: Label[];
  attacks: number;
}

/** The plant's log rows of revisions `from`..`to`, from its twin's history. */
export async function readLog(environment: DemoEnvironment, from: number, to: number): Promise<LogRow[]> {
  const rows: LogRow[] = [];
  for await (const change of environment.c2e.ditto.things.history(PLANT, { fromHistoricalRevision: from, toHistoricalRevision: to })) {
    const row = (change.data.features as { process?: { properties?: LogRow } } | undefined)?.process?.properties;
    if (row !== undefined) rows.push(row);
  }
  return rows;
}

export interface Published {
  instance: IdsInstance;
  result: IdsResult;
  cid: string;
  sha256: string;
  record: HashRecord;
}

export async function runIdsInstance(
  environment: DemoEnvironment,
  instance: IdsInstance,
  window: { fromRevision: number; toRevision: number },
): Promise<Published> {
  const rows = await readLog(environment, window.fromRevision, window.toRevision);
  const labels = DETECTORS[instance.detector](rows);
  const result: IdsResult = {
    format: 'twinledger-ids-result',
    version: 1,
    ids: instance.thingId,
    detector: instance.detector,
    plant: PLANT,
    window,
    labels,
    attacks: labels.filter((label) => label.label === 'attack').length,
  };
  const bytes = Buffer.from(JSON.stringify(result));
  // CIDv1 with raw leaves, as the anchorer's payloads: a result of one chunk is one block of exactly these bytes.
  const { cid } = await environment.store.put(bytes, { cid: { version: 1 } });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const { ledger } = environment;
  if ((await ledger.queryHash(instance.key)) === undefined) await ledger.initHash(instance.key);
  const record = await ledger.updateHash({ key: instance.key, sha256, cid });
  await environment.c2e.ditto
    .feature(instance.thingId, 'findings')
    .put({ properties: { lastResultCid: cid, sha256, window, attacks: result.attacks, ledgerTx: record.txId } });
  return { instance, result, cid, sha256, record };
}

export interface ControllerCheck {
  key: string;
  cid: string | undefined;
  verified: boolean;
  detail: string;
  attacks: number;
}

/** What the controller finds for one key: the ledger's hash, the bytes behind its CID, and whether they match. */
export async function checkResult(environment: DemoEnvironment, key: string): Promise<ControllerCheck & { result?: IdsResult }> {
  const record = await environment.ledger.queryHash(key);
  if (record?.cid == null || record.sha256 == null)
    return { key, cid: undefined, verified: false, detail: 'no result on the ledger', attacks: 0 };
  let bytes: Uint8Array;
  try {
    bytes = await environment.store.get(record.cid);
  } catch (error) {
    return { key, cid: record.cid, verified: false, detail: `the result cannot be read: ${(error as Error).message}`, attacks: 0 };
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== record.sha256) {
    return {
      key,
      cid: record.cid,
      verified: false,
      detail: `the result hashes to ${actual}, the ledger holds ${record.sha256}`,
      attacks: 0,
    };
  }
  const result = JSON.parse(Buffer.from(bytes).toString('utf8')) as IdsResult;
  return {
    key,
    cid: record.cid,
    verified: true,
    detail: `SHA-256 matches the ledger (version ${record.version})`,
    attacks: result.attacks,
    result,
  };
}
