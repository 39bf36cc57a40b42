// things.history(): a thing's recorded changes over SSE, against a real node:http server on 127.0.0.1 that answers
// like Ditto 3.5's gateway (GET /api/2/things/{thingId}, from-/to-historical-* parameters, a completed response at
// the end of the range, a keep-alive every second).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  BadRequestError,
  ExponentialBackoff,
  NotFoundError,
  ValidationError,
  type LogFields,
  type Logger,
  type RetryPolicy,
} from '../../src/core/index.js';
import { DittoClient, type ThingHistoryChange, type ThingHistoryOptions, rql } from '../../src/ditto/index.js';

const THING = 'org.acme:lamp-1';
const THING_PATH = '/api/2/things/org.acme%3Alamp-1';

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
  connection(n: number): Promise<Connection>;
  close(): Promise<void>;
}

async function startServer(handler: (connection: Connection) => void | Promise<void>): Promise<TestServer> {
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
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

/** A change as Ditto's SSE sends it: the normalised thing with the selected `_revision` and `_modified`. */
function change(revision: number, extra: Record<string, unknown> = {}, modified = `2024-05-01T10:00:0${revision % 10}.500123Z`): string {
  return `data:${JSON.stringify({ thingId: THING, attributes: { counter: revision }, _revision: revision, _modified: modified, ...extra })}\n\n`;
}

function capturingLogger(): Logger & { lines: Array<{ level: string; message: string; fields: LogFields }> } {
  const lines: Array<{ level: string; message: string; fields: LogFields }> = [];
  const push = (level: string) => (message: string, fields?: LogFields) => lines.push({ level, message, fields: fields ?? {} });
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

const fast = (maxAttempts = 5): RetryPolicy => new ExponentialBackoff({ initialDelayMs: 1, maxDelayMs: 5, maxAttempts });

let server: TestServer | undefined;
let client: DittoClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await server?.close();
  server = undefined;
});

function ditto(baseUrl: string, logger: Logger = capturingLogger()): DittoClient {
  client = new DittoClient({ baseUrl, credentials: { type: 'basic', username: 'ditto', password: 'ditto' }, logger, retry: fast(2) });
  return client;
}

