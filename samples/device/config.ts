/**
 * Device options for the lamp sample from the environment: Cloud2Edge's adapter variables (as printed by
 * its setCloud2EdgeEnv.sh) plus the device's identity. Prints what to set and exits 0 when something is missing.
 */
import {
  type DeviceClientOptions,
  type DeviceTransport,
  ENVIRONMENT_VARIABLES,
  configFromEnv,
  deviceEndpointFromConfig,
  jsonLineLogger,
} from '../../src/device/index.js'; // twinledger/device: no gRPC, kafkajs or rhea in a device app
import { setCloud2EdgeEnvText } from '../support/cloud2edge-env.js';

export function lampOptions(env: NodeJS.ProcessEnv = process.env): DeviceClientOptions {
  const transport = (env.LAMP_TRANSPORT ?? 'mqtt') as DeviceTransport;
  const adapter = transport === 'http' ? ['HTTP_ADAPTER_BASE_URL'] : ['MQTT_ADAPTER_IP', 'MQTT_ADAPTER_PORT_MQTT'];
  const missing = [...adapter, 'DEMO_DEVICE_PASSWORD'].filter((name) => !env[name]);
  if (transport !== 'http' && transport !== 'mqtt') missing.unshift('LAMP_TRANSPORT (mqtt or http)');
  if (missing.length > 0) {
    const described = { ...ENVIRONMENT_VARIABLES, DEMO_DEVICE_PASSWORD: "the device's password (as given to npm run demo)" } as Record<
      string,
      string
    >;
    console.log(`The lamp is a device on a Cloud2Edge installation; these variables are not set: ${missing.join(', ')}.

Set the adapter variables with Cloud2Edge's script, as its documentation does:
${setCloud2EdgeEnvText()}
provision the lamp with \`DEMO_DEVICE_PASSWORD=... npm run demo\`, then set:
${missing.map((name) => `  export ${name.split(' ')[0]}=...   # ${described[name] ?? ''}`).join('\n')}
Optional: LAMP_TRANSPORT=http (default mqtt), DEMO_TENANT, DEMO_THING_ID (defaults as in the quickstart).`);
    process.exit(0);
  }
  const config = configFromEnv(env);
  const thingId = env.DEMO_THING_ID ?? 'org.twinledger.demo:lamp-1';
  const { endpoint, tls } = deviceEndpointFromConfig(config, transport);
  const common = {
    tenant: env.DEMO_TENANT ?? 'org.twinledger.demo',
    authId: thingId.slice(thingId.indexOf(':') + 1),
    password: env.DEMO_DEVICE_PASSWORD,
    thingId,
    tls,
    logger: config.logger ?? jsonLineLogger({ level: 'warn', name: 'lamp' }),
  };
  return transport === 'http' ? { ...common, transport, endpoint } : { ...common, transport, endpoint };
}
