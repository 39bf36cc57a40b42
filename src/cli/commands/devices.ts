/** `twinledger provision` (one-call device provisioning) and `twinledger send` (as a device, over MQTT or HTTP). */
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../../core/errors.js';
import type { JsonValue } from '../../device/index.js';
import { openCloud2Edge } from '../environment.js';
import type { Output } from '../io.js';
import { parseJsonArgument, tenantOf } from './arguments.js';

export interface ProvisionOptions {
  tenant?: string;
  authId?: string;
  password?: string;
}

export async function runProvision(output: Output, thingId: string, options: ProvisionOptions): Promise<void> {
  const tenant = options.tenant ?? tenantOf(thingId);
  const generated = options.password === undefined;
  const password = options.password ?? randomBytes(12).toString('base64url');
  const opened = await openCloud2Edge(output);
  try {
    output.progress(`provisioning ${thingId} in tenant ${tenant}`);
    const result = await opened.c2e.provisionDevice(
      { tenant, thingId, password, ...(options.authId ? { authId: options.authId } : {}) },
      { ...(output.io.signal ? { signal: output.io.signal } : {}) },
    );
    output.result({ ...result, ...(generated ? { password } : {}) }, () =>
      [
        `${thingId}: ${Object.entries(result.steps)
          .map(([step, outcome]) => `${step} ${outcome}`)
          .join(', ')}`,
        `the device logs in as ${result.username}${generated ? ` with the generated password ${password}` : ''}`,
      ].join('\n'),
    );
  } finally {
    await opened.close();
  }
}

export interface SendOptions {
  tenant?: string;
  authId?: string;
  password?: string;
  transport: string;
  event: boolean;
  property?: string;
}

export async function runSend(output: Output, thingId: string, payloadText: string, options: SendOptions): Promise<void> {
  if (options.transport !== 'mqtt' && options.transport !== 'http') throw new ValidationError('--transport', 'must be mqtt or http');
  const password = options.password ?? output.io.env.TWINLEDGER_DEVICE_PASSWORD;
  if (password === undefined || password === '') {
    throw new ValidationError(
      '--password',
      'is required',
      'Pass --password, or set TWINLEDGER_DEVICE_PASSWORD to keep it out of the shell history.',
    );
  }
  const payload = parseJsonArgument('payload', payloadText) as JsonValue;
  const property = options.property === undefined ? undefined : /^([^/]+)\/(.+)$/.exec(options.property);
  if (options.property !== undefined && property === null)
    throw new ValidationError('--property', 'must be <feature>/<property path>, e.g. temperature/value');
  const tenant = options.tenant ?? tenantOf(thingId);
  const opened = await openCloud2Edge(output);
  let device: ReturnType<typeof opened.c2e.device> | undefined;
  try {
    device = opened.c2e.device({
      transport: options.transport,
      tenant,
      thingId,
      password,
      ...(options.authId ? { authId: options.authId } : {}),
    });
    await device.connect();
    if (property) await device.twin.updateProperty(property[1]!, property[2]!, payload, options.event ? { channel: 'event' } : {});
    else if (options.event) await device.event(payload);
    else await device.telemetry(payload, { qos: 1 });
    const what = property ? `twin update of ${property[1]}/${property[2]}` : options.event ? 'event' : 'telemetry';
    output.result({ thingId, sent: what, transport: options.transport }, () => `${thingId}: ${what} sent over ${options.transport}`);
  } finally {
    await device?.close();
    await opened.close();
  }
}
