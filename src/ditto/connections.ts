import { ValidationError } from '../core/errors.js';
import type { HttpCallOptions, HttpClient } from '../core/http.js';
import { validateCallOptions } from '../core/options.js';
import { isDotSegment, pathSegment, requireText } from '../core/ids.js';
import type { Redactor } from '../core/redact.js';
import { API_PREFIX, fieldsQuery } from './paths.js';
import { jsonText, requireObject } from './resource.js';
import type { Connection, ConnectionStatus, JsonObject, NewConnection } from './types.js';

export type ConnectionCommand =
  | 'connectivity.commands:openConnection'
  | 'connectivity.commands:closeConnection'
  | 'connectivity.commands:resetConnectionMetrics'
  | 'connectivity.commands:enableConnectionLogs'
  | 'connectivity.commands:resetConnectionLogs';

const COMMANDS: ReadonlySet<string> = new Set<ConnectionCommand>([
  'connectivity.commands:openConnection',
  'connectivity.commands:closeConnection',
  'connectivity.commands:resetConnectionMetrics',
  'connectivity.commands:enableConnectionLogs',
  'connectivity.commands:resetConnectionLogs',
]);

export interface ConnectionReadOptions extends HttpCallOptions {
  fields?: string | readonly string[];
}

export interface ConnectionPutResult {
  /** 201 created, 204 updated. */
  status: number;
  created: boolean;
  connection: Connection | undefined;
}

