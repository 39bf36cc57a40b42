/**
 * Hono's HTTP protocol adapter, device side: telemetry and events from devices that log in with HTTP Basic
 * (`auth-id@tenant` and the password the registry holds), forwarded to the messaging network. Routes, headers and
 * status codes as Hono 2.6 documents them: `POST /telemetry|/event` for the device itself, `PUT
 * /telemetry|/event/{tenant}/{device}` for a device behind a gateway (the authenticated device must be in its
 * `via`), `QoS-Level`, empty notifications, the payload limit (413), 400/401/403/404, 429 when the tenant's data
 * volume is used up, and 503 when no consumer takes the message. Commands: a request with `hono-ttd` waits that long for a command for its device, answered with 200,
 * `hono-command`, `hono-cmd-req-id` (request/response commands) and `hono-cmd-target-device` (behind a gateway);
 * the device answers on `POST /command/res/{reqId}` or `PUT /command/res/{tenant}/{device}/{reqId}` with
 * `hono-cmd-status`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import type { CommandRequests } from './command-requests.js';
import { refused } from './errors.js';
import { type RunningServer, pathSegments, readBody, sendEmpty, startHttpServer } from './http.js';
import { type DeviceCommand, EMPTY_NOTIFICATION, type RunningMessaging, refusalOf } from './messaging.js';
import type { RegistryStore } from './registry-store.js';
import type { TenantLimits } from './tenant-limits.js';

export interface HttpAdapterOptions {
  host: string;
  port: number;
  /** Largest payload accepted (413 beyond). Hono's default: 2,048 bytes. */
  maxPayloadBytes: number;
  logger: Logger;
}

/** Hono's adapter answers errors with a short text. */
const fail = (status: number, message: string, headers: Record<string, string> = {}) => refused(status, message, headers);

interface Authenticated {
  tenant: string;
  deviceId: string;
}

async function authenticate(request: IncomingMessage, registry: RegistryStore): Promise<Authenticated> {
  const header = request.headers.authorization;
  const challenge = { 'www-authenticate': 'Basic realm="Hono"' };
  if (header === undefined || !/^Basic /i.test(header)) throw fail(401, 'authentication required', challenge);
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const login = colon < 0 ? decoded : decoded.slice(0, colon);
  const at = login.lastIndexOf('@');
  if (colon < 0 || at <= 0) throw fail(401, 'the user name must be auth-id@tenant', challenge);
  const tenant = login.slice(at + 1);
  const found = await registry.authenticate(tenant, login.slice(0, at), decoded.slice(colon + 1));
  if (found === undefined) throw fail(401, 'bad credentials', challenge);
  return { tenant, deviceId: found.deviceId };
}

function qosOf(request: IncomingMessage, kind: 'telemetry' | 'event'): 0 | 1 {
  const header = request.headers['qos-level'];
  if (kind === 'event') return 1;
  if (header === undefined) return 0;
  if (header !== '0' && header !== '1') throw fail(400, 'QoS-Level must be 0 or 1');
  return header === '1' ? 1 : 0;
}

function ttdOf(request: IncomingMessage): number | undefined {
  const header = request.headers['hono-ttd'];
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header[0]! : header;
  if (!/^-?\d+$/.test(text)) throw fail(400, 'hono-ttd must be a number of seconds');
  return Math.min(Number(text), 60);
}

