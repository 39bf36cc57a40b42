/**
 * Contract-test harness: validates the requests our clients produce, and the fixture responses our unit
 * tests feed them, against the official OpenAPI documents (Hono device registry v1, Ditto 3.5.12).
 *
 * Validation is done by openapi-backend (ajv underneath). Two documented imprecisions of the upstream
 * specs are corrected before validation, each at the narrowest place:
 * - Hono: credential schemas combine `additionalProperties: false` with `allOf`/`oneOf`; a JSON-Schema
 *   validator reads that as "no property allowed" and rejects every valid body. Each `allOf` is flattened
 *   into one object schema (union of properties and required, `additionalProperties: false` kept on the
 *   merged schema), and `additionalProperties: false` is dropped where a schema only wraps `oneOf`. Valid
 *   bodies then pass while stray fields such as `device-id` are still rejected.
 * - Ditto: the request bodies `Value`, `PatchValue` (property/attribute values) and `Payload` (message
 *   payloads) are typed `object`/`string`, while the spec's own text and the server accept any JSON value.
 * - Ditto 3.5.12 (and 3.9.6) connection schemas: the `ConnectionType` enum lists `'kafka,'` (a typo for
 *   `kafka`), and a source's `replyTarget` requires `address` even when `enabled: false` — the Cloud2Edge
 *   chart's own Kafka and AMQP connections have such disabled reply targets without an address, and Ditto
 *   accepts them. The enum gets `kafka`, and `address` is no longer required.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import nock from 'nock';
import { OpenAPIBackend } from 'openapi-backend';

const here = dirname(fileURLToPath(import.meta.url));

/** The official specs copied into `test/specs` (see its README), or `TWINLEDGER_SPECS_DIR`. */
export function specsDir(): string | undefined {
  const candidates = [process.env.TWINLEDGER_SPECS_DIR, resolve(here, '..', 'specs')].filter(
    (dir): dir is string => typeof dir === 'string' && dir !== '',
  );
  return candidates.find((dir) => existsSync(join(dir, 'hono', 'device-registry-v1.yaml')));
}

export function specsAvailable(): boolean {
  return specsDir() !== undefined;
}

/**
 * A reason to skip contract tests, or undefined when the specs are present. Under
 * `TWINLEDGER_REQUIRE_SERVICES=1` (CI) nothing is skipped: the tests run and fail on the missing specs.
 */
export function skipReason(): string | undefined {
  if (specsAvailable() || process.env.TWINLEDGER_REQUIRE_SERVICES === '1') return undefined;
  return `official specs not found (expected test/specs in the repository${process.env.TWINLEDGER_SPECS_DIR ? `, or ${process.env.TWINLEDGER_SPECS_DIR}` : ''})`;
}

export interface RecordedRequest {
  method: string;
  /** Path including the API prefix (`/v1/...`, `/api/2/...`), percent-encoded as sent. */
  path: string;
  query: Record<string, string | string[]>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: unknown;
}

export interface Contract {
  assertRequest(request: RecordedRequest): void;
  assertResponse(request: { method: string; path: string }, status: number, body: unknown): void;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveRef(doc: JsonObject, ref: string): JsonObject {
  let node: Json = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) {
    assert.ok(isObject(node), `cannot resolve ${ref}`);
    node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')] as Json;
  }
  assert.ok(isObject(node), `cannot resolve ${ref}`);
  return node;
}

/** Flattens `allOf` into one object schema; see the module comment for why. */
function flattenAllOf(doc: JsonObject, schema: JsonObject): JsonObject {
  if (!Array.isArray(schema.allOf)) return schema;
  const properties: JsonObject = {};
  const required = new Set<string>();
  let closed = schema.additionalProperties === false;
  const rest: JsonObject = { ...schema };
  delete rest.allOf;
  for (const part of schema.allOf) {
    if (!isObject(part)) continue;
    const resolved = flattenAllOf(doc, typeof part.$ref === 'string' ? resolveRef(doc, part.$ref) : part);
    if (isObject(resolved.properties)) Object.assign(properties, resolved.properties);
    if (Array.isArray(resolved.required)) for (const name of resolved.required) required.add(String(name));
    if (resolved.additionalProperties === false) closed = true;
  }
  const merged: JsonObject = { ...rest, type: 'object', properties };
  if (required.size > 0) merged.required = [...required];
  if (closed) merged.additionalProperties = false;
  return merged;
}

function correctHonoSpec(doc: JsonObject): void {
  const schemas = (doc.components as JsonObject).schemas as JsonObject;
  for (const [name, schema] of Object.entries(schemas)) {
    if (!isObject(schema)) continue;
    let fixed = flattenAllOf(doc, schema);
    if (Array.isArray(fixed.oneOf) && fixed.additionalProperties === false && fixed.properties === undefined) {
      fixed = { ...fixed };
      delete fixed.additionalProperties;
    }
    schemas[name] = fixed;
  }
}

