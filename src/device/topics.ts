/**
 * Hono MQTT adapter topics (Hono 2.6 user guide, "MQTT Adapter"): what an authenticated device or gateway
 * publishes to and subscribes to, and parsers for what the adapter publishes back.
 */
import { encodeComponent } from '../core/ids.js';

export interface TopicNames {
  telemetry: 'telemetry' | 't';
  event: 'event' | 'e';
  command: 'command' | 'c';
  req: 'req' | 'q';
  res: 'res' | 's';
  error: 'error' | 'e';
}

export const LONG_TOPICS: Readonly<TopicNames> = Object.freeze({
  telemetry: 'telemetry',
  event: 'event',
  command: 'command',
  req: 'req',
  res: 'res',
  error: 'error',
});

export const SHORT_TOPICS: Readonly<TopicNames> = Object.freeze({
  telemetry: 't',
  event: 'e',
  command: 'c',
  req: 'q',
  res: 's',
  // `e` would also be the short event endpoint; the long name keeps error reports unambiguous.
  error: 'error',
});

/** `?a=1&b=2` with URL-encoded names and values, or '' for none. */
export function encodePropertyBag(properties: Readonly<Record<string, string>> | undefined): string {
  if (properties === undefined) return '';
  const parts: string[] = [];
  for (const [name, value] of Object.entries(properties)) {
    parts.push(`${encodeComponent('properties', name)}=${encodeComponent(`properties.${name}`, value)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/**
 * `telemetry` (own device), `telemetry//{deviceId}` (gateway on behalf of a device), plus an optional
 * property bag: `telemetry/?content-type=application%2Fjson`.
 */
export function publishTopic(endpoint: string, deviceId: string | undefined, properties?: Readonly<Record<string, string>>): string {
  const base = deviceId === undefined ? endpoint : `${endpoint}//${deviceId}`;
  const bag = encodePropertyBag(properties);
  return bag === '' ? base : `${base}/${bag}`;
}

/** `command///res/{reqId}/{status}` or, for a gateway answering for a device, `command//{deviceId}/res/{reqId}/{status}`. */
export function commandResponseTopic(names: TopicNames, requestId: string, status: number, deviceId?: string): string {
  return `${names.command}/${deviceId === undefined ? '/' : `/${deviceId}`}/${names.res}/${requestId}/${status}`;
}

/** Own commands, and for a gateway also those of the devices it acts for. */
export function commandFilters(names: TopicNames, gateway: boolean): string[] {
  const own = `${names.command}///${names.req}/#`;
  return gateway ? [own, `${names.command}//+/${names.req}/#`] : [own];
}

export function errorFilters(names: TopicNames, gateway: boolean): string[] {
  const own = `${names.error}///#`;
  return gateway ? [own, `${names.error}//+/#`] : [own];
}

export interface CommandTopic {
  tenant: string;
  /** Empty for the device's own commands. */
  deviceId: string;
  /** Undefined for one-way commands. */
  requestId: string | undefined;
  name: string;
  properties: Record<string, string>;
}

function splitBag(rest: string): { head: string; properties: Record<string, string> } {
  const at = rest.indexOf('/?');
  if (at < 0) return { head: rest, properties: {} };
  const properties: Record<string, string> = {};
  for (const part of rest.slice(at + 2).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    try {
      const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      properties[name] = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    } catch {
      // A malformed escape: keep the raw text rather than lose the command.
      properties[part] = '';
    }
  }
  return { head: rest.slice(0, at), properties };
}

/** Parses `command/{tenant}/{device}/req/{reqId}/{name}` (long or short names); undefined for other topics. */
export function parseCommandTopic(topic: string): CommandTopic | undefined {
  const parts = topic.split('/');
  if (parts.length < 6) return undefined;
  const [endpoint, tenant = '', deviceId = '', req, requestId = ''] = parts;
  if ((endpoint !== 'command' && endpoint !== 'c') || (req !== 'req' && req !== 'q')) return undefined;
  const { head: name, properties } = splitBag(parts.slice(5).join('/'));
  if (name === '') return undefined;
  return { tenant, deviceId, requestId: requestId === '' ? undefined : requestId, name, properties };
}

export interface ErrorTopic {
  tenant: string;
  deviceId: string;
  /** `telemetry`, `event`, `command-response`, short forms, or `unknown`. */
  endpoint: string;
  correlationId: string;
  status: number;
}

/** Parses `error/{tenant}/{device}/{endpoint}/{correlationId}/{status}`; undefined for other topics. */
export function parseErrorTopic(topic: string): ErrorTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 6) return undefined;
  const [endpoint, tenant = '', deviceId = '', messageEndpoint = '', correlationId = '', status = ''] = parts;
  if (endpoint !== 'error' && endpoint !== 'e') return undefined;
  const code = Number(status);
  if (!Number.isInteger(code)) return undefined;
  return { tenant, deviceId, endpoint: messageEndpoint, correlationId, status: code };
}
