import { type Cloud2Edge, type ProvisionDeviceResult, type Thing } from '../../src/index.js';

/** The quickstart's work, separate from its command line so tests can run it. */
export async function provisionAndUpdate(
  c2e: Cloud2Edge,
  tenant: string,
  thingId: string,
  password: string,
): Promise<{ provisioned: ProvisionDeviceResult; twin: Thing }> {
  const provisioned = await c2e.provisionDevice({
    tenant,
    thingId,
    password,
    thing: { attributes: { location: 'quickstart' }, features: { temperature: { properties: { value: null } } } },
  });
  await c2e.ditto.feature(thingId, 'temperature').properties.put('value', 21.5);
  const twin = await c2e.ditto.things.get(thingId);
  return { provisioned, twin };
}
