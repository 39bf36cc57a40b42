// The HTTP device client against a local node:http server that plays Hono's HTTP adapter.
import assert from 'node:assert/strict';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  BadRequestError,
  ExponentialBackoff,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnauthorizedError,
  ValidationError,
} from '../../src/core/index.js';
import {
  CommandAlreadyAnsweredError,
  type DeviceClient,
  DeviceClientStateError,
  type DeviceClientOptions,
  type DeviceCommand,
  DeviceOfflineError,
  DevicePayloadTooLargeError,
  OfflineQueueFullError,
  OneWayCommandError,
  type TwinMessage,
  createDeviceClient,
} from '../../src/device/index.js';
import { createTestPki } from '../support/certs.js';

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Handler = (request: Recorded, res: ServerResponse) => void;

/** A stand-in for Hono's HTTP adapter: records requests, answers with scripted handlers (default 202). */
class FakeHttpAdapter {
  readonly requests: Recorded[] = [];
  private readonly handlers: Handler[] = [];
  private readonly polls: { request: Recorded; res: ServerResponse }[] = [];
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  server: Server;
  port = 0;
  /** The hono-ttd of the client's command poll (commandPollSeconds); those requests are held open. */
  pollTtd = '30';

  constructor(server?: Server) {
    this.server = server ?? createServer();
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Closes the server and every connection (the adapter "goes away"). */
  async stop(): Promise<void> {
    for (const poll of this.polls.splice(0)) poll.res.destroy();
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next requests get these answers, in order. */
  reply(...handlers: Handler[]): void {
    this.handlers.push(...handlers);
  }

  waitForRequests(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.requests.length} of ${count} requests after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Waits for an open command poll (empty notification with hono-ttd) and answers it with a command. */
  async sendCommand(command: { name: string; requestId?: string; target?: string; contentType?: string; body?: string }): Promise<void> {
    const poll = await this.nextPoll();
    const headers: Record<string, string> = { 'hono-command': command.name };
    if (command.requestId !== undefined) headers['hono-cmd-req-id'] = command.requestId;
    if (command.target !== undefined) headers['hono-cmd-target-device'] = command.target;
    if (command.contentType !== undefined) headers['content-type'] = command.contentType;
    poll.res.writeHead(200, headers);
    poll.res.end(command.body ?? '');
  }

  async nextPoll(timeoutMs = 10_000): Promise<{ request: Recorded; res: ServerResponse }> {
    const started = Date.now();
    while (this.polls.length === 0) {
      if (Date.now() - started > timeoutMs) throw new Error('no command poll arrived');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.polls.shift() as { request: Recorded; res: ServerResponse };
  }

  get openPolls(): number {
    return this.polls.length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      this.requests.push(request);
      for (const waiter of [...this.waiters]) {
        if (this.requests.length >= waiter.count) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      // The command poll of the client (not notifyReady(), which has its own ttd) is held until a test answers it.
      const isPoll =
        request.headers['content-type'] === 'application/vnd.eclipse-hono-empty-notification' &&
        request.headers['hono-ttd'] === this.pollTtd;
      const handler = isPoll ? undefined : this.handlers.shift();
      if (handler !== undefined) handler(request, res);
      else if (isPoll) this.polls.push({ request, res });
      else {
        res.writeHead(202);
        res.end();
      }
    });
  }
}

const status =
  (code: number, body: unknown = { error: `status ${code}` }, headers: Record<string, string> = {}): Handler =>
  (_request, res) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

/** A Ditto live message `switch` to the lamp feature's inbox, as Ditto sends it through Hono. */
function switchMessage(correlationId: string, value: unknown): Record<string, unknown> {
  return {
    topic: 'org.acme/lamp-1/things/live/messages/switch',
    headers: { 'correlation-id': correlationId, 'content-type': 'application/json' },
    path: '/features/lamp/inbox/messages/switch',
    value,
  };
}

const quickRetry = (maxAttempts = 4) => new ExponentialBackoff({ maxAttempts, initialDelayMs: 5, maxDelayMs: 20, jitter: 'none' });

function once<T>(device: DeviceClient, event: 'connected' | 'disconnected' | 'error', timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event within ${timeoutMs} ms`)), timeoutMs);
    device.once(event, (value: unknown) => {
      clearTimeout(timer);
      resolve(value as T);
    });
  });
}

describe('device HTTP client against a fake Hono HTTP adapter', () => {
  let fake: FakeHttpAdapter;
  const devices: DeviceClient[] = [];

  const device = (overrides: Partial<DeviceClientOptions> = {}): DeviceClient => {
    const client = createDeviceClient({
      transport: 'http',
      endpoint: fake.url,
      tenant: 'org.acme',
      authId: 'lamp-1',
      password: 'secret-1',
      thingId: 'org.acme:lamp-1',
      retry: quickRetry(),
      reconnect: { policy: quickRetry(Number.POSITIVE_INFINITY) },
      ...overrides,
    } as DeviceClientOptions);
    devices.push(client);
    return client;
  };

  beforeEach(async () => {
    fake = new FakeHttpAdapter();
    await fake.listen();
  });

  afterEach(async () => {
    for (const client of devices.splice(0)) await client.close({ timeoutMs: 500 });
    await fake.stop();
  });

  it('sends telemetry (QoS 0 and 1) and events with the Hono headers and basic auth as auth-id@tenant', async () => {
    const lamp = device();
    await lamp.connect();
    await lamp.telemetry({ temperature: 21.5 });
    await lamp.telemetry(Buffer.from([0, 1]), { qos: 1 });
    await lamp.event('door open', { ttlSeconds: 60 });
    const [qos0, qos1, event] = fake.requests;
    assert.equal(qos0?.method, 'POST');
    assert.equal(qos0?.url, '/telemetry');
    assert.equal(qos0?.headers.authorization, `Basic ${Buffer.from('lamp-1@org.acme:secret-1').toString('base64')}`);
    assert.equal(qos0?.headers['content-type'], 'application/json');
    assert.equal(qos0?.headers['qos-level'], undefined);
    assert.deepEqual(JSON.parse(qos0?.body.toString() ?? ''), { temperature: 21.5 });
    assert.equal(qos1?.headers['qos-level'], '1');
    assert.equal(qos1?.headers['content-type'], 'application/octet-stream');
    assert.deepEqual([...(qos1?.body ?? [])], [0, 1]);
    assert.equal(event?.url, '/event');
    assert.equal(event?.headers['hono-ttl'], '60');
    assert.equal(event?.headers['content-type'], 'text/plain; charset=utf-8');
  });

  it('uses the gateway routes PUT /telemetry/{tenant}/{device} and /event/{tenant}/{device}', async () => {
    const gateway = device({ authId: 'gw-1' });
    await gateway.connect();
    await gateway.telemetry({ v: 1 }, { deviceId: 'org.acme:sensor-2', qos: 1 });
    await gateway.event({ v: 2 }, { deviceId: 'org.acme:sensor-2' });
    assert.equal(fake.requests[0]?.method, 'PUT');
    assert.equal(fake.requests[0]?.url, '/telemetry/org.acme/org.acme%3Asensor-2');
    assert.equal(fake.requests[1]?.url, '/event/org.acme/org.acme%3Asensor-2');
  });

  it('maps 400/401/403/404/413 to typed errors with hints and does not retry them', async () => {
    const lamp = device();
    await lamp.connect();
    const cases: [number, new (...args: never[]) => Error, RegExp][] = [
      [400, BadRequestError, /content type is required/],
      [401, UnauthorizedError, /lamp-1@org\.acme/],
      [403, ForbiddenError, /adapter disabled/],
      [404, NotFoundError, /provisionDevice/],
      [413, DevicePayloadTooLargeError, /2048 bytes.*off-chain/],
    ];
    for (const [code, ErrorClass, hint] of cases) {
      const before = fake.requests.length;
      fake.reply(status(code));
      await assert.rejects(lamp.telemetry({ n: code }, { qos: 1 }), (error: unknown) => {
        assert.ok(error instanceof ErrorClass, `${code}: ${String(error)}`);
        assert.match((error as Error).message, hint);
        assert.doesNotMatch((error as Error).message, /secret-1/);
        return true;
      });
      assert.equal(fake.requests.length, before + 1, `${code} is not retried`);
    }
    fake.reply(status(413));
    await assert.rejects(lamp.event('x'), PayloadTooLargeError);
  });

  it('explains a 403 for a gateway with the via list', async () => {
    const gateway = device({ authId: 'gw-1' });
    await gateway.connect();
    fake.reply(status(403));
    await assert.rejects(gateway.telemetry('x', { deviceId: 'org.acme:sensor-9' }), /"via" list/);
  });

  it('retries 503 and 429 with backoff (honouring Retry-After) and then succeeds', async () => {
    const lamp = device();
    await lamp.connect();
    fake.reply(status(503), status(429, { error: 'limit' }, { 'retry-after': '0' }));
    await lamp.telemetry({ n: 1 }, { qos: 1 });
    assert.equal(fake.requests.length, 3);
    assert.deepEqual(
      fake.requests.map((r) => r.body.toString()),
      ['{"n":1}', '{"n":1}', '{"n":1}'],
    );
  });

  it('gives up on 503 when the retry policy does, with a hint about the missing consumer', async () => {
    const lamp = device({ retry: quickRetry(3) });
    await lamp.connect();
    fake.reply(status(503), status(503), status(503));
    await assert.rejects(lamp.event({ n: 1 }), (error: unknown) => {
      assert.ok(error instanceof ServiceUnavailableError);
      assert.match(error.message, /Ditto connection/);
      return true;
    });
    assert.equal(fake.requests.length, 3);
    fake.reply(status(429), status(429), status(429));
    await assert.rejects(lamp.telemetry('x'), TooManyRequestsError);
  });

  it('keeps QoS 1 and events while the adapter is unreachable, fails QoS 0, and delivers in order when it is back', async () => {
    const lamp = device();
    await lamp.connect();
    const port = fake.port;
    await fake.stop();
    const disconnected = once<{ willReconnect: boolean }>(lamp, 'disconnected');
    const first = lamp.event({ n: 1 });
    assert.equal((await disconnected).willReconnect, true);
    const second = lamp.telemetry({ n: 2 }, { qos: 1 });
    await assert.rejects(lamp.telemetry({ n: 'qos0' }), DeviceOfflineError);
    assert.ok(lamp.queuedMessages >= 1);

    const reconnected = once<{ reconnected: boolean }>(lamp, 'connected');
    fake = new FakeHttpAdapter();
    await fake.listen(port);
    await Promise.all([first, second]);
    assert.deepEqual(await reconnected, { reconnected: true });
    assert.deepEqual(
      fake.requests.map((r) => JSON.parse(r.body.toString()) as unknown),
      [{ n: 1 }, { n: 2 }],
    );
  });

  it('bounds the offline queue: reject new messages, or evict the oldest', async () => {
    const port = fake.port;
    await fake.stop();
    const lamp = device({ offlineQueue: { maxSize: 2 } });
    await lamp.connect();
    // 'a' is in flight (failing); 'b' and 'c' wait in the queue, which holds 2.
    const a = lamp.event('a');
    const b = lamp.event('b');
    const c = lamp.event('c');
    assert.equal(lamp.queuedMessages, 2);
    await assert.rejects(lamp.event('d'), (error: unknown) => {
      assert.ok(error instanceof OfflineQueueFullError);
      assert.equal(error.maxSize, 2);
      assert.equal(error.reason, 'rejected');
      return true;
    });

    const evicting = device({ offlineQueue: { maxSize: 1, overflow: 'drop-oldest' } });
    await evicting.connect();
    const oldest = evicting.event('old'); // in flight
    const middle = evicting.event('middle');
    const newest = evicting.event('new');
    await assert.rejects(middle, (error: unknown) => error instanceof OfflineQueueFullError && error.reason === 'evicted');

    fake = new FakeHttpAdapter();
    await fake.listen(port);
    await Promise.all([a, b, c, oldest, newest]);
    assert.deepEqual(fake.requests.map((r) => r.body.toString()).sort(), ['a', 'b', 'c', 'new', 'old']);
  });

  it('drops QoS 0 while offline when offlineQueue.qos0 is "drop", and says so', async () => {
    await fake.stop();
    const lamp = device({ offlineQueue: { qos0: 'drop' } });
    await lamp.connect();
    const dropped = new Promise((resolve) => lamp.once('dropped', resolve));
    await lamp.telemetry('sample'); // goes out, fails: offline
    assert.deepEqual(await dropped, { kind: 'telemetry', reason: 'offline (QoS 0)' });
    await lamp.telemetry('another'); // offline already: dropped right away
  });

  it('long-polls with hono-ttd while a consumer iterates, and answers on /command/res/{reqId}', async () => {
    const lamp = device({ commandPollSeconds: 5 });
    fake.pollTtd = '5';
    await lamp.connect();
    const commands = lamp.commands();
    const poll = fake.sendCommand({ name: 'switch', requestId: 'req-1', contentType: 'application/json', body: '{"on":true}' });
    const { value: command } = (await commands.next()) as IteratorYieldResult<DeviceCommand>;
    await poll;
    const pollRequest = fake.requests[0] as Recorded;
    assert.equal(pollRequest.url, '/event');
    assert.equal(pollRequest.headers['content-type'], 'application/vnd.eclipse-hono-empty-notification');
    assert.equal(pollRequest.headers['hono-ttd'], '5');
    assert.equal(pollRequest.body.length, 0);
    assert.equal(command.name, 'switch');
    assert.equal(command.requestId, 'req-1');
    assert.equal(command.contentType, 'application/json');
    assert.deepEqual(command.json(), { on: true });

    await command.respond(200, { on: true });
    const response = fake.requests.find((r) => r.url.startsWith('/command/res/')) as Recorded;
    assert.equal(response.method, 'POST');
    assert.equal(response.url, '/command/res/req-1?hono-cmd-status=200');
    assert.equal(response.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(response.body.toString()), { on: true });
    await assert.rejects(command.respond(200), CommandAlreadyAnsweredError);

    // The poll goes on while the iterator lives, and stops when it ends.
    await fake.nextPoll().then((p) => {
      p.res.writeHead(202);
      p.res.end();
    });
    await commands.return?.();
    const count = fake.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(fake.requests.length <= count + 1);
  });

  it('refuses to answer one-way commands before any request', async () => {
    const lamp = device();
    await lamp.connect();
    const commands = lamp.commands();
    await fake.sendCommand({ name: 'blink', body: '3' });
    const { value: command } = (await commands.next()) as IteratorYieldResult<DeviceCommand>;
    assert.equal(command.oneWay, true);
    const before = fake.requests.length;
    await assert.rejects(command.respond(200), OneWayCommandError);
    assert.equal(fake.requests.filter((r) => r.url.startsWith('/command/res')).length, 0);
    assert.ok(fake.requests.length >= before);
    await commands.return?.();
  });

  it('answers gateway commands on PUT /command/res/{tenant}/{device}/{reqId}', async () => {
    const gateway = device({ authId: 'gw-1' });
    await gateway.connect();
    const commands = gateway.commands();
    await fake.sendCommand({
      name: 'setInterval',
      requestId: 'req-2',
      target: 'org.acme:sensor-2',
      body: '30',
      contentType: 'application/json',
    });
    const { value: command } = (await commands.next()) as IteratorYieldResult<DeviceCommand>;
    assert.equal(command.deviceId, 'org.acme:sensor-2');
    await command.respond(204);
    const response = fake.requests.find((r) => r.url.startsWith('/command/res/')) as Recorded;
    assert.equal(response.method, 'PUT');
    assert.equal(response.url, '/command/res/org.acme/org.acme%3Asensor-2/req-2?hono-cmd-status=204');
    assert.equal(response.body.length, 0);
    await commands.return?.();
  });

  it('takes a command from a telemetry answer (hono-ttd on telemetry) and from notifyReady()', async () => {
    const lamp = device();
    await lamp.connect();
    const seen: DeviceCommand[] = [];
    lamp.onCommand((command) => {
      seen.push(command);
    });
    // The consumer started a poll; answer it empty so the explicit requests below are the ones we check.
    await fake.nextPoll().then((p) => {
      p.res.writeHead(202);
      p.res.end();
    });
    fake.reply((request, res) => {
      assert.equal(request.headers['hono-ttd'], '10');
      res.writeHead(200, { 'hono-command': 'calibrate', 'hono-cmd-req-id': 'req-t' });
      res.end();
    });
    await lamp.telemetry({ t: 1 }, { ttdSeconds: 10 });
    fake.reply((request, res) => {
      assert.equal(request.url, '/event');
      assert.equal(request.headers['hono-ttd'], '20');
      assert.equal(request.headers['content-type'], 'application/vnd.eclipse-hono-empty-notification');
      res.writeHead(200, { 'hono-command': 'reboot' });
      res.end();
    });
    await lamp.notifyReady({ ttdSeconds: 20 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      seen.map((c) => [c.name, c.requestId]),
      [
        ['calibrate', 'req-t'],
        ['reboot', undefined],
      ],
    );
  });

  it('answers 500 when a command handler throws', async () => {
    const lamp = device();
    await lamp.connect();
    const errors: Error[] = [];
    lamp.on('error', (error) => errors.push(error));
    lamp.onCommand(() => {
      throw new Error('relay stuck');
    });
    await fake.sendCommand({ name: 'switch', requestId: 'req-9' });
    await fake.waitForRequests(3);
    const response = fake.requests.find((r) => r.url.startsWith('/command/res/')) as Recorded;
    assert.equal(response.url, '/command/res/req-9?hono-cmd-status=500');
    assert.match(errors[0]?.message ?? '', /relay stuck/);
  });

  it('answers a Ditto message whose handler throws with a Ditto Protocol 500 (correlation-id and status)', async () => {
    const lamp = device();
    await lamp.connect();
    lamp.on('error', () => undefined);
    lamp.twin.onMessage(() => {
      throw new Error('relay stuck');
    });
    const message = switchMessage('ditto-7', { on: true });
    await fake.sendCommand({
      name: 'switch',
      requestId: 'hono-7',
      contentType: 'application/vnd.eclipse.ditto+json',
      body: JSON.stringify(message),
    });
    await fake.waitForRequests(3);
    const response = fake.requests.find((r) => r.url.startsWith('/command/res/')) as Recorded;
    assert.equal(response.url, '/command/res/hono-7?hono-cmd-status=500');
    assert.equal(response.headers['content-type'], 'application/vnd.eclipse.ditto+json');
    const body = JSON.parse(response.body.toString()) as { status: number; headers: Record<string, unknown>; path: string };
    assert.equal(body.status, 500);
    assert.equal(body.headers['correlation-id'], 'ditto-7');
    assert.equal(body.path, '/features/lamp/outbox/messages/switch');
  });

  it('does not add a 500 after a handler whose own response attempt failed (it may have arrived)', async () => {
    const lamp = device();
    await lamp.connect();
    lamp.on('error', () => undefined);
    fake.reply(
      () => undefined, // the notification poll is held by the fake; this one is the response: never answered
    );
    lamp.onCommand(async (command) => {
      await command.respond(200, 'on', { timeoutMs: 200 });
    });
    await fake.sendCommand({ name: 'switch', requestId: 'req-11' });
    await fake.waitForRequests(3);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const responses = fake.requests.filter((r) => r.url.startsWith('/command/res/req-11'));
    assert.deepEqual(
      responses.map((r) => r.url),
      ['/command/res/req-11?hono-cmd-status=200'],
    );
  });

  it('sends telemetry while a notifyReady() waits for a command (the wait holds up nothing)', async () => {
    const lamp = device();
    await lamp.connect();
    fake.reply(() => undefined); // the adapter holds the notification for its ttd
    const ready = lamp.notifyReady({ ttdSeconds: 20 }).catch((e: unknown) => e);
    await fake.waitForRequests(1);
    await lamp.telemetry({ n: 1 }, { qos: 1 });
    await lamp.event({ n: 2 });
    assert.deepEqual(
      fake.requests.map((r) => r.headers['hono-ttd'] ?? JSON.parse(r.body.toString())),
      ['20', { n: 1 }, { n: 2 }],
    );
    await lamp.close({ timeoutMs: 500 });
    assert.ok((await ready) instanceof DeviceClientStateError, 'close() ends the wait');
  });

  it('gives up on a command body that stalls after its headers, and polls again', async () => {
    const lamp = device({ timeoutMs: 300 });
    await lamp.connect();
    lamp.on('error', () => undefined);
    const commands = lamp.commands();
    const poll = await fake.nextPoll();
    poll.res.writeHead(200, { 'hono-command': 'switch', 'hono-cmd-req-id': 'req-3', 'content-type': 'application/json' });
    poll.res.write('{"on":'); // and nothing more
    const next = await fake.nextPoll(5_000); // the client gave up reading and polls again
    assert.equal(next.request.headers['hono-ttd'], '30');
    await commands.return?.();
  });

  it('close() gives a waiting notifyReady() its deadline like any queued message', async () => {
    const lamp = device();
    await lamp.connect();
    fake.reply((_request, res) => {
      setTimeout(() => {
        res.writeHead(202);
        res.end();
      }, 200);
    });
    const ready = lamp.notifyReady({ ttdSeconds: 20 });
    await fake.waitForRequests(1);
    await lamp.close({ timeoutMs: 5_000 });
    await ready; // answered within close()'s deadline: not failed as "closed"
  });

  it('tries the adapter again for QoS 0 once the backoff delay has passed, instead of staying offline', async () => {
    const port = fake.port;
    await fake.stop();
    const lamp = device({
      reconnect: {
        policy: new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 50, jitter: 'none' }),
      },
    });
    await lamp.connect();
    await assert.rejects(lamp.telemetry({ n: 1 }), DeviceOfflineError); // sent, failed: offline
    await assert.rejects(lamp.telemetry({ n: 2 }), DeviceOfflineError); // within the delay: not sent
    fake = new FakeHttpAdapter();
    await fake.listen(port);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await lamp.telemetry({ n: 3 });
    assert.deepEqual(
      fake.requests.map((r) => JSON.parse(r.body.toString()) as unknown),
      [{ n: 3 }],
    );
  });

  it('reports 503 on a command response (nobody waits) and lets the app try again', async () => {
    const lamp = device();
    await lamp.connect();
    const commands = lamp.commands();
    await fake.sendCommand({ name: 'switch', requestId: 'req-5' });
    const { value: command } = (await commands.next()) as IteratorYieldResult<DeviceCommand>;
    fake.reply(status(503));
    await assert.rejects(
      command.respond(200),
      (error: unknown) => error instanceof ServiceUnavailableError && /No application waits/.test(error.message),
    );
    assert.equal(command.answered, false);
    fake.reply(status(429), (_request, res) => {
      res.writeHead(202);
      res.end();
    });
    await command.respond(200);
    assert.equal(command.answered, true);
    await commands.return?.();
  });

  it('updates the twin with Ditto Protocol and answers Ditto messages with request id and correlation-id', async () => {
    const lamp = device();
    await lamp.connect();
    await lamp.twin.updateProperty('temperature', 'value', 21.5);
    const update = fake.requests[0] as Recorded;
    assert.equal(update.headers['content-type'], 'application/vnd.eclipse.ditto+json');
    assert.equal(update.headers['qos-level'], '1');
    const envelope = JSON.parse(update.body.toString()) as { topic: string; path: string; headers: Record<string, unknown> };
    assert.equal(envelope.topic, 'org.acme/lamp-1/things/twin/commands/modify');
    assert.equal(envelope.path, '/features/temperature/properties/value');
    assert.equal(envelope.headers['response-required'], false);

    const messages = lamp.twin.messages();
    const message = switchMessage('ditto-1', { on: false });
    await fake.sendCommand({
      name: 'switch',
      requestId: 'hono-1',
      contentType: 'application/vnd.eclipse.ditto+json',
      body: JSON.stringify(message),
    });
    const { value: twinMessage } = (await messages.next()) as IteratorYieldResult<TwinMessage>;
    assert.equal(twinMessage.featureId, 'lamp');
    assert.equal(twinMessage.correlationId, 'ditto-1');
    await twinMessage.respond(200, 'switched');
    const response = fake.requests.find((r) => r.url.startsWith('/command/res/')) as Recorded;
    assert.equal(response.url, '/command/res/hono-1?hono-cmd-status=200');
    assert.equal(response.headers['content-type'], 'application/vnd.eclipse.ditto+json');
    const body = JSON.parse(response.body.toString()) as Record<string, unknown>;
    assert.equal(body.path, '/features/lamp/outbox/messages/switch');
    assert.equal(body.status, 200);
    assert.equal(body.value, 'switched');
    assert.deepEqual(body.headers, { 'correlation-id': 'ditto-1', 'content-type': 'text/plain' });
    await messages.return?.();
  });

  it('refuses a property bag on HTTP and oversized payloads, before any request', async () => {
    const lamp = device();
    await lamp.connect();
    await assert.rejects(lamp.telemetry('x', { properties: { a: 1 } }), ValidationError);
    await assert.rejects(
      lamp.telemetry(Buffer.alloc(2049)),
      (error: unknown) => error instanceof DevicePayloadTooLargeError && error.local,
    );
    assert.equal(fake.requests.length, 0);
  });
});

describe('device HTTP client over TLS with an X.509 client certificate', () => {
  it('verifies the adapter against the CA with the hostname override and presents the client certificate', async () => {
    const pki = createTestPki('c2e-hono-adapter-http');
    const server = createHttpsServer({
      key: pki.serverKey,
      cert: pki.serverCert,
      ca: [pki.caCert],
      requestCert: true,
      rejectUnauthorized: true,
    });
    const fake = new FakeHttpAdapter(server);
    const subjects: string[] = [];
    server.on('secureConnection', (socket: TLSSocket) => {
      const subject = socket.getPeerCertificate().subject as unknown as Record<string, string> | undefined;
      subjects.push(subject?.CN ?? '');
    });
    await fake.listen();
    const lamp = createDeviceClient({
      transport: 'http',
      endpoint: `https://127.0.0.1:${fake.port}`,
      tenant: 'org.acme',
      tls: { caFile: pki.caFile, serverName: pki.serverName, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile },
    });
    try {
      await lamp.connect();
      await lamp.telemetry('over tls', { qos: 1 });
      assert.equal(fake.requests[0]?.headers.authorization, undefined);
      assert.deepEqual(subjects, ['lamp-1']);
    } finally {
      await lamp.close();
      await fake.stop();
    }
  });
});
