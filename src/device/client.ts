import { checkedHost, checkedHttpBaseUrl } from '../core/endpoint.js';
import { ValidationError } from '../core/errors.js';
import type { TwinLedgerConfig } from '../core/config.js';
import type { TlsOptions } from '../core/tls.js';
import { HttpDeviceClient } from './http-client.js';
import { MqttDeviceClient } from './mqtt-client.js';
import { DEVICE_CREDENTIALS, resolveDeviceOptions } from './options.js';
import type { DeviceClient, DeviceClientOptions, DeviceTransport } from './types.js';

/**
 * Creates a device client for Hono's HTTP or MQTT adapter. Validates every option first (a `ValidationError`
 * names the field); nothing connects until `connect()`.
 *
 * ```ts
 * const device = createDeviceClient({ transport: 'mqtt', endpoint: 'mqtt://192.168.1.10:31883',
 *   tenant: 'org.acme', authId: 'lamp-1', password, thingId: 'org.acme:lamp-1' });
 * await device.connect();
 * await device.twin.updateProperty('lamp', 'on', true);
 * ```
 */
export function createDeviceClient(options: DeviceClientOptions): DeviceClient {
  const resolved = resolveDeviceOptions(options);
  return resolved.transport === 'http' ? new HttpDeviceClient(resolved) : new MqttDeviceClient(resolved);
}

export interface DeviceEndpoint {
  endpoint: string;
  tls: TlsOptions | undefined;
}

/**
 * The adapter endpoint from a `TwinLedgerConfig` (e.g. `configFromEnv()`, which reads Cloud2Edge's
 * `HTTP_ADAPTER_*` / `MQTT_ADAPTER_*` variables). MQTT uses the TLS port when one is known and TLS
 * settings (a CA) are configured, the plain port otherwise.
 */
export function deviceEndpointFromConfig(config: TwinLedgerConfig, transport: DeviceTransport): DeviceEndpoint {
  if (transport === 'http') {
    const adapter = config.httpAdapter;
    if (adapter === undefined) {
      throw new ValidationError(
        'httpAdapter',
        'no Hono HTTP adapter configured',
        'Set HTTP_ADAPTER_BASE_URL (or HTTP_ADAPTER_IP and HTTP_ADAPTER_PORT_HTTP).',
      );
    }
    const tls = adapter.tls ?? config.tls;
    const endpoint = checkedHttpBaseUrl('httpAdapter.baseUrl', adapter.baseUrl, {
      example: 'HTTP_ADAPTER_BASE_URL',
      credentialsIn: DEVICE_CREDENTIALS,
    });
    return { endpoint, tls: endpoint.startsWith('https:') ? tls : undefined };
  }
  if (transport !== 'mqtt') throw new ValidationError('transport', `must be "http" or "mqtt", got ${String(transport)}`);
  const adapter = config.mqttAdapter;
  if (adapter === undefined) {
    throw new ValidationError(
      'mqttAdapter',
      'no Hono MQTT adapter configured',
      'Set MQTT_ADAPTER_IP and MQTT_ADAPTER_PORT_MQTT (or MQTT_ADAPTER_PORT_MQTTS).',
    );
  }
  const checked = checkedHost('mqttAdapter.host', adapter.host, { example: 'MQTT_ADAPTER_IP', credentialsIn: DEVICE_CREDENTIALS });
  const host = checked.includes(':') ? `[${checked}]` : checked;
  const secure =
    adapter.tlsPort !== undefined && (config.tls?.ca !== undefined || config.tls?.caFile !== undefined || adapter.port === adapter.tlsPort);
  return secure
    ? { endpoint: `mqtts://${host}:${adapter.tlsPort}`, tls: config.tls ?? {} }
    : { endpoint: `mqtt://${host}:${adapter.port}`, tls: undefined };
}