function correctDittoSpec(doc: JsonObject): void {
  const components = doc.components as JsonObject;
  const bodies = components.requestBodies as JsonObject;
  for (const name of ['Value', 'PatchValue', 'Payload']) {
    const body = bodies[name];
    if (!isObject(body) || !isObject(body.content)) continue;
    for (const media of Object.values(body.content)) if (isObject(media)) media.schema = {};
  }
  const schemas = components.schemas as JsonObject;
  const connectionType = schemas.ConnectionType;
  if (isObject(connectionType) && Array.isArray(connectionType.enum)) {
    connectionType.enum = connectionType.enum.map((value) => (value === 'kafka,' ? 'kafka' : value));
  }
  const source = schemas.Source;
  const replyTarget = isObject(source) && isObject(source.properties) ? source.properties.replyTarget : undefined;
  if (isObject(replyTarget)) delete replyTarget.required;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** openapi-backend addresses operations by operationId; Ditto's spec has none, so derive them. */
function nameOperations(doc: JsonObject): void {
  for (const [path, item] of Object.entries(doc.paths as JsonObject)) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const operation = item[method];
      if (isObject(operation) && typeof operation.operationId !== 'string') {
        operation.operationId = `${method.toUpperCase()} ${path}`;
      }
    }
  }
}

interface LoadedSpec {
  api: OpenAPIBackend;
  doc: JsonObject;
  prefix: string;
  /** Whether a trailing JSON-pointer parameter may span several segments (Ditto). */
  foldTrailing: boolean;
}

const cache = new Map<string, Promise<LoadedSpec>>();

async function load(file: string, prefix: string, correct: (doc: JsonObject) => void, foldTrailing: boolean): Promise<LoadedSpec> {
  const dir = specsDir();
  assert.ok(dir, skipReason());
  const doc = yaml.load(readFileSync(join(dir, file), 'utf8')) as JsonObject;
  correct(doc);
  nameOperations(doc);
  const api = new OpenAPIBackend({
    definition: doc as never,
    strict: false,
    quick: false,
    validate: true,
    coerceTypes: true,
    ajvOpts: { strict: false, allErrors: true, validateFormats: false },
  });
  await api.init();
  return { api, doc, prefix, foldTrailing };
}

function contract(key: string, loader: () => Promise<LoadedSpec>): Promise<Contract> {
  let loaded = cache.get(key);
  if (!loaded) {
    loaded = loader();
    cache.set(key, loaded);
  }
  return loaded.then(makeContract);
}

/** Hono Device Registry Management API v1. Paths start with `/v1`. */
export function honoRegistryContract(): Promise<Contract> {
  return contract('hono', () => load('hono/device-registry-v1.yaml', '/v1', correctHonoSpec, false));
}

/** Ditto HTTP API 2 as of Ditto 3.5.12 (what Cloud2Edge 0.9 deploys). Paths start with `/api/2`. */
export function dittoContract(): Promise<Contract> {
  return contract('ditto', () => load('ditto/v3.5.12/ditto-api-2.yml', '', correctDittoSpec, true));
}

const TRAILING_KEYWORD = /\/(?:attributes|properties|desiredProperties|resources|messages)(?=\/)/g;

/**
 * Candidate spellings of a path for the spec's router, which matches one segment per parameter: the path
 * itself, then, for every place where a JSON-pointer parameter (`{propertyPath}`, `{resourcePath}`, ...) may
 * start, the rest of the path folded into one encoded segment — leftmost first, since a resource key such as
 * `message:/inbox/messages/x` contains the keywords again.
 */
function candidatePaths(spec: LoadedSpec, path: string): string[] {
  const stripped = spec.prefix && path.startsWith(spec.prefix) ? path.slice(spec.prefix.length) : path;
  const candidates = [stripped];
  if (!spec.foldTrailing) return candidates;
  for (const match of stripped.matchAll(TRAILING_KEYWORD)) {
    const head = stripped.slice(0, (match.index ?? 0) + match[0].length);
    const rest = stripped.slice(head.length + 1);
    if (rest.includes('/')) candidates.push(`${head}/${encodeURIComponent(decodeURIComponent(rest))}`);
  }
  return candidates;
}

