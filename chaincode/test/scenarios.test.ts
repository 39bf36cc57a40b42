/**
 * The transaction scenarios of test/fixtures/scenarios.json on the Map-backed fake peer, through fabric-shim's
 * dispatcher (what the chaincode server runs). The SDK runs the same file through DevLedger's stub, so the contract
 * behaves the same on both (test/unit/dev-ledger-scenarios.test.ts in the repository root).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { JSONSerializer } from 'fabric-contract-api';
import { contracts } from '../src/index';
import { FakeWorld, testCertificate } from './fake-ledger';

export interface ScenarioStep {
  id?: string;
  as: string;
  peer?: string;
  submit: boolean;
  call: string[];
  transient?: Record<string, string>;
  expect: { ok?: unknown; error?: string; match?: string; writes?: number; event?: string; history?: number[] };
}

interface Dispatcher {
  Invoke(stub: unknown): Promise<{ status: number; message?: string; payload?: Uint8Array }>;
}
type DispatcherClass = new (contracts: unknown[], serializers: unknown, metadata: unknown, title: string, version: string) => Dispatcher;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract') as DispatcherClass;

const { scenarios } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', 'scenarios.json'), 'utf8')) as {
  scenarios: Array<{ name: string; steps: ScenarioStep[] }>;
};

/** `${id.txId}` → the transaction ID of step `id`. */
function substitute(args: string[], txIds: Map<string, string>): string[] {
  return args.map((arg) => arg.replace(/\$\{(\w+)\.txId\}/g, (_match, id: string) => txIds.get(id) ?? `<no step ${id}>`));
}

/** Checks an outcome against a step's expectation; shared wording with the SDK's runner. */
function check(
  step: ScenarioStep,
  outcome: { status: number; message: string; payload: string; writes: number; event: string | undefined },
) {
  const where = `${step.as} ${step.call[0]}`;
  const { expect } = step;
  if (expect.error !== undefined) {
    assert.equal(outcome.status, 500, `${where} should fail with ${expect.error}`);
    if (expect.error !== 'UNKNOWN') assert.ok(outcome.message.startsWith(`${expect.error}: `), `${where}: ${outcome.message}`);
    if (expect.match !== undefined) assert.ok(outcome.message.includes(expect.match), `${where}: ${outcome.message}`);
    return;
  }
  assert.equal(outcome.status, 200, `${where}: ${outcome.message}`);
  if (expect.ok !== undefined && typeof expect.ok === 'object') {
    const result = JSON.parse(outcome.payload) as Record<string, unknown>;
    for (const [field, value] of Object.entries(expect.ok as Record<string, unknown>))
      assert.deepEqual(result[field], value, `${where}: ${field}`);
  }
  if (expect.history !== undefined) {
    const history = JSON.parse(outcome.payload) as Array<{ record: { version: number } }>;
    assert.deepEqual(
      history.map((entry) => entry.record.version),
      expect.history,
    );
  }
  if (expect.writes !== undefined) assert.equal(outcome.writes, expect.writes, `${where}: public writes`);
  if (expect.event !== undefined) assert.equal(outcome.event, expect.event, `${where}: event`);
}

describe('transaction scenarios (test/fixtures/scenarios.json) on the fake peer', () => {
  let certificates: Record<string, string>;
  before(() => {
    certificates = { Org1MSP: testCertificate('user1.org1'), Org2MSP: testCertificate('user1.org2') };
  });

  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const world = new FakeWorld();
      const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };
      const dispatcher = new ChaincodeFromContract([...contracts], serializers, {}, 'twinledger-chaincode', '0.1.0');
      const txIds = new Map<string, string>();
      for (const step of scenario.steps) {
        const stub = world.stub({
          mspId: step.as,
          peerMspId: step.peer ?? step.as,
          args: substitute(step.call, txIds),
          transient: step.transient,
          certificate: certificates[step.as],
        });
        const response = await dispatcher.Invoke(stub);
        if (step.submit && response.status === 200) world.commit(stub);
        if (step.id) txIds.set(step.id, stub.txId);
        check(step, {
          status: response.status,
          message: response.message ?? '',
          payload: Buffer.from(response.payload ?? []).toString('utf8'),
          writes: stub.writes.filter((write) => write.kind !== 'private-put').length,
          event: stub.events.at(-1)?.name,
        });
      }
    });
  }
});
