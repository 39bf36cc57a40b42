/**
 * Ditto's HTTP API v2 for the sandbox (this part: things and their parts, policies, whoami): basic authentication of
 * the sandbox's users, routing, `fields`, `If-Match` / `If-None-Match` with `"rev:N"` ETags, and the status codes
 * and error bodies of Ditto. What each operation does is in ditto-store.ts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import { type Json, type JsonObject, getAt, pointerTokens, selectFields } from './ditto-json.js';
import { cursorAt, parseOptions, parseRql, sortThings } from './ditto-rql.js';
import { changeStream, thingHistory, wantsEventStream } from './ditto-streams.js';
import { type Conditions, type DittoStore, ENTITY_ID, type Stored, dittoError, etagOf } from './ditto-store.js';
import { type RunningServer, parseJsonBody, pathSegments, readBody, sendEmpty, sendJson, startHttpServer } from './http.js';
import type { RunningMessaging } from './messaging.js';

/** A user of the sandbox's Ditto and the subjects it authenticates as. */
export interface DittoUser {
  username: string;
  password: string;
  subjects: string[];
}

export interface DittoServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  users: readonly DittoUser[];
  logger: Logger;
  /** Where messages to things go as Hono commands (the Cloud2Edge wiring). */
  messaging: RunningMessaging;
}

/** One request on a thing or a part of it. */
interface ThingCall {
  request: IncomingMessage;
  response: ServerResponse;
  subjects: string[];
  thingId: string;
  path: string[];
  url: URL;
}

/** `[/features/{id}]/inbox/messages/{subject…}`: a message to the thing or one of its features. */
function messagePath(path: readonly string[]): { subject: string } | undefined {
  const at = path[0] === 'features' ? 2 : 0;
  if (path[at] !== 'inbox' || path[at + 1] !== 'messages' || path.length <= at + 2) return undefined;
  return { subject: path.slice(at + 2).join('/') };
}

function authenticate(request: IncomingMessage, users: readonly DittoUser[]): string[] {
  const header = request.headers.authorization;
  const unauthorized = () =>
    dittoError(
      401,
      'gateway:authentication.failed',
      'The credentials are missing or wrong.',
      'Log in with HTTP Basic, e.g. ditto / ditto.',
      {
        'www-authenticate': 'Basic realm="DITTO"',
      },
    );
  if (header === undefined || !/^Basic /i.test(header)) throw unauthorized();
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = users.find((candidate) => candidate.username === decoded.slice(0, colon) && candidate.password === decoded.slice(colon + 1));
  if (colon < 0 || user === undefined) throw unauthorized();
  return user.subjects;
}

function conditionsOf(request: IncomingMessage): Conditions {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(',') : value;
  };
  return { ifMatch: header('if-match'), ifNoneMatch: header('if-none-match') };
}

