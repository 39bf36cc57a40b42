/**
 * The simulated filling plant: a tank drains through a pipe and a valve into bottles. Its device reports one
 * operational log row per step as an update of its twin's `process` feature (one Ditto revision per row) and
 * obeys the `setValve` command. Two attacks are injected into what it reports: the tank's level sensor is frozen
 * for a few steps (spoofed readings), and the valve is reported closed while it is open (a spoofed actuator state).
 */
import { BOTTLE_CAPACITY, type LogRow } from './detector.js';

export const TENANT = 'org.plant';
export const PLANT = `${TENANT}:filling-line`;
export const FLOW = 0.25;
export const STEPS = 40;

export interface Attack {
  kind: 'tank-sensor-spoofing' | 'valve-state-spoofing';
  from: number;
  to: number;
}

export const ATTACKS: readonly Attack[] = [
  { kind: 'tank-sensor-spoofing', from: 15, to: 18 },
  { kind: 'valve-state-spoofing', from: 25, to: 27 },
];

const round = (value: number) => Math.round(value * 1000) / 1000;

export class FillingPlant {
  private tank = 100;
  private bottle = 0;
  private bottles = 0;
  private valveOpen = true;
  private step = 0;
  private frozenTank: number | undefined;

  constructor(private readonly attacks: readonly Attack[] = ATTACKS) {}

  /** Runs one step of the physics and returns what the plant reports for it. */
  next(): LogRow {
    this.step += 1;
    const flow = this.valveOpen && this.tank > 0 ? Math.min(FLOW, this.tank) : 0;
    this.tank -= flow;
    this.bottle += flow;
    if (this.bottle >= BOTTLE_CAPACITY) {
      this.bottles += 1;
      this.bottle -= BOTTLE_CAPACITY;
    }
    const truth: LogRow = {
      step: this.step,
      tank: round(this.tank),
      flow,
      bottle: round(this.bottle),
      bottles: this.bottles,
      valveOpen: this.valveOpen,
    };
    const active = (kind: Attack['kind']) =>
      this.attacks.some((attack) => attack.kind === kind && attack.from <= this.step && this.step <= attack.to);
    const reported = { ...truth };
    if (active('tank-sensor-spoofing')) {
      this.frozenTank ??= round(this.tank + flow);
      reported.tank = this.frozenTank;
    } else {
      this.frozenTank = undefined;
    }
    if (active('valve-state-spoofing')) reported.valveOpen = false;
    return reported;
  }

  /** The `setValve` command. */
  setValve(open: boolean): LogRow {
    this.valveOpen = open;
    return { step: this.step, tank: round(this.tank), flow: 0, bottle: round(this.bottle), bottles: this.bottles, valveOpen: open };
  }

  /** The steps an attack was injected at. */
  static attackedSteps(kind: Attack['kind'], attacks: readonly Attack[] = ATTACKS): number[] {
    return attacks
      .filter((attack) => attack.kind === kind)
      .flatMap((attack) => Array.from({ length: attack.to - attack.from + 1 }, (_, i) => attack.from + i));
  }
}
