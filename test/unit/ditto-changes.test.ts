// The change stream against a real node:http server on 127.0.0.1 that streams, drops and refuses.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  BadRequestError,
  ExponentialBackoff,
  ForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
  TwinLedgerError,
  UnauthorizedError,
  ValidationError,
  type LogFields,
  type Logger,
  type RetryPolicy,
} from '../../src/core/index.js';
import { HttpClient } from '../../src/core/http.js';
import { defaultIdRules } from '../../src/core/ids.js';
import {
  ChangeStreamApi,
  type ChangeStreamOptions,
  MAX_SERVER_RETRY_MS,
  NOT_AN_EVENT_STREAM,
  type ThingChange,
} from '../../src/ditto/changes.js';
import { eq } from '../../src/ditto/rql.js';

interface Connection {
  index: number;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  socket: Socket;
  closed: Promise<void>;
}

interface TestServer {
  baseUrl: string;
  connections: Connection[];
  /** Resolves with the n-th connection (1-based) once it arrives. */
  connection(n: number): Promise<Connection>;
  openSockets(): number;
  close(): Promise<void>;
}

type Handler = (connection: Connection) => void | Promise<void>;

async function startServer(handler: Handler): Promise<TestServer> {
  const connections: Connection[] = [];
  const waiters = new Map<number, Array<(c: Connection) => void>>();
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const socket = req.socket;
    const connection: Connection = {
      index: connections.length + 1,
      req,
      res,
      url: new URL(req.url ?? '/', 'http://127.0.0.1'),
      socket,
      closed: socket.destroyed ? Promise.resolve() : once(socket, 'close').then(() => undefined),
    };
    connections.push(connection);
    for (const resolve of waiters.get(connection.index) ?? []) resolve(connection);
    void handler(connection);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    connections,
    connection(n) {
      const existing = connections[n - 1];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve) => waiters.set(n, [...(waiters.get(n) ?? []), resolve]));
    },
    openSockets: () => sockets.size,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function sse(res: ServerResponse, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

function event(data: unknown, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;
}

function logger(): Logger & { lines: Array<{ level: string; message: string; fields: LogFields }> } {
  const lines: Array<{ level: string; message: string; fields: LogFields }> = [];
  const push = (level: string) => (message: string, fields?: LogFields) => lines.push({ level, message, fields: fields ?? {} });
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

const fast = (maxAttempts = 5): RetryPolicy => new ExponentialBackoff({ initialDelayMs: 1, maxDelayMs: 5, maxAttempts });

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function api(baseUrl: string, log: Logger = logger()): ChangeStreamApi {
  const http = new HttpClient({ baseUrl, service: 'ditto', credentials: { type: 'basic', username: 'ditto', password: 'ditto' } });
  return new ChangeStreamApi(http, defaultIdRules, log);
}

async function take(iterable: AsyncIterable<ThingChange>, count: number): Promise<ThingChange[]> {
  const out: ThingChange[] = [];
  for await (const change of iterable) {
    out.push(change);
    if (out.length === count) break;
  }
  return out;
}

/** Waits until `check` holds, polling; fails after `ms`. For effects that follow a socket event. */
async function eventually(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('ChangeStreamApi.subscribe', () => {
  it('opens GET /api/2/things as an event stream with the filters as query parameters', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.write(event({ thingId: 'org.acme:lamp-1', features: { power: { properties: { on: true } } } }));
    });
    const stream = api(server.baseUrl).subscribe({
      ids: ['org.acme:lamp-1', 'org.acme:lamp-2'],
      namespaces: ['org.acme'],
      filter: eq('attributes/site', 'Plant "1"'),
      fields: ['features/power', 'attributes(site)'],
      extraFields: 'attributes/site',
      retry: fast(),
    });
    const [change] = await take(stream, 1);
    const { req, url } = server.connections[0] as Connection;
    assert.equal(url.pathname, '/api/2/things');
    assert.equal(req.headers.accept, 'text/event-stream');
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('ditto:ditto').toString('base64')}`);
    assert.equal(req.headers['last-event-id'], undefined);
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      ids: 'org.acme:lamp-1,org.acme:lamp-2',
      namespaces: 'org.acme',
      filter: 'eq(attributes/site,"Plant \\"1\\"")',
      // thingId is added so every change names its thing
      fields: 'thingId,features/power,attributes(site)',
      extraFields: 'attributes/site',
    });
    assert.equal(change?.thingId, 'org.acme:lamp-1');
    assert.deepEqual(change?.data, { thingId: 'org.acme:lamp-1', features: { power: { properties: { on: true } } } });
    assert.equal(change?.eventId, undefined);
    assert.ok(change && !Number.isNaN(Date.parse(change.receivedAt)));
  });

  it('timeoutMs bounds the connect only: a stream outliving it is not cut', async () => {
    const timeoutMs = 200;
    server = await startServer(({ index, res }) => {
      sse(res);
      let n = 0;
      const timer = setInterval(() => {
        n += 1;
        res.write(event({ thingId: `a:${n}`, attributes: { connection: index } }));
        if (n === 3) clearInterval(timer);
      }, 150);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const changes = await take(api(server.baseUrl).subscribe({ retry: fast(), timeoutMs }), 3);
    assert.deepEqual(
      changes.map((c) => c.thingId),
      ['a:1', 'a:2', 'a:3'],
    );
    // All three came over one connection that lived well past the deadline. (On a loaded machine a
    // connect may itself exceed the deadline and be retried; that is the deadline doing its job.)
    const connections = new Set(changes.map((c) => (c.data.attributes as { connection: number }).connection));
    assert.equal(connections.size, 1);
    assert.ok(Date.now() - started > timeoutMs);
  });

  it('leaves fields alone when they already select thingId', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.write(event({ thingId: 'a:b' }));
    });
    await take(api(server.baseUrl).subscribe({ fields: 'thingId,attributes', retry: fast() }), 1);
    assert.equal(server.connections[0]?.url.searchParams.get('fields'), 'thingId,attributes');
  });

  it('handles keep-alive comments, CRLF and events split across TCP chunks', async () => {
    server = await startServer(async ({ res }) => {
      sse(res);
      const pause = () => new Promise((resolve) => setTimeout(resolve, 15));
      res.write(':keep-alive\r\n\r\n');
      await pause();
      const bytes = Buffer.from('id: 1\r\ndata: {"thingId":"org.acme:küche-1",\r\ndata: "attributes":{"x":1}}\r\n\r\n', 'utf8');
      // Split inside the multi-byte "ü" and between CR and LF.
      const cuts = [5, 40, 41, bytes.indexOf('\n', 60)];
      let start = 0;
      for (const cut of cuts) {
        res.write(bytes.subarray(start, cut));
        start = cut;
        await pause();
      }
      res.write(bytes.subarray(start));
      res.write(': ping\n\n');
      res.write(event({ thingId: 'org.acme:lamp-2' }, '2'));
    });
    const changes = await take(api(server.baseUrl).subscribe({ retry: fast() }), 2);
    assert.deepEqual(
      changes.map((c) => [c.thingId, c.eventId, c.data]),
      [
        ['org.acme:küche-1', '1', { thingId: 'org.acme:küche-1', attributes: { x: 1 } }],
        ['org.acme:lamp-2', '2', { thingId: 'org.acme:lamp-2' }],
      ],
    );
  });

  it('reconnects after the connection drops mid-stream, sends Last-Event-ID and keeps yielding', async () => {
    const log = logger();
    server = await startServer(({ index, req, res, socket }) => {
      sse(res);
      if (index === 1) {
        res.write(event({ thingId: 'a:1', attributes: { n: 1 } }, 'ev-1'));
        res.write(event({ thingId: 'a:1', attributes: { n: 2 } }, 'ev-2'));
        // Half an event, then the connection dies: the half must be dropped, not delivered.
        res.write('id: ev-3\ndata: {"thingId":"a:1",');
        setTimeout(() => socket.destroy(), 20);
      } else {
        assert.equal(req.headers['last-event-id'], 'ev-2');
        res.write(event({ thingId: 'a:1', attributes: { n: 3 } }, 'ev-3'));
      }
    });
    const changes = await take(api(server.baseUrl, log).subscribe({ retry: fast() }), 3);
    assert.deepEqual(
      changes.map((c) => [c.eventId, c.data.attributes]),
      [
        ['ev-1', { n: 1 }],
        ['ev-2', { n: 2 }],
        ['ev-3', { n: 3 }],
      ],
    );
    assert.equal(server.connections.length, 2);
    assert.equal(server.connections[1]?.req.headers['last-event-id'], 'ev-2');
    const warn = log.lines.find((l) => l.message === 'change stream disconnected; reconnecting');
    assert.ok(warn, 'a reconnect warning was logged');
    assert.equal(warn.fields.attempt, 1);
    assert.equal(warn.fields.lastEventId, 'ev-2');
    assert.ok(log.lines.some((l) => l.level === 'info' && l.message === 'change stream reconnected'));
    assert.ok(!JSON.stringify(log.lines).includes('ZGl0dG86ZGl0dG8'), 'no credentials in logs');
  });

  it('reconnects when the server ends the stream cleanly, and starts from the given lastEventId', async () => {
    server = await startServer(({ index, res }) => {
      sse(res);
      res.end(event({ thingId: 'a:1', attributes: { connection: index } }));
    });
    const changes = await take(api(server.baseUrl).subscribe({ retry: fast(), lastEventId: 'resume-7' }), 3);
    assert.deepEqual(
      changes.map((c) => c.data.attributes),
      [{ connection: 1 }, { connection: 2 }, { connection: 3 }],
    );
    // The server never sent ids, so the caller's id stays in effect on every reconnect.
    assert.deepEqual(server.connections.map((c) => c.req.headers['last-event-id']).slice(0, 3), ['resume-7', 'resume-7', 'resume-7']);
  });

  it('resets the backoff after each successful connect', async () => {
    const attempts: number[] = [];
    const policy: RetryPolicy = {
      nextDelayMs(attempt) {
        attempts.push(attempt);
        return 1;
      },
    };
    server = await startServer(({ index, res }) => {
      if (index === 2 || index === 3) {
        res.writeHead(503).end();
        return;
      }
      sse(res);
      res.end(event({ thingId: 'a:1', attributes: { index } }));
    });
    const changes = await take(api(server.baseUrl).subscribe({ retry: policy }), 3);
    assert.deepEqual(
      changes.map((c) => c.data.attributes),
      [{ index: 1 }, { index: 4 }, { index: 5 }],
    );
    // drop (1) → 503 (2) → 503 (3) → connected, drop (1 again) → ...
    assert.deepEqual(attempts.slice(0, 4), [1, 2, 3, 1]);
  });

  it('closes the connection when the consumer breaks out of the loop', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.write(event({ thingId: 'a:1' }));
      res.write(event({ thingId: 'a:2' }));
    });
    const stream = api(server.baseUrl).subscribe({ retry: fast() });
    for await (const change of stream) {
      assert.equal(change.thingId, 'a:1');
      break;
    }
    const first = server.connections[0] as Connection;
    await first.closed;
    await eventually(() => server?.openSockets() === 0, 'the server sees every socket closed');
    assert.equal(server.connections.length, 1, 'no reconnect after break');
  });

  it('stops on abort while waiting for the next event, without throwing, and closes the socket', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.write(event({ thingId: 'a:1' }));
    });
    const controller = new AbortController();
    const received: string[] = [];
    const done = (async () => {
      for await (const change of api(server.baseUrl).subscribe({ retry: fast(), signal: controller.signal })) {
        received.push(change.thingId);
        setTimeout(() => controller.abort(), 10);
      }
    })();
    await done;
    assert.deepEqual(received, ['a:1']);
    await (server.connections[0] as Connection).closed;
    await eventually(() => server?.openSockets() === 0, 'the server sees every socket closed');
    assert.equal(server.connections.length, 1);
  });

  it('stops on abort during the wait before a reconnect', async () => {
    server = await startServer(({ res, socket }) => {
      sse(res);
      res.write(event({ thingId: 'a:1' }));
      setTimeout(() => socket.destroy(), 5);
    });
    const controller = new AbortController();
    const log = logger();
    const slow: RetryPolicy = { nextDelayMs: () => 60_000 };
    const received: string[] = [];
    const started = Date.now();
    const done = (async () => {
      for await (const change of api(server.baseUrl, log).subscribe({ retry: slow, signal: controller.signal })) {
        received.push(change.thingId);
      }
    })();
    await eventually(() => log.lines.some((l) => l.message === 'change stream disconnected; reconnecting'), 'the disconnect');
    controller.abort();
    await done;
    assert.deepEqual(received, ['a:1']);
    assert.ok(Date.now() - started < 30_000, 'did not sit out the 60 s backoff');
    assert.equal(server.connections.length, 1);
  });

  it('caps a huge server retry: field at 60 s instead of reconnecting in a busy loop', async () => {
    server = await startServer(({ res, socket }) => {
      sse(res);
      // 3e9 ms is beyond Node's timer limit; unclamped, the wait would fire after 1 ms.
      res.write(`retry: 3000000000\n\n${event({ thingId: 'a:1' })}`);
      setTimeout(() => socket.destroy(), 5);
    });
    const controller = new AbortController();
    const log = logger();
    const received: string[] = [];
    const done = (async () => {
      for await (const change of api(server.baseUrl, log).subscribe({ retry: fast(), signal: controller.signal })) {
        received.push(change.thingId);
      }
    })();
    const reconnecting = () => log.lines.find((l) => l.message === 'change stream disconnected; reconnecting');
    await eventually(() => reconnecting() !== undefined, 'the disconnect');
    assert.equal(reconnecting()?.fields.delayMs, MAX_SERVER_RETRY_MS);
    // Let many timer turns pass: an overflowing timer would have fired and reconnected by now.
    for (let turn = 0; turn < 10; turn += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(server.connections.length, 1, 'reconnected although the server asked for a long wait');
    controller.abort();
    await done;
    assert.deepEqual(received, ['a:1']);
    assert.equal(server.connections.length, 1);
  });

  it('honours a server retry: field below the cap', async () => {
    server = await startServer(({ res, socket }) => {
      sse(res);
      res.write(`retry: 45000\n\n${event({ thingId: 'a:1' })}`);
      setTimeout(() => socket.destroy(), 5);
    });
    const controller = new AbortController();
    const log = logger();
    const done = (async () => {
      for await (const change of api(server.baseUrl, log).subscribe({ retry: fast(), signal: controller.signal })) void change;
    })();
    const reconnecting = () => log.lines.find((l) => l.message === 'change stream disconnected; reconnecting');
    await eventually(() => reconnecting() !== undefined, 'the disconnect');
    assert.equal(reconnecting()?.fields.delayMs, 45_000);
    controller.abort();
    await done;
    assert.equal(server.connections.length, 1);
  });

  it('ends at once when the signal is already aborted', async () => {
    server = await startServer(({ res }) => sse(res));
    const changes = await take(api(server.baseUrl).subscribe({ signal: AbortSignal.abort() }), 1);
    assert.deepEqual(changes, []);
    assert.equal(server.connections.length, 0);
  });

  for (const [status, ErrorClass] of [
    [400, BadRequestError],
    [401, UnauthorizedError],
    [403, ForbiddenError],
    [404, NotFoundError],
  ] as const) {
    it(`throws ${ErrorClass.name} on ${status} without retrying`, async () => {
      server = await startServer(({ res }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status, error: 'gateway:some.error', message: 'nope' }));
      });
      await assert.rejects(take(api(server.baseUrl).subscribe({ retry: fast() }), 1), (error: unknown) => {
        assert.ok(error instanceof ErrorClass);
        assert.equal(error.status, status);
        assert.equal(error.upstreamCode, 'gateway:some.error');
        return true;
      });
      assert.equal(server.connections.length, 1);
    });
  }

  it('retries 503 on connect, then streams', async () => {
    server = await startServer(({ index, res }) => {
      if (index < 3) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":503}');
        return;
      }
      sse(res);
      res.write(event({ thingId: 'a:1' }));
    });
    const [change] = await take(api(server.baseUrl).subscribe({ retry: fast() }), 1);
    assert.equal(change?.thingId, 'a:1');
    assert.equal(server.connections.length, 3);
  });

  it('gives up with the last error when the retry policy says so', async () => {
    const log = logger();
    server = await startServer(({ res }) => {
      res.writeHead(503).end();
    });
    await assert.rejects(take(api(server.baseUrl, log).subscribe({ retry: fast(3) }), 1), ServiceUnavailableError);
    assert.equal(server.connections.length, 3);
    assert.ok(log.lines.some((l) => l.level === 'error' && l.message === 'change stream gave up reconnecting'));
  });

  it('refuses a 200 answer that is not an event stream, without retrying', async () => {
    server = await startServer(({ res }) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[]');
    });
    await assert.rejects(take(api(server.baseUrl).subscribe({ retry: fast() }), 1), (error: unknown) => {
      assert.ok(error instanceof TwinLedgerError);
      assert.equal(error.code, NOT_AN_EVENT_STREAM);
      return true;
    });
    assert.equal(server.connections.length, 1);
  });

  it('ends without reconnecting on 204 No Content', async () => {
    server = await startServer(({ res }) => {
      res.writeHead(204).end();
    });
    assert.deepEqual(await take(api(server.baseUrl).subscribe({ retry: fast() }), 1), []);
    assert.equal(server.connections.length, 1);
  });

  it('reconnects when the connection goes silent for longer than idleTimeoutMs', async () => {
    server = await startServer(({ index, res }) => {
      sse(res);
      if (index >= 2) res.write(event({ thingId: 'a:after-idle' }));
      // connection 1: headers only, then silence (a half-open connection looks like this)
    });
    const [change] = await take(api(server.baseUrl).subscribe({ retry: fast(), idleTimeoutMs: 50 }), 1);
    assert.equal(change?.thingId, 'a:after-idle');
    assert.ok(server.connections.length >= 2, 'the silent connection was given up');
  });

  it('skips events that are not things, with a warning', async () => {
    const log = logger();
    server = await startServer(({ res }) => {
      sse(res);
      res.write('data: not json\n\n');
      res.write(event([1, 2]));
      res.write(event({ attributes: {} }));
      res.write('event: custom\ndata: {"thingId":"a:ok"}\n\n');
    });
    const [change] = await take(api(server.baseUrl, log).subscribe({ retry: fast() }), 1);
    assert.equal(change?.thingId, 'a:ok');
    assert.equal(change?.event, 'custom');
    assert.equal(log.lines.filter((l) => l.level === 'warn' && l.message.startsWith('change stream event skipped')).length, 3);
  });

  it('validates options before connecting', () => {
    const changes = api('http://127.0.0.1:9');
    const invalid: Array<[ChangeStreamOptions, string]> = [
      [{ ids: [] }, 'ids'],
      [{ ids: ['no-namespace-separator'] }, 'ids[0]'],
      [{ namespaces: ['org.acme', 'bad ns'] }, 'namespaces[1]'],
      [{ filter: '' }, 'filter'],
      [{ fields: [] }, 'fields'],
      [{ idleTimeoutMs: 0 }, 'idleTimeoutMs'],
      [{ lastEventId: 'a\nb' }, 'lastEventId'],
      [{ headers: { 'x-test': 'a\r\nb' } }, 'headers.x-test'],
    ];
    for (const [options, field] of invalid) {
      assert.throws(
        () => changes.subscribe(options),
        (error: unknown) => error instanceof ValidationError && error.field === field,
        field,
      );
    }
  });
});
