/**
 * Ditto's server-sent event streams for the sandbox: the change stream (`GET /api/2/things`, `Accept:
 * text/event-stream`, with `ids`, `namespaces`, `fields`) and a thing's history (`GET /api/2/things/{id}` with
 * `from-historical-revision` / `-timestamp` and optional `to-…`), replayed from the changes the sandbox records and,
 * without an end, followed by the live changes. Each event is the changed part shaped like a thing, with `thingId`,
 * `_revision`, `_modified` and `_context` (`topic`, `path`, `value`), as Ditto 3.5 sends them; `fields` selects.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type JsonObject, selectFields, setAt, pointerTokens } from './ditto-json.js';
import { parseRql } from './ditto-rql.js';
import { type DittoStore, type ThingEvent, dittoError } from './ditto-store.js';

export function wantsEventStream(request: IncomingMessage): boolean {
  return /text\/event-stream/i.test(request.headers.accept ?? '');
}

function eventData(event: ThingEvent): JsonObject {
  const path = pointerTokens(event.path);
  const part = event.action === 'deleted' ? {} : path.length === 0 ? (event.value as JsonObject) : setAt({}, path, event.value ?? null);
  const colon = event.thingId.indexOf(':');
  return {
    ...part,
    thingId: event.thingId,
    _revision: event.revision,
    _modified: event.modified,
    _context: {
      topic: `${event.thingId.slice(0, colon)}/${event.thingId.slice(colon + 1)}/things/twin/events/${event.action}`,
      path: event.path,
      ...(event.value === undefined ? {} : { value: event.value }),
    },
  };
}

function open(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  response.write(':\n\n');
}

function send(response: ServerResponse, event: ThingEvent, fields: string | null): void {
  const data = eventData(event);
  response.write(`data: ${JSON.stringify(fields === null ? data : { ...selectFields(data, fields), thingId: event.thingId })}\n\n`);
}

/** Keeps the stream open with the live changes `accept` lets through, until the client goes away. */
function follow(
  store: DittoStore,
  request: IncomingMessage,
  response: ServerResponse,
  accept: (event: ThingEvent) => boolean,
  fields: string | null,
): void {
  const stop = store.onChange((event) => {
    if (accept(event)) send(response, event, fields);
  });
  const keepAlive = setInterval(() => response.write(':\n\n'), 30_000);
  const end = () => {
    stop();
    clearInterval(keepAlive);
  };
  request.socket.once('close', end);
  response.once('close', end);
}

export function changeStream(
  store: DittoStore,
  request: IncomingMessage,
  response: ServerResponse,
  subjects: readonly string[],
  url: URL,
): void {
  // Ditto tests the filter on the thing as the change left it.
  const matches = parseRql(url.searchParams.get('filter'));
  const ids = url.searchParams
    .get('ids')
    ?.split(',')
    .filter((id) => id !== '');
  const namespaces = url.searchParams
    .get('namespaces')
    ?.split(',')
    .filter((namespace) => namespace !== '');
  open(response);
  follow(
    store,
    request,
    response,
    (event) =>
      (ids === undefined || ids.includes(event.thingId)) &&
      (namespaces === undefined || namespaces.includes(event.thingId.slice(0, event.thingId.indexOf(':')))) &&
      store.mayRead(event.policyId, subjects) &&
      matches(store.currentThing(event.thingId) ?? { thingId: event.thingId }),
    url.searchParams.get('fields'),
  );
}

export function thingHistory(
  store: DittoStore,
  request: IncomingMessage,
  response: ServerResponse,
  subjects: readonly string[],
  thingId: string,
  url: URL,
): void {
  const params = url.searchParams;
  const fields = params.get('fields');
  const fromRevision = params.get('from-historical-revision');
  const fromTimestamp = params.get('from-historical-timestamp');
  const toRevision = params.get('to-historical-revision');
  const toTimestamp = params.get('to-historical-timestamp');
  let events = store.history(thingId, 0);
  const current = events.at(-1)?.revision ?? 0;
  if (events.length === 0 || !store.mayRead(events.at(-1)!.policyId, subjects)) throw store.thingNotFound(thingId);
  let bounded = false;
  if (fromRevision !== null) {
    const end = toRevision === null ? Number.MAX_SAFE_INTEGER : Number(toRevision) <= 0 ? current + Number(toRevision) : Number(toRevision);
    const start =
      Number(fromRevision) <= 0
        ? end === Number.MAX_SAFE_INTEGER
          ? current + Number(fromRevision)
          : end + Number(fromRevision)
        : Number(fromRevision);
    if (!Number.isFinite(start) || !Number.isFinite(end))
      throw dittoError(400, 'things:history.invalid', 'The historical revisions must be numbers.');
    events = events.filter((event) => event.revision >= start && event.revision <= end);
    bounded = toRevision !== null;
  } else if (fromTimestamp !== null) {
    const start = Date.parse(fromTimestamp);
    const end = toTimestamp === null ? Number.POSITIVE_INFINITY : Date.parse(toTimestamp);
    if (Number.isNaN(start) || Number.isNaN(end))
      throw dittoError(400, 'things:history.invalid', 'The historical timestamps must be ISO-8601.');
    events = events.filter((event) => Date.parse(event.modified) > start && Date.parse(event.modified) < end);
    bounded = toTimestamp !== null;
  } else {
    events = [];
  }
  open(response);
  for (const event of events) send(response, event, fields);
  if (bounded) {
    response.end();
    return;
  }
  follow(store, request, response, (event) => event.thingId === thingId && store.mayRead(event.policyId, subjects), fields);
}
