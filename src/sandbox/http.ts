/**
 * What the sandbox's HTTP services share: a server on loopback that closes with its connections, request bodies
 * read under a size limit, JSON responses; a handler throws `refused(…)` for any answer other than success.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Logger } from '../core/logger.js';
import { SandboxRefusalError } from './errors.js';

export type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on `host:port` (0: a free port) and runs `handler` per request. A handler that throws `refused(…)` answers
 * with it; anything else is a 500 (logged), never a crash or a hanging request.
 */
export async function startHttpServer(
  name: string,
  handler: Handler,
  options: { host: string; port: number; logger: Logger; internalError: (message: string) => unknown },
): Promise<RunningServer> {
  const server: Server = createServer((request, response) => {
    handler(request, response).catch((error: unknown) => {
      if (error instanceof SandboxRefusalError) {
        if (!response.headersSent) sendJson(response, error.status, error.body, { ...error.headers });
        else response.destroy();
        return;
      }
      options.logger.error(`sandbox ${name}: request failed`, { method: request.method, path: request.url, error });
      if (!response.headersSent) sendJson(response, 500, options.internalError('internal error of the sandbox'));
      else response.destroy();
    });
  });
  const port = await listenOn(server, options.host, options.port);
  options.logger.info(`sandbox ${name} listening`, { host: options.host, port });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Starts `server` listening on `host:port` (0: a free port); resolves with the port, rejects with the listen error. */
export async function listenOn(server: NetServer, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** The request body, refused with `tooLarge()` (a refusal) beyond `maxBytes`. */
export async function readBody(request: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    request.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      request.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** JSON text as a value; undefined for an empty body; `malformed(reason)` for anything unreadable. */
export function parseJsonBody(body: Buffer, malformed: (reason: string) => Error): unknown {
  if (body.byteLength === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw malformed(`the body is not JSON: ${(error as Error).message}`);
  }
}

/** A string body goes as `text/plain` (Hono's adapters answer errors so); anything else as JSON. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const plain = typeof body === 'string';
  const text = plain ? body : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': plain ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export function sendEmpty(response: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-length': 0, ...headers });
  response.end();
}

/** The path's segments, percent-decoded; a malformed escape is `malformed()`. */
export function pathSegments(pathname: string, malformed: (reason: string) => Error): string[] {
  return pathname
    .split('/')
    .slice(1)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw malformed(`the path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
      }
    });
}