// eslint-disable-next-line no-control-regex
const CONNECTION_ID = /^[^\x00-\x1F\x7F/?#%]+$/;

export function validateConnectionId(connectionId: unknown, field = 'connectionId'): string {
  requireText(field, connectionId, 'connection ID');
  if (connectionId.length > 256 || !CONNECTION_ID.test(connectionId) || isDotSegment(connectionId)) {
    throw new ValidationError(
      field,
      `${JSON.stringify(connectionId)} is not a connection ID`,
      'Connection IDs are 1-256 characters without "/", "?", "#", "%" or control characters, and not "." or "..", ' +
        'e.g. "hono-kafka-connection-for-org_acme".',
    );
  }
  return connectionId;
}

function checkConnection(field: string, connection: unknown): asserts connection is NewConnection {
  requireObject(field, connection);
  for (const key of ['connectionType', 'connectionStatus', 'uri'] as const) {
    if (typeof connection[key] !== 'string' || connection[key] === '') {
      throw new ValidationError(`${field}.${key}`, 'is required (a non-empty string)');
    }
  }
  for (const key of ['sources', 'targets'] as const) {
    if (!Array.isArray(connection[key])) throw new ValidationError(`${field}.${key}`, 'must be an array (may be empty)');
  }
}

/**
 * Ditto connections (`/api/2/connections`), managed with the devops user. The per-tenant Hono connection
 * Cloud2Edge needs is created with `put(id, connection)`. Passwords inside connection URIs and SSH
 * tunnel credentials are registered as secrets so they never show up in logs or errors.
 */
export class ConnectionsApi {
  constructor(
    private readonly http: HttpClient,
    private readonly redactor: Redactor,
  ) {}

  async list(options: ConnectionReadOptions & { idsOnly?: boolean } = {}): Promise<Connection[]> {
    const fields = fieldsQuery(options.fields);
    const response = await this.http.request<Connection[]>({
      method: 'GET',
      path: `${API_PREFIX}/connections`,
      query: { fields, 'ids-only': options.idsOnly },
      ...call(options),
    });
    return response.data;
  }

  async get(connectionId: string, options: ConnectionReadOptions = {}): Promise<Connection> {
    const path = this.path(connectionId);
    const fields = fieldsQuery(options.fields);
    const response = await this.http.request<Connection>({ method: 'GET', path, query: { fields }, ...call(options) });
    return response.data;
  }

  /** `PUT /connections/{id}`: creates or replaces the connection with this ID. */
  async put(connectionId: string, connection: NewConnection, options: HttpCallOptions = {}): Promise<ConnectionPutResult> {
    const path = this.path(connectionId);
    checkConnection('connection', connection);
    if (connection.id !== undefined && connection.id !== connectionId) {
      throw new ValidationError(
        'connection.id',
        `${JSON.stringify(connection.id)} differs from the ID in the path`,
        'Leave id out of the body.',
      );
    }
    this.registerSecrets(connection);
    const response = await this.http.request<Connection>({
      method: 'PUT',
      path,
      body: jsonText('connection', connection),
      contentType: 'application/json',
      ...call(options),
    });
    return {
      status: response.status,
      created: response.status === 201,
      connection: response.status === 201 ? response.data : undefined,
    };
  }

  /** `POST /connections`: Ditto generates the ID. `dryRun` only tests connecting. */
  async create(connection: NewConnection, options: HttpCallOptions & { dryRun?: boolean } = {}): Promise<Connection | undefined> {
    checkConnection('connection', connection);
    if (connection.id !== undefined)
      throw new ValidationError('connection.id', 'must not be set: Ditto generates it', 'Use put(id, connection) to choose the ID.');
    this.registerSecrets(connection);
    const response = await this.http.request<Connection>({
      method: 'POST',
      path: `${API_PREFIX}/connections`,
      query: { 'dry-run': options.dryRun },
      body: jsonText('connection', connection),
      contentType: 'application/json',
      ...call(options),
    });
    return response.status === 201 ? response.data : undefined;
  }

  async delete(connectionId: string, options: HttpCallOptions = {}): Promise<void> {
    await this.http.request({ method: 'DELETE', path: this.path(connectionId), ...call(options) });
  }

  async status(connectionId: string, options: HttpCallOptions = {}): Promise<ConnectionStatus> {
    const response = await this.http.request<ConnectionStatus>({
      method: 'GET',
      path: `${this.path(connectionId)}/status`,
      ...call(options),
    });
    return response.data;
  }

  async metrics(connectionId: string, options: HttpCallOptions = {}): Promise<JsonObject> {
    const response = await this.http.request<JsonObject>({ method: 'GET', path: `${this.path(connectionId)}/metrics`, ...call(options) });
    return response.data;
  }

  async logs(connectionId: string, options: HttpCallOptions = {}): Promise<JsonObject> {
    const response = await this.http.request<JsonObject>({ method: 'GET', path: `${this.path(connectionId)}/logs`, ...call(options) });
    return response.data;
  }

  /** `POST /connections/{id}/command` with a `text/plain` command. Not retried. */
  async command(connectionId: string, command: ConnectionCommand, options: HttpCallOptions = {}): Promise<void> {
    const path = `${this.path(connectionId)}/command`;
    if (!COMMANDS.has(command)) {
      throw new ValidationError(
        'command',
        `${JSON.stringify(command)} is not a connection command`,
        `Use one of ${[...COMMANDS].join(', ')}.`,
      );
    }
    await this.http.request({ method: 'POST', path, body: command, contentType: 'text/plain', ...call(options) });
  }

  open(connectionId: string, options?: HttpCallOptions): Promise<void> {
    return this.command(connectionId, 'connectivity.commands:openConnection', options);
  }

  close(connectionId: string, options?: HttpCallOptions): Promise<void> {
    return this.command(connectionId, 'connectivity.commands:closeConnection', options);
  }

  private path(connectionId: string): string {
    return `${API_PREFIX}/connections/${pathSegment(validateConnectionId(connectionId), 'connectionId')}`;
  }

  private registerSecrets(connection: NewConnection): void {
    const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(connection.uri)?.[1];
    const colon = userInfo?.indexOf(':') ?? -1;
    if (userInfo !== undefined && colon >= 0) {
      const password = userInfo.slice(colon + 1);
      this.redactor.addSecret(password);
      try {
        this.redactor.addSecret(decodeURIComponent(password));
      } catch {
        // not percent-encoded; the raw form is registered already
      }
    }
    const tunnel = connection.sshTunnel;
    if (typeof tunnel === 'object' && tunnel !== null) {
      const credentials = (tunnel as { credentials?: { password?: unknown; privateKey?: unknown } }).credentials;
      if (typeof credentials?.password === 'string') this.redactor.addSecret(credentials.password);
      if (typeof credentials?.privateKey === 'string') this.redactor.addSecret(credentials.privateKey);
    }
  }
}

function call(options: HttpCallOptions): HttpCallOptions {
  validateCallOptions(options);
  const out: HttpCallOptions = {};
  if (options.signal !== undefined) out.signal = options.signal;
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  if (options.headers !== undefined) out.headers = options.headers;
  return out;
}
