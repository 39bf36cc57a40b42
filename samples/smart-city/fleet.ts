/**
 * The smart-city fleet of the paper's PoC 2: air-quality stations on MQTT, parking sensors on HTTP, a traffic light
 * that takes commands, and one parking sensor whose readings go through the ledger first (`PublishTelemetryData` and
 * the relay). Readings are fixed, so every run tells the same story.
 */
export const TENANT = 'org.smartcity';

export type DeviceKind = 'air-quality' | 'parking' | 'traffic-light';

export interface FleetDevice {
  thingId: string;
  authId: string;
  kind: DeviceKind;
  /** How the device reaches Hono: its own MQTT or HTTP client, or the ledger's relay (`PublishTelemetryData`). */
  path: 'mqtt' | 'http' | 'ledger';
  attributes: Record<string, string | number>;
}

export const FLEET: readonly FleetDevice[] = [
  { thingId: `${TENANT}:air-quality-1`, authId: 'air-quality-1', kind: 'air-quality', path: 'mqtt', attributes: { street: 'Karlsplatz' } },
  { thingId: `${TENANT}:air-quality-2`, authId: 'air-quality-2', kind: 'air-quality', path: 'mqtt', attributes: { street: 'Praterstern' } },
  { thingId: `${TENANT}:parking-1`, authId: 'parking-1', kind: 'parking', path: 'http', attributes: { street: 'Naschmarkt', bay: 12 } },
  { thingId: `${TENANT}:parking-2`, authId: 'parking-2', kind: 'parking', path: 'ledger', attributes: { street: 'Naschmarkt', bay: 13 } },
  {
    thingId: `${TENANT}:traffic-light-1`,
    authId: 'traffic-light-1',
    kind: 'traffic-light',
    path: 'mqtt',
    attributes: { junction: 'Ring/Oper' },
  },
];

/** The twin's features when the device is provisioned. */
export function initialFeatures(kind: DeviceKind): Record<string, { properties: Record<string, null | string | boolean> }> {
  switch (kind) {
    case 'air-quality':
      return { pm25: { properties: { value: null } }, no2: { properties: { value: null } } };
    case 'parking':
      return { occupancy: { properties: { occupied: null } } };
    case 'traffic-light':
      return { signal: { properties: { phase: 'red' } } };
  }
}

/** One reading: the feature property a device reports, and its value. */
export interface Reading {
  feature: string;
  property: string;
  value: number | boolean | string;
}

const PM25 = [
  [18.4, 35.2, 22.1],
  [12.9, 14.3, 16.8],
];
const NO2 = [
  [41, 58, 47],
  [22, 25, 31],
];
const OCCUPIED = [
  [true, false, true],
  [false, true, true],
];

/** What device `index` of its kind reports in `round` (0, 1, 2). */
export function readingsOf(device: FleetDevice, round: number): Reading[] {
  const sameKind = FLEET.filter((other) => other.kind === device.kind);
  const index = sameKind.indexOf(device);
  switch (device.kind) {
    case 'air-quality':
      return [
        { feature: 'pm25', property: 'value', value: PM25[index]![round]! },
        { feature: 'no2', property: 'value', value: NO2[index]![round]! },
      ];
    case 'parking':
      return [{ feature: 'occupancy', property: 'occupied', value: OCCUPIED[index]![round]! }];
    case 'traffic-light':
      return [];
  }
}

export const ROUNDS = 3;
