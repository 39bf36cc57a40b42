/**
 * The paper's PoC 1 from start to verdict, as plain data: the filling plant runs with two injected attacks, two IDS
 * twins label its operational log and keep their results in IPFS with the hashes on the ledger, the controller twin
 * verifies them and closes the valve by command; then one stored result is tampered with and the controller must
 * refuse it.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../src/core/index.js';
import { type DemoEnvironment, openEnvironment } from '../support/environment.js';
import { rewriteStoredPayload } from '../support/tamper-store.js';
import type { DetectorName } from './detector.js';
import { CONTROLLER, type ControllerCheck, IDS_INSTANCES, type Published, checkResult, runIdsInstance } from './ids.js';
import { ATTACKS, type Attack, FillingPlant, PLANT, STEPS, TENANT } from './plant.js';

const EXPECTED: Record<DetectorName, Attack['kind']> = {
  'mass-balance': 'tank-sensor-spoofing',
  'valve-state': 'valve-state-spoofing',
};

export interface IdsFinding {
  ids: string;
  detector: DetectorName;
  cid: string;
  sha256: string;
  flagged: number[];
  expected: number[];
  missed: number[];
  falseAlarms: number[];
  /** Versions of the ledger key: InitHash and each UpdateHash. */
  ledgerVersions: number;
  /** Versions it had before this run, and the ones this run should have added (InitHash the first time, UpdateHash). */
  versionsBefore: number;
  versionsAdded: number;
}

export interface IdsReport {
  ok: boolean;
  parts: DemoEnvironment['parts'];
  steps: number;
  attacks: readonly Attack[];
  findings: IdsFinding[];
  controller: { checks: ControllerCheck[]; command?: { status: number; answer: unknown }; valveClosed: boolean };
  tampering: { applied: boolean; description: string; check?: ControllerCheck; skipped?: string };
  /** Why `ok` is false; empty when it is true. */
  problems: string[];
  durationMs: number;
}

