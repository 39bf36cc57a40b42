/**
 * Quickstart: provision a device on Cloud2Edge and update its twin.
 *
 *   eval "$(./setCloud2EdgeEnv.sh c2e cloud2edge /tmp/c2e_hono_truststore.pem)"   # see samples/support/cloud2edge-env.ts
 *   npm run demo
 *
 * Without those variables it explains what to set and exits.
 */
import { randomBytes } from 'node:crypto';
import { Cloud2Edge, ENVIRONMENT_VARIABLES, TwinLedgerError } from '../../src/index.js';
import { setCloud2EdgeEnvText } from '../support/cloud2edge-env.js';
import { provisionAndUpdate } from './provision-and-update.js';

const required = ['REGISTRY_BASE_URL', 'DITTO_API_BASE_URL', 'DITTO_DEVOPS_PWD'] as const;
const missing = required.filter((name) => !process.env[name]);
if (missing.length > 0) {
  console.log(`The quickstart talks to a Cloud2Edge installation; these variables are not set: ${missing.join(', ')}.

Set them with Cloud2Edge's script, as its documentation does:
${setCloud2EdgeEnvText()}
or by hand:
${required.map((name) => `  export ${name}=...   # ${ENVIRONMENT_VARIABLES[name]}`).join('\n')}
Then run \`npm run demo\` again. (An embedded Cloud2Edge sandbox that needs none of this is on the roadmap.)`);
  process.exit(0);
}

const tenant = process.env.DEMO_TENANT ?? 'org.twinledger.demo';
const thingId = process.env.DEMO_THING_ID ?? 'org.twinledger.demo:lamp-1';
const password = process.env.DEMO_DEVICE_PASSWORD ?? randomBytes(12).toString('base64url');

try {
  const c2e = Cloud2Edge.fromEnv();
  const { provisioned, twin } = await provisionAndUpdate(c2e, tenant, thingId, password);
  console.log('provisioned:', JSON.stringify(provisioned.steps), `device logs in as ${provisioned.username}`);
  console.log('twin now:', JSON.stringify(twin));
  if (process.argv.includes('--cleanup')) {
    console.log('removed:', JSON.stringify(await c2e.deprovisionDevice({ tenant, thingId })));
  }
} catch (error) {
  console.error(error instanceof TwinLedgerError ? `${error.name}: ${error.message}` : error);
  process.exit(1);
}
