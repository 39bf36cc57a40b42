/**
 * A node:http server playing the Hono HTTP adapter's `POST /telemetry` for relay tests: basic auth against a
 * set of accepted `Authorization` headers, scripted failures per body, and a command in the answer when the
 * request carries `hono-ttd`.
 */
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** `Basic base64(<authId>@<tenant>:<password>)`, as a Hono device authenticates. */
export function basicAuthorization(authId: string, tenant: string, password: string): string {
  return `Basic ${Buffer.from(`${authId}@${tenant}:${password}`).toString('base64')}`;
}

export class FakeHttpAdapter {
  readonly received: ReceivedRequest[] = [];
  /** Status codes to answer before accepting, per command body. */
  readonly failFirst = new Map<string, number[]>();
  /** Accepted Authorization headers: the registered devices and their passwords. */
  readonly valid: Set<string>;
  private server: Server | undefined;
  port = 0;

  constructor(accepted: Iterable<string> = []) {
    this.valid = new Set(accepted);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let status = 202;
        if (request.method !== 'POST' || request.url !== '/telemetry') status = 404;
        else if (!this.valid.has(request.headers.authorization ?? '')) status = 401;
        else if ((this.failFirst.get(body) ?? []).length > 0) status = this.failFirst.get(body)?.shift() as number;
        this.received.push({ headers: request.headers, body, status });
        if (status === 202 && request.headers['hono-ttd']) {
          response.writeHead(200, { 'hono-command': 'switch', 'hono-cmd-req-id': 'req-1', 'content-type': 'application/json' });
          response.end('{"on":true}');
          return;
        }
        response.writeHead(status, status === 401 ? { 'content-type': 'text/plain' } : {});
        response.end(status === 401 ? 'unauthorized' : undefined);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server?.address() as AddressInfo).port;
  }

  accepted(): ReceivedRequest[] {
    return this.received.filter((r) => r.status < 300);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
