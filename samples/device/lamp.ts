/**
 * A lamp on Cloud2Edge: reports its state to its twin and obeys Ditto "switch" messages, e.g.
 *   curl -u ditto:ditto -X POST -H 'content-type: application/json' -d '{"on": true}' \
 *     "$DITTO_API_BASE_URL/api/2/things/org.twinledger.demo:lamp-1/inbox/messages/switch?timeout=10"
 * Run: npx tsx samples/device/lamp.ts (without configuration it prints what to set and exits).
 */
import { createDeviceClient } from '../../src/device/index.js';
import { lampOptions } from './config.js';

const lamp = createDeviceClient(lampOptions()); // MQTT or HTTP, from the environment
await lamp.connect();
let on = false;
await lamp.twin.updateProperty('lamp', 'on', on); // Ditto Protocol over telemetry, QoS 1
console.log(`${lamp.username} is online over ${lamp.transport}; send it a "switch" message (Ctrl-C stops)`);
process.once('SIGINT', () => void lamp.close()); // ends the loop below
for await (const message of lamp.twin.messages()) {
  if (message.subject !== 'switch') {
    if (!message.oneWay) await message.respond(404, { error: `unknown subject "${message.subject}"` });
    continue;
  }
  const wanted = (message.value as { on?: unknown } | null)?.on;
  on = typeof wanted === 'boolean' ? wanted : !on;
  await lamp.twin.updateProperty('lamp', 'on', on);
  if (!message.oneWay) await message.respond(200, { on }); // Hono request id + Ditto correlation-id
  console.log(`lamp is ${on ? 'on' : 'off'}`);
}