export function startHttpAdapter(
  registry: RegistryStore,
  messaging: RunningMessaging,
  options: HttpAdapterOptions,
  closing: AbortSignal,
  requests: CommandRequests,
  limits: TenantLimits,
): Promise<RunningServer> {
  /** Counts the payload against the tenant's data volume: 429 when the period's volume is used up. */
  const charge = (tenant: string, payload: Buffer) => {
    const overLimit = limits.charge(tenant, payload.byteLength);
    if (overLimit !== undefined) throw fail(429, overLimit.message);
  };

  /** The device this login may act for: itself, or a device that names it in `via`. */
  const actingFor = (device: Authenticated, tenantSegment: string, deviceId: string): Authenticated => {
    const tenant = tenantSegment === '' ? device.tenant : tenantSegment;
    if (tenant !== device.tenant) throw fail(403, 'a device may not act for another tenant');
    if (deviceId !== device.deviceId) {
      const behind = registry.device(tenant, deviceId);
      if (behind === undefined || behind.enabled === false) throw fail(404, `device ${deviceId} is unknown or disabled`);
      const via = Array.isArray(behind.via) ? behind.via : [];
      if (!via.includes(device.deviceId)) throw fail(403, `${device.deviceId} is not a gateway of ${deviceId}`);
    }
    return { tenant, deviceId };
  };

  const downstream = async (
    request: IncomingMessage,
    response: ServerResponse,
    kind: 'telemetry' | 'event',
    segments: string[],
    url: URL,
  ) => {
    const device = await authenticate(request, registry);
    const target = segments.length === 3 ? actingFor(device, segments[1]!, segments[2]!) : device;
    const qos = qosOf(request, kind);
    const ttd = ttdOf(request);
    const contentType = request.headers['content-type'];
    const payload = await readBody(request, options.maxPayloadBytes, () =>
      fail(413, `the payload exceeds ${options.maxPayloadBytes} bytes`),
    );
    if (contentType === undefined || contentType === '') throw fail(400, 'Content-Type is required');
    if (contentType === EMPTY_NOTIFICATION && payload.byteLength > 0) throw fail(400, 'an empty notification has no payload');
    if (contentType !== EMPTY_NOTIFICATION && payload.byteLength === 0) throw fail(400, 'the payload is empty');
    charge(target.tenant, payload);
    const outcome = await messaging.publish({
      tenant: target.tenant,
      deviceId: target.deviceId,
      kind,
      contentType,
      payload,
      qos,
      origAdapter: 'hono-http',
      origAddress: url.pathname,
      ...(ttd === undefined ? {} : { ttd }),
    });
    const refusal = refusalOf(outcome);
    if (refusal !== undefined) throw fail(refusal.status, refusal.message);
    const command = ttd !== undefined && ttd > 0 ? await commandWithin(ttd * 1000, target, request) : undefined;
    if (command === undefined) {
      sendEmpty(response, 202);
      return;
    }
    const headers: Record<string, string> = { 'hono-command': command.name };
    const reqId = requests.add(command);
    if (reqId !== undefined) headers['hono-cmd-req-id'] = reqId;
    if (command.deviceId !== device.deviceId) headers['hono-cmd-target-device'] = command.deviceId;
    if (command.contentType !== undefined) headers['content-type'] = command.contentType;
    response.writeHead(200, { ...headers, 'content-length': command.payload.byteLength });
    response.end(command.payload);
  };

  /** Waits up to `ms` for a command for `target`; undefined when none came (or the device left, or the sandbox closes). */
  const commandWithin = (ms: number, target: Authenticated, request: IncomingMessage): Promise<DeviceCommand | undefined> =>
    new Promise((resolve) => {
      let settled = false;
      const finish = (command: DeviceCommand | undefined) => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        stop();
        closing.removeEventListener('abort', leave);
        request.socket.off('close', leave);
        resolve(command);
        return true;
      };
      const leave = () => finish(undefined);
      const stop = messaging.waitForCommands(target.tenant, target.deviceId, (command) => !request.socket.destroyed && finish(command));
      const timer = setTimeout(leave, ms);
      closing.addEventListener('abort', leave, { once: true });
      request.socket.once('close', leave);
    });

  const commandResponse = async (request: IncomingMessage, response: ServerResponse, segments: string[], url: URL) => {
    const device = await authenticate(request, registry);
    const reqId = segments.at(-1)!;
    const target = segments.length === 5 ? actingFor(device, segments[2]!, segments[3]!) : device;
    const statusText = url.searchParams.get('hono-cmd-status');
    if (statusText === null || !/^[1-5]\d\d$/.test(statusText)) throw fail(400, 'hono-cmd-status must be an HTTP status code');
    const open = requests.find(reqId, target.tenant, target.deviceId);
    if (open === undefined) {
      throw fail(400, 'no command with this request ID is waiting for a response from this device');
    }
    const payload = await readBody(request, options.maxPayloadBytes, () =>
      fail(413, `the payload exceeds ${options.maxPayloadBytes} bytes`),
    );
    charge(target.tenant, payload);
    const contentType = request.headers['content-type'];
    const delivered = messaging.respond({
      tenant: open.tenant,
      deviceId: open.deviceId,
      status: Number(statusText),
      contentType: contentType === undefined || contentType === '' ? undefined : contentType,
      payload,
      correlationId: open.correlationId,
      replyTo: open.replyTo,
    });
    if (!delivered) throw fail(503, 'the application that sent the command no longer listens for its response');
    requests.close(reqId);
    sendEmpty(response, 202);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://adapter');
    const segments = pathSegments(url.pathname, (reason) => fail(400, reason));
    const kind = segments[0];
    if (kind === 'command' && segments[1] === 'res' && (segments.length === 3 || segments.length === 5)) {
      const expected = segments.length === 3 ? 'POST' : 'PUT';
      if (request.method !== expected) throw fail(405, `${request.method} is not allowed on ${url.pathname}`);
      await commandResponse(request, response, segments, url);
      return;
    }
    if (kind !== 'telemetry' && kind !== 'event') throw fail(404, `no resource at ${url.pathname}`);
    if (segments.length !== 1 && segments.length !== 3) throw fail(404, `no resource at ${url.pathname}`);
    const expected = segments.length === 1 ? 'POST' : 'PUT';
    if (request.method !== expected) throw fail(405, `${request.method} is not allowed on ${url.pathname}`);
    await downstream(request, response, kind, segments, url);
  };
  return startHttpServer('HTTP adapter', handle, { ...options, internalError: (message) => message });
}
