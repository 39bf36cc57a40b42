/**
 * The IDS detectors of the filling plant (the paper's PoC 1), as pure functions over the plant's operational log.
 * Each log row is what the plant's twin recorded at one step: tank level, pipe flow, bottle level, bottles filled and
 * the valve's state. The plant obeys two physical rules, and each detector checks one of them:
 *
 * - **mass balance** (IDS 1): water only moves from the tank into bottles, so `tank + filled` stays what it was at
 *   the first row, where `filled = bottles × capacity + bottle level`. A row off by more than `tolerance` litres is
 *   labelled `mass-balance`: a tank or bottle sensor reports something that did not happen (spoofed readings).
 * - **valve state** (IDS 2): water flows only through an open valve and does flow through an open one while the tank
 *   has water. A row with flow through a closed valve, or a closed valve while the filled volume still grows, is
 *   labelled `valve-state`: the valve's reported state is not the real one (a spoofed actuator state).
 *
 * A row is `attack` when its detector found something, else `normal`.
 */

export interface LogRow {
  step: number;
  /** Litres in the tank. */
  tank: number;
  /** Litres per step through the pipe. */
  flow: number;
  /** Litres in the bottle being filled. */
  bottle: number;
  /** Bottles filled and capped. */
  bottles: number;
  valveOpen: boolean;
}

export interface Label {
  step: number;
  label: 'normal' | 'attack';
  reasons: string[];
}

export const BOTTLE_CAPACITY = 1;
export const TOLERANCE = 0.05;

const filled = (row: LogRow) => row.bottles * BOTTLE_CAPACITY + row.bottle;

export type DetectorName = 'mass-balance' | 'valve-state';

export function massBalance(rows: readonly LogRow[], tolerance = TOLERANCE): Label[] {
  const first = rows[0];
  if (first === undefined) return [];
  const total = first.tank + filled(first);
  return rows.map((row) => {
    const off = row.tank + filled(row) - total;
    return Math.abs(off) > tolerance
      ? { step: row.step, label: 'attack', reasons: [`mass-balance: tank + filled is off by ${off.toFixed(2)} l`] }
      : { step: row.step, label: 'normal', reasons: [] };
  });
}

export function valveState(rows: readonly LogRow[], tolerance = TOLERANCE): Label[] {
  return rows.map((row, index) => {
    const previous = index > 0 ? rows[index - 1] : undefined;
    const grew = previous !== undefined && filled(row) - filled(previous) > tolerance;
    const reasons: string[] = [];
    if (!row.valveOpen && row.flow > 0) reasons.push(`valve-state: ${row.flow} l flowing through a closed valve`);
    else if (!row.valveOpen && grew) reasons.push('valve-state: bottles filling behind a closed valve');
    return { step: row.step, label: reasons.length > 0 ? 'attack' : 'normal', reasons };
  });
}

export const DETECTORS: Record<DetectorName, (rows: readonly LogRow[]) => Label[]> = {
  'mass-balance': massBalance,
  'valve-state': valveState,
};
