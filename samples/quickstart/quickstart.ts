/**
 * Quickstart: provision a device on Cloud2Edge and update its twin.
 *
 *   npm run quickstart                                                             # on the embedded sandbox
 *   eval "$(./setCloud2EdgeEnv.sh c2e cloud2edge /tmp/c2e_hono_truststore.pem)"   # or on your Cloud2Edge
 *   npm run quickstart
 */
import { randomBytes } from 'node:crypto';
import { Cloud2Edge, TwinLedgerError } from '../../src/index.js';
import { Sandbox } from '../../src/sandbox/index.js';
import { setCloud2EdgeEnvText } from '../support/cloud2edge-env.js';
import { provisionAndUpdate } from './provision-and-update.js';

const configured = Boolean(process.env.REGISTRY_BASE_URL && process.env.DITTO_API_BASE_URL);
const sandbox = configured ? undefined : await Sandbox.start();
if (sandbox) {
  console.log(`No Cloud2Edge configured: running on the embedded sandbox. For a real installation, set its variables first:
${setCloud2EdgeEnvText()}
`);
}

const tenant = process.env.DEMO_TENANT ?? 'org.twinledger.demo';
const thingId = process.env.DEMO_THING_ID ?? 'org.twinledger.demo:lamp-1';
const password = process.env.DEMO_DEVICE_PASSWORD ?? randomBytes(12).toString('base64url');

const c2e = Cloud2Edge.fromEnv({}, sandbox ? sandbox.env() : process.env);
try {
  const { provisioned, twin } = await provisionAndUpdate(c2e, tenant, thingId, password);
  console.log('provisioned:', JSON.stringify(provisioned.steps), `device logs in as ${provisioned.username}`);
  console.log('twin now:', JSON.stringify(twin));
  if (process.argv.includes('--cleanup')) {
    console.log('removed:', JSON.stringify(await c2e.deprovisionDevice({ tenant, thingId })));
  }
} catch (error) {
  console.error(error instanceof TwinLedgerError ? `${error.name}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await c2e.close();
  await sandbox?.close();
}