/** The document with `_revision`, `_created`, `_modified` when `fields` asks for them, then only the fields asked for. */
function shaped(value: Json, stored: Stored, fields: string | null, root: boolean): Json {
  if (!root || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const meta = { _revision: stored.revision, _created: stored.created, _modified: stored.modified };
  return fields === null ? value : selectFields({ ...value, ...meta } as JsonObject, fields);
}

export function startDittoServer(store: DittoStore, options: DittoServerOptions): Promise<RunningServer> {
  const body = async (request: IncomingMessage): Promise<Json> => {
    const raw = await readBody(request, options.maxBodyBytes, () =>
      dittoError(413, 'things:thing.toolarge', `The size of the request exceeds the limit of ${options.maxBodyBytes} bytes.`),
    );
    const value = parseJsonBody(raw, (reason) => dittoError(400, 'json.invalid', 'Failed to parse JSON string.', reason));
    if (value === undefined) throw dittoError(400, 'json.invalid', 'The request has no JSON body.');
    return value as Json;
  };

  /**
   * A message to a thing: a Hono command to its device (Ditto Protocol `live/messages` envelope, the subject as the
   * command's name), its response as the HTTP answer; `timeout` (seconds, 0–60, default 10) bounds the wait, 0 does
   * not wait (202). 408 when the device does not answer in time, 503 when it does not listen for commands.
   */
  const message = async ({ request, response, subjects, thingId, path, url }: ThingCall) => {
    if (request.method !== 'POST') throw dittoError(405, 'method.notallowed', `${request.method} is not allowed here.`);
    const { subject } = messagePath(path)!;
    const timeoutText = url.searchParams.get('timeout') ?? '10';
    if (!/^\d+$/.test(timeoutText) || Number(timeoutText) > 60) {
      throw dittoError(400, 'timeout.invalid', 'The timeout must be a number of seconds from 0 to 60.');
    }
    const timeoutSeconds = Number(timeoutText);
    const { tenant } = store.messageRoute(thingId, path, subjects);
    const raw = await readBody(request, options.maxBodyBytes, () =>
      dittoError(413, 'messages:payload.toolarge', 'The message payload is too large.'),
    );
    const contentType = request.headers['content-type'] ?? 'application/octet-stream';
    let value: Json = raw.toString('utf8');
    if (/json/i.test(contentType) && raw.byteLength > 0) {
      try {
        value = JSON.parse(value) as Json;
      } catch {
        throw dittoError(400, 'messages:messageformat.invalid', 'The payload is not the JSON its content type says.');
      }
    }
    const correlationId = randomUUID();
    const colon = thingId.indexOf(':');
    const envelope = {
      topic: `${thingId.slice(0, colon)}/${thingId.slice(colon + 1)}/things/live/messages/${subject}`,
      headers: {
        'correlation-id': correlationId,
        'content-type': contentType,
        subject,
        timeout: String(timeoutSeconds),
        'response-required': timeoutSeconds > 0,
      },
      path: `/${path.join('/')}`,
      value,
    };
    const replyTo = `sandbox/ditto-messages/${correlationId}`;
    const delivered =
      tenant !== undefined &&
      options.messaging.commandDevice({
        tenant,
        deviceId: thingId,
        name: subject,
        contentType: 'application/vnd.eclipse.ditto+json',
        payload: Buffer.from(JSON.stringify(envelope)),
        ...(timeoutSeconds > 0 ? { reply: { correlationId, replyTo } } : {}),
      });
    if (timeoutSeconds === 0) {
      sendEmpty(response, 202);
      return;
    }
    if (!delivered) {
      throw dittoError(
        503,
        'connectivity:target.unavailable',
        `The device of '${thingId}' does not listen for commands now.`,
        'It receives messages while it is connected and subscribed (MQTT) or polling (HTTP).',
      );
    }
    const answer = await options.messaging.localResponse(replyTo, correlationId, timeoutSeconds * 1000);
    if (answer === undefined)
      throw dittoError(408, 'command.timeout', `The device did not answer the message '${subject}' within ${timeoutSeconds} s.`);
    let reply: { status?: unknown; value?: Json; headers?: Record<string, unknown> } = {};
    try {
      reply = JSON.parse(answer.payload.toString('utf8')) as typeof reply;
    } catch {
      reply = { value: answer.payload.toString('utf8') };
    }
    const status = typeof reply.status === 'number' ? reply.status : answer.status;
    const replyType = typeof reply.headers?.['content-type'] === 'string' ? (reply.headers['content-type'] as string) : 'application/json';
    if (reply.value === undefined) {
      sendEmpty(response, status);
      return;
    }
    const text = typeof reply.value === 'string' && !/json/i.test(replyType) ? reply.value : JSON.stringify(reply.value);
    response.writeHead(status, { 'content-type': replyType, 'content-length': Buffer.byteLength(text) });
    response.end(text);
  };

  const things = async (call: ThingCall) => {
    const { request, response, subjects, thingId, path, url } = call;
    if (messagePath(path) !== undefined) {
      await message(call);
      return;
    }
    const conditions = conditionsOf(request);
    // `condition` (query parameter or header): the request applies only when the thing, as it is, matches the RQL.
    const condition =
      url.searchParams.get('condition') ?? (typeof request.headers.condition === 'string' ? request.headers.condition : null);
    if (condition !== null) {
      const current = store.currentThing(thingId);
      if (current !== undefined) {
        store.getThing(thingId, [], subjects, { ifMatch: undefined, ifNoneMatch: undefined });
        if (!parseRql(condition)(current)) {
          throw dittoError(412, 'things:condition.failed', `The condition '${condition}' is not met by the Thing '${thingId}'.`);
        }
      }
    }
    switch (request.method) {
      case 'GET': {
        const atRevision = request.headers['at-historical-revision'];
        const atTimestamp = request.headers['at-historical-timestamp'];
        if (typeof atRevision === 'string' || typeof atTimestamp === 'string') {
          const then = store.thingAt(
            thingId,
            typeof atRevision === 'string' ? { revision: Number(atRevision) } : { timestamp: atTimestamp as string },
            subjects,
          );
          const part = path.length === 0 ? then.value : getAt(then.value, path);
          if (part === undefined)
            throw dittoError(404, 'things:thing.history.notfound', `The Thing '${thingId}' had no ${path.join('/')} then.`);
          sendJson(response, 200, shaped(part, then, url.searchParams.get('fields'), path.length === 0), { etag: etagOf(then.revision) });
          return;
        }
        const { value, stored } = store.getThing(thingId, path, subjects, conditions);
        sendJson(response, 200, shaped(value, stored, url.searchParams.get('fields'), path.length === 0), {
          etag: etagOf(stored.revision),
        });
        return;
      }
      case 'PUT': {
        const { created, stored } = await store.putThing(thingId, path, await body(request), subjects, conditions);
        const etag = etagOf(stored.revision);
        if (!created) {
          sendEmpty(response, 204, { etag });
          return;
        }
        const location = `/api/2/things/${encodeURIComponent(thingId)}${path.map((token) => `/${encodeURIComponent(token)}`).join('')}`;
        sendJson(
          response,
          201,
          path.length === 0
            ? stored.value
            : (await store.getThing(thingId, path, subjects, { ifMatch: undefined, ifNoneMatch: undefined })).value,
          { etag, location },
        );
        return;
      }
      case 'PATCH': {
        const type = request.headers['content-type'] ?? '';
        if (!/^application\/merge-patch\+json\b/i.test(type)) {
          throw dittoError(
            415,
            'mediatype.unsupported',
            `The media type '${type}' is not supported for PATCH: use application/merge-patch+json.`,
          );
        }
        const stored = await store.mergeThing(thingId, path, await body(request), subjects, conditions);
        sendEmpty(response, 204, { etag: etagOf(stored.revision) });
        return;
      }
      case 'DELETE':
        await store.deleteThing(thingId, path, subjects, conditions);
        sendEmpty(response, 204);
        return;
      default:
        throw dittoError(405, 'method.notallowed', `${request.method} is not allowed here.`);
    }
  };

  const policies = async (request: IncomingMessage, response: ServerResponse, subjects: string[], policyId: string, path: string[]) => {
    const conditions = conditionsOf(request);
    if (path.length > 0) {
      await policyPart(request, response, subjects, policyId, path, conditions);
      return;
    }
    switch (request.method) {
      case 'GET': {
        const stored = store.getPolicy(policyId, subjects, conditions);
        sendJson(response, 200, stored.value, { etag: etagOf(stored.revision) });
        return;
      }
      case 'PUT': {
        const { created, stored } = await store.putPolicy(policyId, await body(request), subjects, conditions);
        const etag = etagOf(stored.revision);
        if (created) sendJson(response, 201, stored.value, { etag, location: `/api/2/policies/${encodeURIComponent(policyId)}` });
        else sendEmpty(response, 204, { etag });
        return;
      }
      case 'DELETE':
        await store.deletePolicy(policyId, subjects, conditions);
        sendEmpty(response, 204);
        return;
      default:
        throw dittoError(405, 'method.notallowed', `${request.method} is not allowed here.`);
    }
  };

  const policyPart = async (
    request: IncomingMessage,
    response: ServerResponse,
    subjects: string[],
    policyId: string,
    path: string[],
    conditions: Conditions,
  ) => {
    switch (request.method) {
      case 'GET': {
        const { value, stored } = store.getPolicyPart(policyId, path, subjects, conditions);
        sendJson(response, 200, value, { etag: etagOf(stored.revision) });
        return;
      }
      case 'PUT': {
        const value = await body(request);
        const { created, stored } = await store.putPolicyPart(policyId, path, value, subjects, conditions);
        if (created) sendJson(response, 201, value, { etag: etagOf(stored.revision) });
        else sendEmpty(response, 204, { etag: etagOf(stored.revision) });
        return;
      }
      case 'DELETE':
        await store.deletePolicyPart(policyId, path, subjects, conditions);
        sendEmpty(response, 204);
        return;
      default:
        throw dittoError(405, 'method.notallowed', `${request.method} is not allowed here.`);
    }
  };

  /** Connections are the devops user's: anyone else gets 403, as from Ditto's devops route. */
  const connections = async (
    request: IncomingMessage,
    response: ServerResponse,
    subjects: string[],
    connectionId: string,
    path: string[],
  ) => {
    if (!subjects.includes('nginx:devops')) {
      throw dittoError(
        403,
        'gateway:authentication.forbidden',
        'Connections are managed by the devops user.',
        'Use devops / DITTO_DEVOPS_PWD.',
      );
    }
    if (path.length > 0) throw dittoError(404, 'not.found', 'The sandbox stores connections as whole resources only.');
    switch (request.method) {
      case 'GET': {
        const stored = store.getConnection(connectionId);
        sendJson(response, 200, stored.value, { etag: etagOf(stored.revision) });
        return;
      }
      case 'PUT': {
        const { created, stored } = await store.putConnection(connectionId, await body(request));
        if (created)
          sendJson(response, 201, stored.value, {
            etag: etagOf(stored.revision),
            location: `/api/2/connections/${encodeURIComponent(connectionId)}`,
          });
        else sendEmpty(response, 204, { etag: etagOf(stored.revision) });
        return;
      }
      case 'DELETE':
        await store.deleteConnection(connectionId);
        sendEmpty(response, 204);
        return;
      default:
        throw dittoError(405, 'method.notallowed', `${request.method} is not allowed here.`);
    }
  };

  /** `/search/things[/count]`: RQL `filter`, `namespaces`, `option` (sort, size, cursor), `fields`; GET or a form POST. */
  const search = async (request: IncomingMessage, response: ServerResponse, subjects: string[], url: URL, count: boolean) => {
    let params = url.searchParams;
    if (request.method === 'POST') {
      const raw = await readBody(request, options.maxBodyBytes, () =>
        dittoError(413, 'thing-search:query.toolarge', 'The query is too large.'),
      );
      params = new URLSearchParams(raw.toString('utf8'));
    }
    const matches = parseRql(params.get('filter'));
    const namespaces = params
      .get('namespaces')
      ?.split(',')
      .filter((namespace) => namespace !== '');
    const found = store
      .readableThings(subjects)
      .filter((stored) => namespaces === undefined || namespaces.includes(String(stored.value.thingId).split(':')[0]!))
      .filter((stored) => matches({ ...stored.value, _revision: stored.revision, _modified: stored.modified, _created: stored.created }));
    if (count) {
      sendJson(response, 200, found.length);
      return;
    }
    const { sort, size, offset } = parseOptions(params.get('option'));
    const sorted = sortThings(
      found.map((stored) => ({ ...stored.value, _revision: stored.revision, _modified: stored.modified, _created: stored.created })),
      sort,
    );
    const page = sorted.slice(offset, offset + size).map((thing) => {
      const fields = params.get('fields');
      if (fields !== null) return selectFields(thing, fields);
      const { _revision: _r, _modified: _m, _created: _c, ...plain } = thing;
      return plain;
    });
    sendJson(response, 200, { items: page, ...(offset + size < sorted.length ? { cursor: cursorAt(offset + size) } : {}) });
  };

  return startHttpServer(
    'Ditto',
    async (request, response) => {
      const url = new URL(request.url ?? '/', 'http://ditto');
      const segments = pathSegments(url.pathname, (reason) => dittoError(400, 'uri.invalid', reason));
      if (segments[0] !== 'api' || segments[1] !== '2') throw dittoError(404, 'not.found', `no resource at ${url.pathname}`);
      const subjects = authenticate(request, options.users);
      const [resource, id, ...rest] = segments.slice(2);
      if (resource === 'whoami' && id === undefined && request.method === 'GET') {
        sendJson(response, 200, { defaultSubject: subjects[0] ?? null, subjects });
        return;
      }
      if (resource === 'search' && id === 'things' && (request.method === 'GET' || request.method === 'POST')) {
        await search(request, response, subjects, url, rest[0] === 'count');
        return;
      }
      if (resource === 'things' && (id === undefined || id === '') && request.method === 'GET') {
        if (wantsEventStream(request)) {
          changeStream(store, request, response, subjects, url);
          return;
        }
        const ids = url.searchParams.get('ids');
        if (ids !== null) {
          const found = store.listThings(
            ids.split(',').filter((entry) => entry !== ''),
            subjects,
          );
          sendJson(
            response,
            200,
            found.map((stored) => shaped(stored.value, stored, url.searchParams.get('fields'), true)),
          );
          return;
        }
      }
      if (resource === 'things' && id !== undefined && rest.length === 0 && request.method === 'GET' && wantsEventStream(request)) {
        thingHistory(store, request, response, subjects, id, url);
        return;
      }
      if (resource === 'connections' && id !== undefined && id !== '') {
        await connections(request, response, subjects, id, rest);
        return;
      }
      if ((resource !== 'things' && resource !== 'policies') || id === undefined || id === '') {
        throw dittoError(404, 'not.found', `The sandbox does not serve ${url.pathname} (yet): see docs/sandbox.md.`);
      }
      if (!ENTITY_ID.test(id)) {
        throw dittoError(
          400,
          resource === 'things' ? 'things:id.invalid' : 'policies:id.invalid',
          `The ID '${id}' is not valid: it must be 'namespace:name'.`,
        );
      }
      const path = pointerTokens(rest.map((token) => token.replace(/~/g, '~0').replace(/\//g, '~1')).join('/'));
      if (resource === 'things') await things({ request, response, subjects, thingId: id, path, url });
      else await policies(request, response, subjects, id, path);
    },
    { ...options, internalError: (message) => ({ status: 500, error: 'internal.error', message }) },
  );
}