export interface IdsOptions {
  dataDir: string;
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
  onStep?: (step: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const revisionOf = (etag: string | undefined) => Number(/rev:(\d+)/.exec(etag ?? '')?.[1] ?? 0);

export async function runIdsSample(options: IdsOptions): Promise<IdsReport> {
  const started = Date.now();
  const step = options.onStep ?? (() => undefined);
  step('starting the environment');
  const environment = await openEnvironment(options.dataDir, options.env ?? process.env, options.logger);
  try {
    const { c2e } = environment;
    step('provisioning the plant, two IDS twins and the controller');
    const password = randomBytes(12).toString('base64url');
    await c2e.provisionDevice({ tenant: TENANT, thingId: PLANT, password, thing: { attributes: { kind: 'filling-plant' } } });
    for (const thingId of [...IDS_INSTANCES.map((instance) => instance.thingId), CONTROLLER]) {
      await c2e.provisionDevice({
        tenant: TENANT,
        thingId,
        thing: { attributes: { kind: thingId === CONTROLLER ? 'controller' : 'ids' } },
      });
    }

    step(`running the plant for ${STEPS} steps, with attacks injected`);
    const plant = new FillingPlant();
    const device = c2e.device({ transport: 'mqtt', tenant: TENANT, thingId: PLANT, password });
    await device.connect();
    const stopCommands = device.twin.onMessage(async (message) => {
      const open = (message.value as { open?: unknown } | undefined)?.open;
      if (message.subject !== 'setValve' || typeof open !== 'boolean') {
        await message.respond(400, { error: 'expected setValve with { open: boolean }' });
        return;
      }
      await device.twin.updateFeature('process', { properties: { ...plant.setValve(open) } });
      await message.respond(200, { valveOpen: open });
    });
    try {
      const base = revisionOf((await c2e.ditto.things.getVersioned(PLANT)).etag);
      for (let i = 0; i < STEPS; i += 1) await device.twin.updateFeature('process', { properties: { ...plant.next() } });
      const window = { fromRevision: base + 1, toRevision: base + STEPS };
      for (let attempt = 0; revisionOf((await c2e.ditto.things.getVersioned(PLANT)).etag) < window.toRevision; attempt += 1) {
        if (attempt > 600) throw new Error('the plant twin did not reach its last log row');
        await sleep(50);
      }

      step('the IDS twins label the log, store their results in IPFS, and keep the hashes on the ledger');
      // A ledger key outlives the run on Fabric: count the versions this run adds (InitHash only the first time).
      const versionsBefore = new Map<string, number>();
      for (const instance of IDS_INSTANCES)
        versionsBefore.set(instance.key, (await environment.ledger.getHashHistory(instance.key)).length);
      const published: Published[] = [];
      for (const instance of IDS_INSTANCES) published.push(await runIdsInstance(environment, instance, window));
      const findings: IdsFinding[] = [];
      for (const entry of published) {
        const flagged = entry.result.labels.filter((label) => label.label === 'attack').map((label) => label.step);
        const expected = FillingPlant.attackedSteps(EXPECTED[entry.instance.detector]);
        findings.push({
          ids: entry.instance.thingId,
          detector: entry.instance.detector,
          cid: entry.cid,
          sha256: entry.sha256,
          flagged,
          expected,
          missed: expected.filter((at) => !flagged.includes(at)),
          falseAlarms: flagged.filter((at) => !expected.includes(at)),
          ledgerVersions: (await environment.ledger.getHashHistory(entry.instance.key)).length,
          versionsAdded: (versionsBefore.get(entry.instance.key) ?? 0) === 0 ? 2 : 1,
          versionsBefore: versionsBefore.get(entry.instance.key) ?? 0,
        });
      }

      step('the controller verifies the results against the ledger and reacts');
      const checks = await Promise.all(IDS_INSTANCES.map((instance) => checkResult(environment, instance.key)));
      const attacked = checks.filter((check) => check.verified && check.attacks > 0);
      let command: { status: number; answer: unknown } | undefined;
      if (attacked.length > 0) {
        const answer = await c2e.ditto.messages.send({ thingId: PLANT, subject: 'setValve', payload: { open: false }, timeoutSeconds: 10 });
        command = { status: answer.status, answer: answer.data };
        await c2e.ditto.feature(CONTROLLER, 'decision').put({
          properties: {
            action: 'close-valve',
            basedOn: attacked.map((check) => ({ key: check.key, cid: check.cid ?? null })),
            status: answer.status,
          },
        });
      }
      let valveClosed = false;
      for (let attempt = 0; attempt < 200 && !valveClosed; attempt += 1) {
        const thing = await c2e.ditto.things.get(PLANT);
        valveClosed = (thing.features?.process?.properties as { valveOpen?: boolean } | undefined)?.valveOpen === false;
        if (!valveClosed) await sleep(25);
      }

      step('tampering with a stored IDS result');
      const tampering = await tamperWithResult(environment, published[0]!);

      const problems = [
        ...findings.flatMap((finding) => [
          ...(finding.missed.length > 0 ? [`${finding.ids} missed the attack at steps ${finding.missed.join(', ')}`] : []),
          ...(finding.falseAlarms.length > 0 ? [`${finding.ids} raised false alarms at steps ${finding.falseAlarms.join(', ')}`] : []),
          ...(finding.ledgerVersions !== finding.versionsBefore + finding.versionsAdded
            ? [
                `${finding.ids}'s ledger key has ${finding.ledgerVersions} versions, expected ${finding.versionsBefore + finding.versionsAdded}`,
              ]
            : []),
        ]),
        ...checks.filter((check) => !check.verified).map((check) => `the controller could not verify ${check.key}: ${check.detail}`),
        ...(command?.status === 200 ? [] : [`the plant did not confirm setValve (${command?.status ?? 'not sent'})`]),
        ...(valveClosed ? [] : ['the plant twin does not show the valve closed']),
        ...(tampering.applied && tampering.check?.verified !== false ? ['the tampered result was accepted'] : []),
      ];
      const ok = problems.length === 0;
      return {
        ok,
        parts: environment.parts,
        steps: STEPS,
        attacks: ATTACKS,
        findings,
        controller: { checks: checks.map(({ result: _result, ...check }) => check), ...(command ? { command } : {}), valveClosed },
        tampering,
        problems,
        durationMs: Date.now() - started,
      };
    } finally {
      stopCommands();
      await device.close();
    }
  } finally {
    step('closing');
    await environment.close();
  }
}

/** Rewrites IDS 1's stored result as "no attacks" in the store's block file; the controller must refuse it then. */
async function tamperWithResult(environment: DemoEnvironment, published: Published): Promise<IdsReport['tampering']> {
  const description = `${published.instance.thingId}'s stored result rewritten to report no attacks`;
  if (environment.payloadDir === undefined) {
    return { applied: false, description, skipped: 'the results are on a Kubo node, which refuses blocks that do not match their CID' };
  }
  const rewritten = await rewriteStoredPayload(environment, published.cid, (text) =>
    text.replaceAll('"label":"attack"', '"label":"normal"').replace(/"attacks":\d+/, '"attacks":0'),
  );
  if (rewritten) {
    const { result: _result, ...check } = await checkResult(environment, published.instance.key);
    return { applied: true, description, check };
  }
  return { applied: false, description, skipped: 'the block file was not found' };
}
