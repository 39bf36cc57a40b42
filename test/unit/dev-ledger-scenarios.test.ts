/**
 * The chaincode's own transaction scenarios (chaincode/test/fixtures/scenarios.json, which the chaincode package runs
 * on its Map-backed fake peer) through DevLedger's node: proposals endorsed by the real contract on DevLedger's stub,
 * submitted, validated and committed. Same inputs, same results, same refusals.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { DevNode } from '../../src/ledger/dev/node.js';

interface ScenarioStep {
  id?: string;
  as: string;
  peer?: string;
  submit: boolean;
  call: string[];
  transient?: Record<string, string>;
  expect: { ok?: unknown; error?: string; match?: string; writes?: number; event?: string; history?: number[] };
}

const FILE = resolve(import.meta.dirname, '..', '..', 'chaincode', 'test', 'fixtures', 'scenarios.json');
const { scenarios } = JSON.parse(readFileSync(FILE, 'utf8')) as { scenarios: Array<{ name: string; steps: ScenarioStep[] }> };

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

describe('the chaincode scenarios through DevLedger (endorse on its stub, order, validate, commit)', () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  assert.ok(scenarios.length >= 5, `scenarios in ${FILE}`);
  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'twinledger-dev-'));
      dirs.push(dir);
      const node = await DevNode.open({
        directory: join(dir, 'ledger'),
        channel: 'twinledger',
        chaincode: 'twinledger',
        organizations: ['Org1MSP', 'Org2MSP'],
        maxTransactions: 10,
        blockTimeoutMs: 0,
        logger: silentLogger,
      });
      try {
        const txIds = new Map<string, string>();
        for (const step of scenario.steps) {
          const [name = '', ...args] = step.call.map((arg) =>
            arg.replace(/\$\{(\w+)\.txId\}/g, (_match, id: string) => txIds.get(id) ?? `<no step ${id}>`),
          );
          const proposal = node.newProposal({
            creator: step.as,
            endorsers: [step.peer ?? step.as],
            function: name,
            args,
            transient: new Map(Object.entries(step.transient ?? {}).map(([key, value]) => [key, Buffer.from(value)])),
          });
          if (step.id) txIds.set(step.id, proposal.txId);
          if (!step.submit) {
            const response = await node.evaluate(proposal);
            const payload = Buffer.from(response.payload ?? []).toString('utf8');
            check(step, { status: response.status, message: response.message ?? '', payload, writes: 0, event: undefined });
            continue;
          }
          const endorsed = await node.endorse(proposal);
          if (!endorsed.failure) {
            const status = await node.submit(endorsed);
            assert.equal(status.code, 0, `${name} commits as VALID`);
          }
          check(step, {
            status: endorsed.response.status,
            message: endorsed.response.message ?? '',
            payload: Buffer.from(endorsed.response.payload ?? []).toString('utf8'),
            writes: endorsed.simulation.publicWrites().size + endorsed.simulation.policyWrites().size,
            event: endorsed.simulation.chaincodeEvent()?.name,
          });
        }
        assert.equal(node.verifyNow().height, node.height(), 'the ledger verifies afterwards');
      } finally {
        await node.close();
      }
    });
  }
});
