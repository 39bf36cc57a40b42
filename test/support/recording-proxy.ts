// A loopback HTTP proxy that forwards every request to a target and records the exchange (request and response), so
// that a test can drive the SDK's real clients against a server and then check every exchange against a contract.
import { type IncomingMessage, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from './openapi.js';

export interface RecordedExchange {
  request: RecordedRequest;
  status: number;
  /** The response body parsed as JSON; undefined when empty; the text when it is not JSON. */
  body: unknown;
  headers: Record<string, string>;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  exchanges: RecordedExchange[];
  close(): Promise<void>;
}

async function read(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function parsed(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.byteLength === 0) return undefined;
  const text = raw.toString('utf8');
  if (!/json/i.test(contentType ?? '')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function flatHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
      .map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]),
  );
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const exchanges: RecordedExchange[] = [];
  const base = new URL(target);
  const server = createServer((incoming, outgoing) => {
    void (async () => {
      const body = await read(incoming);
      const url = new URL(incoming.url ?? '/', 'http://proxy');
      const query: Record<string, string | string[]> = {};
      for (const [key, value] of url.searchParams) {
        const before = query[key];
        query[key] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
      }
      const headers = flatHeaders(incoming.headers);
      const forwarded = httpRequest(
        {
          host: base.hostname,
          port: base.port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...incoming.headers, host: base.host },
        },
        (answer) => {
          void read(answer).then((raw) => {
            exchanges.push({
              request: {
                method: incoming.method ?? 'GET',
                path: url.pathname,
                query,
                headers,
                body: parsed(body, headers['content-type']),
              },
              status: answer.statusCode ?? 0,
              body: parsed(raw, answer.headers['content-type']),
              headers: flatHeaders(answer.headers),
            });
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            outgoing.end(raw);
          });
        },
      );
      forwarded.on('error', () => outgoing.destroy());
      forwarded.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
