/**
 * Hono's HTTP protocol adapter, device side: telemetry and events from devices that log in with HTTP Basic
 * (`auth-id@tenant` and the password the registry holds), forwarded to the messaging network. Routes, headers and
 * status codes as Hono 2.6 documents them: `POST /telemetry|/event` for the device itself, `PUT
 * /telemetry|/event/{tenant}/{device}` for a device behind a gateway (the authenticated device must be in its
 * `via`), `QoS-Level`, `hono-ttd` (the request is held that long: commands come with a later part of the sandbox),
 * empty notifications, the payload limit (413), 400/401/403/404, and 503 when no consumer takes the message.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import { refused } from './errors.js';
import { type RunningServer, pathSegments, readBody, sendEmpty, startHttpServer } from './http.js';
import type { RunningMessaging } from './messaging.js';
import type { RegistryStore } from './registry-store.js';

export const EMPTY_NOTIFICATION = 'application/vnd.eclipse-hono-empty-notification';

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
): Promise<RunningServer> {
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://adapter');
    const segments = pathSegments(url.pathname, (reason) => fail(400, reason));
    const kind = segments[0];
    if (kind !== 'telemetry' && kind !== 'event') throw fail(404, `no resource at ${url.pathname}`);
    if (segments.length !== 1 && segments.length !== 3) throw fail(404, `no resource at ${url.pathname}`);
    const expected = segments.length === 1 ? 'POST' : 'PUT';
    if (request.method !== expected) throw fail(405, `${request.method} is not allowed on ${url.pathname}`);
    const device = await authenticate(request, registry);
    let target = device;
    if (segments.length === 3) {
      const tenant = segments[1] === '' ? device.tenant : segments[1]!;
      const deviceId = segments[2]!;
      if (tenant !== device.tenant) throw fail(403, 'a device may not send for another tenant');
      if (deviceId !== device.deviceId) {
        const behind = registry.device(tenant, deviceId);
        if (behind === undefined || behind.enabled === false) throw fail(404, `device ${deviceId} is unknown or disabled`);
        const via = Array.isArray(behind.via) ? behind.via : [];
        if (!via.includes(device.deviceId)) throw fail(403, `${device.deviceId} is not a gateway of ${deviceId}`);
      }
      target = { tenant, deviceId };
    }
    const qos = qosOf(request, kind);
    const ttd = ttdOf(request);
    const contentType = request.headers['content-type'];
    const payload = await readBody(request, options.maxPayloadBytes, () =>
      fail(413, `the payload exceeds ${options.maxPayloadBytes} bytes`),
    );
    if (contentType === undefined || contentType === '') throw fail(400, 'Content-Type is required');
    if (contentType === EMPTY_NOTIFICATION && payload.byteLength > 0) throw fail(400, 'an empty notification has no payload');
    if (contentType !== EMPTY_NOTIFICATION && payload.byteLength === 0) throw fail(400, 'the payload is empty');
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
    if (outcome === 'no-consumer') throw fail(503, 'no consumer for the message; try again later');
    if (outcome === 'rejected') throw fail(400, 'the consumer rejected the message');
    if (ttd !== undefined && ttd > 0) await holdFor(ttd * 1000, closing, request);
    sendEmpty(response, 202);
  };
  return startHttpServer('HTTP adapter', handle, { ...options, internalError: (message) => message });
}

/** Keeps a request with `hono-ttd` open for the device's wait (no command comes yet), until the sandbox closes or the device gives up. */
function holdFor(ms: number, closing: AbortSignal, request: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      closing.removeEventListener('abort', done);
      request.socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    closing.addEventListener('abort', done, { once: true });
    request.socket.once('close', done);
  });
}
