/**
 * The smart-city demo from start to verdict, as plain data: run the city, verify its history, tamper with it three
 * ways, verify again. `ok` is true only when everything verified before the tampering, every tampering applied was
 * named by a check, and nothing else failed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnchorProof } from '../../src/anchor/index.js';
import type { Logger } from '../../src/core/index.js';
import { openEnvironment } from '../support/environment.js';
import { runScenario } from './scenario.js';
import { type Tampering, forgeProof, tamperWithStoredPayload, tamperWithTwin } from './tamper.js';
import { type Assessment, type Verification, allHold, assess, verifyEverything } from './verification.js';

export interface SmartCityReport {
  ok: boolean;
  parts: { cloud2edge: string; ledger: string; store: string };
  devices: number;
  readings: { mqtt: number; http: number; ledger: number };
  command: { subject: string; sent: unknown; status: number; answer: unknown };
  records: { twin: number; command: number; things: number };
  batches: number;
  ledgerBlocks: number;
  ledgerTransactions: { anchorBatches: number; publishTelemetryData: number; deviceSetup: number };
  before: Verification;
  tamperings: Tampering[];
  after: Verification;
  assessment: Assessment;
  durationMs: number;
}

export interface SmartCityOptions {
  /** Where the sandbox, the ledger, the store and the outbox keep their data. */
  dataDir: string;
  /** Cloud2Edge's, Fabric's and Kubo's variables; the embedded defaults for what is not set. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
  /** Called at each step, for progress output. */
  onStep?: (step: string) => void;
}

export async function runSmartCity(options: SmartCityOptions): Promise<SmartCityReport> {
  const started = Date.now();
  const step = options.onStep ?? (() => undefined);
  step('starting the environment');
  const environment = await openEnvironment(options.dataDir, options.env ?? process.env, options.logger);
  try {
    step('provisioning the fleet, sending readings, switching the traffic light');
    const scenario = await runScenario(environment, options.dataDir, options.logger);
    try {
      const [command, response] = await Promise.all(scenario.commandReceipts.map((receipt) => receipt.proof()));
      const proofs: Array<{ label: string; proof: AnchorProof }> = [
        { label: 'setPhase command', proof: command! },
        { label: 'setPhase answer', proof: response! },
      ];
      step('verifying every record');
      const before = await verifyEverything(environment, scenario, proofs);

      step('tampering');
      const { tampering: forgery, forged } = forgeProof(command!);
      const forgedLabel = 'setPhase command (forged copy)';
      const tamperings = [await tamperWithStoredPayload(environment, scenario), await tamperWithTwin(environment), forgery];
      step('verifying again');
      const after = await verifyEverything(environment, scenario, [...proofs, { label: forgedLabel, proof: forged }]);
      const assessment = assess(after, tamperings, forgedLabel);
      await saveProofs(options.dataDir, { 'setphase-command': command!, 'setphase-answer': response!, 'setphase-command-forged': forged });

      const status = environment.anchorer.status();
      const batches = status.streams.reduce((sum, stream) => sum + (stream.lastAnchoredBatch?.batchSeq ?? 0), 0);
      const twinRecords = [...scenario.twinRecords.values()].reduce((sum, records) => sum + records.length, 0);
      const ok =
        allHold(before) &&
        assessment.detections.every((detection) => detection.detected) &&
        assessment.unexplained.length === 0 &&
        tamperings.some((tampering) => tampering.applied);
      return {
        ok,
        parts: environment.parts,
        devices: scenario.devices,
        readings: scenario.readings,
        command: scenario.command,
        records: { twin: twinRecords, command: scenario.commandReceipts.length, things: scenario.twinRecords.size },
        batches,
        ledgerBlocks: Number((await environment.ledger.getChainHeight()) - scenario.startHeight),
        ledgerTransactions: {
          anchorBatches: batches,
          publishTelemetryData: scenario.publications.length,
          deviceSetup: scenario.deviceSetupTransactions,
        },
        before,
        tamperings,
        after,
        assessment,
        durationMs: Date.now() - started,
      };
    } finally {
      await scenario.auditor.stop();
    }
  } finally {
    step('closing');
    await environment.close();
  }
}

/** The command proofs as files, for `twinledger verify <file>`: `<dataDir>/proofs/<name>.json`. */
async function saveProofs(dataDir: string, proofs: Record<string, AnchorProof>): Promise<void> {
  await mkdir(join(dataDir, 'proofs'), { recursive: true });
  for (const [name, proof] of Object.entries(proofs))
    await writeFile(join(dataDir, 'proofs', `${name}.json`), `${JSON.stringify(proof, null, 2)}\n`);
}
