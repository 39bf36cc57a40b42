// The IDS detectors of the IDS sample (samples/ids/detector.ts) and the plant simulation they watch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LogRow, massBalance, valveState } from '../../samples/ids/detector.js';
import { FLOW, FillingPlant } from '../../samples/ids/plant.js';

const row = (step: number, tank: number, bottles: number, bottle: number, valveOpen = true, flow = FLOW): LogRow => ({
  step,
  tank,
  flow,
  bottle,
  bottles,
  valveOpen,
});

describe('IDS detectors', () => {
  it('mass balance: tank + filled stays constant; a frozen or jumping level is an attack, a finished bottle is not', () => {
    const rows = [row(1, 99.75, 0, 0.25), row(2, 99.5, 0, 0.5), row(3, 99.5, 0, 0.75), row(4, 99, 1, 0), row(5, 98.75, 1, 0.25)];
    assert.deepEqual(
      massBalance(rows).map((label) => label.label),
      ['normal', 'normal', 'attack', 'normal', 'normal'],
    );
    assert.match(massBalance(rows)[2]!.reasons[0]!, /off by 0\.25 l/);
    assert.deepEqual(massBalance([]), []);
  });

  it('valve state: flow through a closed valve, or bottles filling behind it, is an attack; a closed, still valve is not', () => {
    const rows = [row(1, 99.75, 0, 0.25), row(2, 99.5, 0, 0.5, false), row(3, 99.5, 0, 0.5, false, 0), row(4, 99.5, 0, 0.75, false, 0)];
    assert.deepEqual(
      valveState(rows).map((label) => [label.label, label.reasons[0]?.split(':')[0]]),
      [
        ['normal', undefined],
        ['attack', 'valve-state'],
        ['normal', undefined],
        ['attack', 'valve-state'],
      ],
    );
  });

  it('the plant without attacks never alarms; with them, only the attacked steps do', () => {
    const clean = new FillingPlant([]);
    const cleanRows = Array.from({ length: 40 }, () => clean.next());
    assert.ok(massBalance(cleanRows).every((label) => label.label === 'normal'));
    assert.ok(valveState(cleanRows).every((label) => label.label === 'normal'));
    const attacked = new FillingPlant();
    const rows = Array.from({ length: 40 }, () => attacked.next());
    const flagged = (labels: ReturnType<typeof massBalance>) =>
      labels.filter((label) => label.label === 'attack').map((label) => label.step);
    assert.deepEqual(flagged(massBalance(rows)), FillingPlant.attackedSteps('tank-sensor-spoofing'));
    assert.deepEqual(flagged(valveState(rows)), FillingPlant.attackedSteps('valve-state-spoofing'));
    const closed = attacked.setValve(false);
    assert.equal(closed.valveOpen, false);
    assert.equal(attacked.next().flow, 0, 'a closed valve stops the flow');
  });
});