async function collect(iterable: AsyncIterable<ThingHistoryChange>): Promise<ThingHistoryChange[]> {
  const out: ThingHistoryChange[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('things.history', () => {
  it('streams GET /api/2/things/{thingId} as SSE, yields the changes in order and ends when Ditto completes', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      // Ditto's keep-alive is an empty line; comments may come too.
      res.write('\n');
      res.write(change(1, { policyId: THING }));
      res.write(':keep-alive\n\n');
      res.write(change(2));
      res.end(change(3));
    });
    const changes = await collect(ditto(server.baseUrl).things.history(THING, { fromHistoricalRevision: 1, toHistoricalRevision: 3 }));
    assert.equal(server.connections.length, 1, 'no reconnect after the completed response');
    const { req, url } = server.connections[0] as Connection;
    assert.equal(url.pathname, THING_PATH);
    assert.equal(req.headers.accept, 'text/event-stream');
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('ditto:ditto').toString('base64')}`);
    assert.equal(req.headers['last-event-id'], undefined);
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      'from-historical-revision': '1',
      'to-historical-revision': '3',
      fields: 'thingId,policyId,definition,attributes,features,_revision,_modified',
    });
    assert.deepEqual(
      changes.map((c) => [c.thingId, c.revision, c.timestamp]),
      [
        [THING, 1, '2024-05-01T10:00:01.500123Z'],
        [THING, 2, '2024-05-01T10:00:02.500123Z'],
        [THING, 3, '2024-05-01T10:00:03.500123Z'],
      ],
    );
    assert.deepEqual(changes[0]?.data, {
      thingId: THING,
      policyId: THING,
      attributes: { counter: 1 },
      _revision: 1,
      _modified: '2024-05-01T10:00:01.500123Z',
    });
    assert.equal(changes[0]?.context, undefined);
    assert.ok(changes.every((c) => !Number.isNaN(Date.parse(c.receivedAt))));
  });

  it('sends the documented query parameters for each kind of range', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.end();
    });
    const things = ditto(server.baseUrl).things;
    const cases: Array<[ThingHistoryOptions, Record<string, string>]> = [
      [{ fromHistoricalRevision: 0 }, { 'from-historical-revision': '0' }],
      // Ditto 3.5 reads 0 relative to the end: "end + 1" would be empty, so the earliest revision is asked for.
      [
        { fromHistoricalRevision: 0, toHistoricalRevision: 42 },
        { 'from-historical-revision': '1', 'to-historical-revision': '42' },
      ],
      [
        { fromHistoricalRevision: 23, toHistoricalRevision: 0 },
        { 'from-historical-revision': '23', 'to-historical-revision': '0' },
      ],
      [
        { fromHistoricalRevision: 3, toHistoricalRevision: -2 },
        { 'from-historical-revision': '3', 'to-historical-revision': '-2' },
      ],
      // The last 5 revisions: the end made explicit ("0" = current), which Ditto 3.5 needs.
      [{ fromHistoricalRevision: -5 }, { 'from-historical-revision': '-5', 'to-historical-revision': '0' }],
      [
        { fromHistoricalTimestamp: '2022-10-24T11:44:36Z', toHistoricalTimestamp: new Date(Date.UTC(2022, 9, 24, 11, 44, 37)) },
        { 'from-historical-timestamp': '2022-10-24T11:44:36Z', 'to-historical-timestamp': '2022-10-24T11:44:37.000Z' },
      ],
      [{ fromHistoricalTimestamp: '2022-10-24T13:44:36+02:00' }, { 'from-historical-timestamp': '2022-10-24T13:44:36+02:00' }],
    ];
    for (const [options, expected] of cases) {
      const before = server.connections.length;
      assert.deepEqual(await collect(things.history(THING, options)), []);
      const url = server.connections[before]?.url as URL;
      const query = Object.fromEntries(url.searchParams);
      delete query.fields;
      assert.deepEqual(query, expected, JSON.stringify(options));
    }
  });

  it('adds thingId, _revision and _modified (and _context) to fields, and sends the RQL filter', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.end();
    });
    const things = ditto(server.baseUrl).things;
    await collect(
      things.history(THING, {
        fromHistoricalRevision: 1,
        fields: ['attributes/counter', 'features(lamp)'],
        filter: rql.exists('features/lamp'),
        context: true,
      }),
    );
    await collect(things.history(THING, { fromHistoricalRevision: 1, fields: '_modified,thingId,_revision,attributes' }));
    await collect(things.history(THING, { fromHistoricalRevision: 1, context: true }));
    const [first, second, third] = server.connections.map((c) => Object.fromEntries(c.url.searchParams));
    assert.equal(first?.fields, 'thingId,_revision,_modified,_context,attributes/counter,features(lamp)');
    assert.equal(first?.filter, 'exists(features/lamp)');
    assert.equal(second?.fields, '_modified,thingId,_revision,attributes');
    assert.equal(third?.fields, 'thingId,policyId,definition,attributes,features,_revision,_modified,_context');
  });

  it('hands out the Ditto Protocol context with the persisted historical headers', async () => {
    const context = {
      topic: 'org.acme/lamp-1/things/twin/events/deleted',
      path: '/attributes/counter',
      value: null,
      headers: { 'historical-headers': '{"ditto-originator":"nginx:ditto"}', 'response-required': false },
    };
    server = await startServer(({ res }) => {
      sse(res);
      res.end(`data:${JSON.stringify({ thingId: THING, _revision: 9, _modified: '2024-05-01T10:00:00Z', _context: context })}\n\n`);
    });
    const [deleted] = await collect(ditto(server.baseUrl).things.history(THING, { fromHistoricalRevision: 9, context: true }));
    assert.deepEqual(deleted?.data, { thingId: THING, _revision: 9, _modified: '2024-05-01T10:00:00Z' });
    assert.equal(deleted?.context?.topic, context.topic);
    assert.equal(deleted?.context?.path, '/attributes/counter');
    assert.equal(deleted?.context?.value, null);
    assert.deepEqual(deleted?.context?.historicalHeaders, { 'ditto-originator': 'nginx:ditto' });
    assert.deepEqual(deleted?.context?.headers, context.headers);
  });

  it('resumes after the last revision when the connection drops mid-stream, dropping repeats', async () => {
    server = await startServer(({ index, res, socket }) => {
      sse(res);
      if (index === 1) {
        res.write(change(5));
        res.write(change(6));
        // A drop, not a completed response: the socket dies before the final chunk.
        setTimeout(() => socket.destroy(), 20);
        return;
      }
      res.write(change(6)); // overlap: dropped
      res.end(change(7));
    });
    const logger = capturingLogger();
    const changes = await collect(ditto(server.baseUrl, logger).things.history(THING, { fromHistoricalRevision: 5, retry: fast() }));
    assert.deepEqual(
      changes.map((c) => c.revision),
      [5, 6, 7],
    );
    assert.equal(server.connections.length, 2);
    assert.equal(server.connections[1]?.url.searchParams.get('from-historical-revision'), '7');
    assert.ok(logger.lines.some((line) => line.level === 'warn' && line.message === 'history stream disconnected; reconnecting'));
  });

  it('does not reconnect when the drop comes after the last wanted revision', async () => {
    server = await startServer(({ res, socket }) => {
      sse(res);
      res.write(change(5));
      res.write(change(6));
      setTimeout(() => socket.destroy(), 20);
    });
    const changes = await collect(
      ditto(server.baseUrl).things.history(THING, { fromHistoricalRevision: 5, toHistoricalRevision: 6, retry: fast() }),
    );
    assert.deepEqual(
      changes.map((c) => c.revision),
      [5, 6],
    );
    assert.equal(server.connections.length, 1);
  });

  it('resumes a time range just before the last change, keeping the end', async () => {
    server = await startServer(({ index, res, socket }) => {
      sse(res);
      if (index === 1) {
        res.write(change(3, {}, '2024-05-01T10:00:00.500123Z'));
        setTimeout(() => socket.destroy(), 20);
        return;
      }
      res.write(change(3, {}, '2024-05-01T10:00:00.500123Z'));
      res.end(change(4, {}, '2024-05-01T10:00:00.500999Z')); // the same millisecond
    });
    const changes = await collect(
      ditto(server.baseUrl).things.history(THING, {
        fromHistoricalTimestamp: '2024-05-01T00:00:00Z',
        toHistoricalTimestamp: '2024-05-02T00:00:00Z',
        retry: fast(),
      }),
    );
    assert.deepEqual(
      changes.map((c) => c.revision),
      [3, 4],
    );
    assert.deepEqual(Object.fromEntries(server.connections[1]?.url.searchParams ?? []), {
      'from-historical-timestamp': '2024-05-01T10:00:00.499Z',
      'to-historical-timestamp': '2024-05-02T00:00:00Z',
      fields: 'thingId,policyId,definition,attributes,features,_revision,_modified',
    });
  });

  it('drops changes Ditto repeats within one response, so every revision comes once and in order', async () => {
    // Ditto 3.5 starts a time range both at revision 0 and at the last snapshot before the start time, one after the
    // other (AbstractPersistenceSupervisor.handleStreamPersistedEvents), so a stream may carry the range twice.
    server = await startServer(({ res }) => {
      sse(res);
      for (const revision of [3, 4, 5, 3, 4, 5]) res.write(change(revision));
      res.end();
    });
    const changes = await collect(ditto(server.baseUrl).things.history(THING, { fromHistoricalTimestamp: '2024-05-01T00:00:00Z' }));
    assert.deepEqual(
      changes.map((c) => c.revision),
      [3, 4, 5],
    );
  });

  it('stops on abort while waiting, without throwing, and closes the connection', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.write(change(1));
      // then nothing: a long history still being read
    });
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const c of ditto(server.baseUrl).things.history(THING, { fromHistoricalRevision: 1, signal: controller.signal })) {
      seen.push(c.revision);
      setTimeout(() => controller.abort(), 10);
    }
    assert.deepEqual(seen, [1]);
    await server.connections[0]?.closed;
  });

  it('ends at once when the signal is already aborted, and closes the connection when the loop is left', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.write(change(1));
      res.write(change(2));
    });
    const things = ditto(server.baseUrl).things;
    assert.deepEqual(await collect(things.history(THING, { fromHistoricalRevision: 1, signal: AbortSignal.abort() })), []);
    for await (const c of things.history(THING, { fromHistoricalRevision: 1 })) {
      assert.equal(c.revision, 1);
      break;
    }
    await server.connections.at(-1)?.closed;
  });

  it('ends with the typed error on a 4xx answer, with the history hints', async () => {
    server = await startServer(({ index, res }) => {
      const body =
        index === 1
          ? {
              status: 400,
              error: 'signal.unsupported',
              message: "The provided signal 'streaming.subscribeForPersistedEvents' is not supported.",
            }
          : { status: 400, error: 'json.invalid', message: 'Text cannot be parsed to an Instant.' };
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    const things = ditto(server.baseUrl).things;
    await assert.rejects(collect(things.history(THING, { fromHistoricalRevision: 1, retry: fast() })), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.code, 'signal.unsupported');
      assert.match(error.hint ?? '', /historical-apis-enabled/);
      return true;
    });
    await assert.rejects(collect(things.history(THING, { fromHistoricalRevision: 1, retry: fast() })), BadRequestError);
    assert.equal(server.connections.length, 2, '4xx is not retried');
  });

  it('ends with a typed error when Ditto sends an error instead of a change', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.write(change(1));
      res.write(`data:${JSON.stringify({ status: 404, error: 'things:thing.history.notfound', message: 'gone' })}\n\n`);
    });
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of ditto(server.baseUrl).things.history(THING, { fromHistoricalRevision: 1 })) seen.push(c.revision);
      })(),
      (error: unknown) => {
        assert.ok(error instanceof NotFoundError);
        assert.equal(error.code, 'things:thing.history.notfound');
        assert.match(error.hint ?? '', /history-retention-duration/);
        return true;
      },
    );
    assert.deepEqual(seen, [1]);
  });

  it('logs why an empty history stream may be empty', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.end('\n');
    });
    const logger = capturingLogger();
    assert.deepEqual(await collect(ditto(server.baseUrl, logger).things.history(THING, { fromHistoricalRevision: 1 })), []);
    const line = logger.lines.find((l) => l.message === 'history stream ended without changes');
    assert.equal(line?.level, 'info');
    assert.match(String(line?.fields.hint), /history-retention-duration/);
  });

  it('validates everything before connecting', async () => {
    server = await startServer(({ res }) => {
      sse(res);
      res.end();
    });
    const things = ditto(server.baseUrl).things;
    const invalid = (options: unknown, field: string, message?: RegExp, thingId = THING) =>
      assert.throws(
        () => things.history(thingId, options as ThingHistoryOptions),
        (error: unknown) => {
          assert.ok(error instanceof ValidationError, String(error));
          assert.equal(error.field, field);
          if (message) assert.match(error.message, message);
          return true;
        },
        JSON.stringify(options),
      );
    invalid({}, 'fromHistoricalRevision', /or fromHistoricalTimestamp is required/);
    invalid(undefined, 'options');
    invalid({ toHistoricalRevision: 5 }, 'fromHistoricalRevision');
    invalid({ fromHistoricalRevision: 1, fromHistoricalTimestamp: '2024-05-01T00:00:00Z' }, 'fromHistoricalTimestamp');
    invalid(
      { fromHistoricalRevision: 1, toHistoricalTimestamp: '2024-05-01T00:00:00Z' },
      'toHistoricalTimestamp',
      /fromHistoricalRevision/,
    );
    invalid(
      { fromHistoricalTimestamp: '2024-05-01T00:00:00Z', toHistoricalRevision: 4 },
      'toHistoricalRevision',
      /fromHistoricalTimestamp/,
    );
    invalid({ fromHistoricalRevision: 1.5 }, 'fromHistoricalRevision');
    invalid({ fromHistoricalRevision: '1' }, 'fromHistoricalRevision');
    invalid({ fromHistoricalRevision: 2 ** 53 }, 'fromHistoricalRevision');
    invalid({ fromHistoricalRevision: 1, toHistoricalRevision: Number.NaN }, 'toHistoricalRevision');
    invalid({ fromHistoricalRevision: -3, toHistoricalRevision: 0 }, 'fromHistoricalRevision', /negative start/);
    invalid({ fromHistoricalRevision: 9, toHistoricalRevision: 4 }, 'toHistoricalRevision', /below fromHistoricalRevision/);
    invalid({ fromHistoricalTimestamp: '2024-05-01' }, 'fromHistoricalTimestamp');
    invalid({ fromHistoricalTimestamp: '2024-05-01T00:00:00' }, 'fromHistoricalTimestamp');
    invalid({ fromHistoricalTimestamp: '2024-05-02T00:00:00Z', toHistoricalTimestamp: '2024-05-01T00:00:00Z' }, 'toHistoricalTimestamp');
    invalid({ fromHistoricalTimestamp: '2024-05-01T00:00:00Z', toHistoricalTimestamp: 'now' }, 'toHistoricalTimestamp');
    invalid({ fromHistoricalRevision: 1, fields: [] }, 'fields');
    invalid({ fromHistoricalRevision: 1, context: 'yes' }, 'context');
    invalid({ fromHistoricalRevision: 1, idleTimeoutMs: 0 }, 'idleTimeoutMs');
    invalid({ fromHistoricalRevision: 1, timeoutMs: -1 }, 'timeoutMs');
    invalid({ fromHistoricalRevision: 1, retry: {} }, 'retry');
    invalid({ fromHistoricalRevision: 1, headers: { 'x-a': 'b\nc' } }, 'headers.x-a');
    invalid({ fromHistoricalRevision: 1 }, 'thingId', undefined, 'no-namespace');
    assert.equal(server.connections.length, 0);
  });
});
