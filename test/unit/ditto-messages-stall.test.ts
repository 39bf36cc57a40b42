// A message answer whose body stalls after the headers: the call's deadline must still end it. A local
// loopback server stands in for Ditto, because the stall has to happen on a real socket.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AbortError, TimeoutError } from '../../src/core/index.js';
import { DittoClient } from '../../src/ditto/index.js';

const THING = 'org.acme:lamp-1';

describe('MessagesApi: a stalled response body', () => {
  let server: http.Server;
  let baseUrl = '';
  const sockets = new Set<Socket>();
  const stalled: ServerResponse[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      if (req.url?.includes('/messages/complete')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"on":');
        setImmediate(() => res.end('true}'));
        return;
      }
      // Headers and the start of the body, then nothing: the device answer never finishes.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
      stalled.push(res);
    });
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  });

  const client = () => new DittoClient({ baseUrl, credentials: { type: 'basic', username: 'ditto', password: 'ditto' }, timeoutMs: 2_000 });

  it('ends with TimeoutError when the body stalls past timeoutMs (no caller signal)', { timeout: 10_000 }, async () => {
    const error = await client()
      .messages.send({ thingId: THING, subject: 'stall', timeoutSeconds: 0 }, { timeoutMs: 150 })
      .catch((e: unknown) => e);
    assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${String(error)}`);
    assert.equal(error.timeoutMs, 150);
    assert.match(error.message, /POST http:\/\/127\.0\.0\.1:\d+\/api\/2\/things\/org\.acme%3Alamp-1\/inbox\/messages\/stall/);
  });

  it('ends with AbortError when the caller aborts while the body stalls', { timeout: 10_000 }, async () => {
    const controller = new AbortController();
    const sent = client().messages.send({ thingId: THING, subject: 'stall' }, { signal: controller.signal });
    const waiting = stalled.length;
    while (stalled.length === waiting) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    const error = await sent.catch((e: unknown) => e);
    assert.ok(error instanceof AbortError, `expected AbortError, got ${String(error)}`);
  });

  it('still reads a body that arrives in pieces', { timeout: 10_000 }, async () => {
    const response = await client().messages.send({ thingId: THING, subject: 'complete' }, { timeoutMs: 5_000 });
    assert.deepEqual(response.data, { on: true });
  });
});