function declaredParameters(spec: LoadedSpec, operation: JsonObject & { path?: string }, where: string): Set<string> {
  const names = new Set<string>();
  const pathItem = (spec.doc.paths as JsonObject)[String(operation.path)];
  const lists = [isObject(pathItem) ? pathItem.parameters : undefined, operation.parameters];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const param = isObject(entry) && typeof entry.$ref === 'string' ? resolveRef(spec.doc, entry.$ref) : entry;
      if (isObject(param) && param.in === where && typeof param.name === 'string') names.add(param.name.toLowerCase());
    }
  }
  return names;
}

function requestBodyMediaTypes(spec: LoadedSpec, operation: JsonObject): string[] {
  let body = operation.requestBody;
  if (isObject(body) && typeof body.$ref === 'string') body = resolveRef(spec.doc, body.$ref);
  return isObject(body) && isObject(body.content) ? Object.keys(body.content) : [];
}

function describe(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

function makeContract(spec: LoadedSpec): Contract {
  const match = (method: string, path: string) => {
    for (const candidate of candidatePaths(spec, path)) {
      const operation = spec.api.matchOperation({ method: method.toLowerCase(), path: candidate, headers: {} });
      if (operation) return { operation: operation as unknown as JsonObject & { operationId?: string; path?: string }, routed: candidate };
    }
    assert.fail(`${describe(method, path)} is not an operation of the spec`);
  };
  return {
    assertRequest(request) {
      const { operation, routed } = match(request.method, request.path);
      const label = `${describe(request.method, request.path)} (${operation.operationId ?? 'operation'})`;
      const declaredQuery = declaredParameters(spec, operation, 'query');
      const unknown = Object.keys(request.query).filter((name) => !declaredQuery.has(name.toLowerCase()));
      assert.deepEqual(unknown, [], `${label}: query parameters not in the spec`);
      const hasBody = request.body !== undefined && request.body !== '';
      if (hasBody) {
        const media = requestBodyMediaTypes(spec, operation);
        const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
        assert.ok(media.length > 0, `${label}: sends a body, but the operation takes none`);
        assert.ok(media.includes(contentType), `${label}: content type ${contentType} not in ${media.join(', ')}`);
      }
      const result = spec.api.validateRequest({
        method: request.method.toLowerCase(),
        path: routed,
        query: request.query,
        headers: request.headers,
        // openapi-backend parses string bodies of JSON requests itself, so hand it the JSON text.
        body: (typeof request.body === 'string' && /json/i.test(request.headers['content-type'] ?? '')
          ? JSON.stringify(request.body)
          : request.body) as never,
      });
      assert.ok(result.valid, `${label}: ${JSON.stringify(result.errors, null, 2)}`);
    },
    assertResponse(request, status, body) {
      const { operation } = match(request.method, request.path);
      assert.ok(operation.operationId, `${describe(request.method, request.path)} has no operationId in the spec`);
      const result = spec.api.validateResponse(body, operation.operationId, status);
      assert.ok(result.valid, `${describe(request.method, request.path)} → ${status}: ${JSON.stringify(result.errors, null, 2)}`);
    },
  };
}

export interface Capture {
  requests: RecordedRequest[];
  stop(): void;
}

function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(search)) {
    const existing = query[key];
    query[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

function parseBody(raw: unknown, contentType: string | undefined): unknown {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') return raw;
  if (contentType && /json/i.test(contentType)) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

/**
 * Intercepts every request to `baseUrl` (all methods and paths) with nock, records it and answers with
 * `respond`. Requests are recorded as the client put them on the wire.
 */
export function captureRequests(
  baseUrl: string,
  respond: (request: RecordedRequest) => { status: number; body?: unknown; headers?: Record<string, string> },
): Capture {
  const requests: RecordedRequest[] = [];
  const scope = nock(baseUrl).persist();
  const reply = function (this: { req: { headers: Record<string, string | string[]> } }, uri: string, body: unknown) {
    const url = new URL(uri, 'http://placeholder');
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.req.headers)) {
      headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    const recorded: RecordedRequest = {
      method: '',
      path: url.pathname,
      query: parseQuery(url.search),
      headers,
      body: parseBody(body, headers['content-type']),
    };
    return recorded;
  };
  for (const method of ['get', 'post', 'put', 'patch', 'delete', 'head'] as const) {
    scope[method](() => true)
      .query(true)
      .reply(function (uri, body) {
        const recorded = reply.call(this as never, uri, body);
        recorded.method = method.toUpperCase();
        requests.push(recorded);
        const answer = respond(recorded);
        const payload = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        const headers: Record<string, string> = { ...answer.headers };
        if (answer.body !== undefined && typeof answer.body !== 'string' && headers['content-type'] === undefined) {
          headers['content-type'] = 'application/json';
        }
        return [answer.status, payload, headers];
      });
  }
  return {
    requests,
    stop() {
      scope.persist(false);
      nock.cleanAll();
    },
  };
}
