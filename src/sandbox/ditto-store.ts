/**
 * The sandbox's Ditto state: things and policies with their revisions and timestamps, every operation checked
 * against the policy of the resource (READ to see it, WRITE to change it) for the calling subjects. Operations
 * answer as Ditto's HTTP API does: the status, and an error body `{ status, error, message, description }` with
 * Ditto's error codes; a thing the caller may not read is "not found".
 */
import { type Json, type JsonObject, deleteAt, getAt, mergePatch, pointerTokens, setAt } from './ditto-json.js';
import { allowed, defaultPolicy } from './ditto-policy.js';
import { SandboxRefusalError } from './errors.js';
import { isObject } from './registry-model.js';
import type { Collection, SandboxState } from './state.js';

export interface Stored {
  value: JsonObject;
  revision: number;
  created: string;
  modified: string;
}

export const ENTITY_ID = /^[a-zA-Z]\w*(?:\.[a-zA-Z]\w*)*:[^\s/?#]+$/u;

export function dittoError(
  status: number,
  error: string,
  message: string,
  description?: string,
  headers: Record<string, string> = {},
): SandboxRefusalError {
  return new SandboxRefusalError(status, { status, error, message, ...(description === undefined ? {} : { description }) }, headers);
}

/** The error codes of a thing's parts, by the first level of the path (`attributes` → `things:attribute.*`). */
function partCode(path: readonly string[]): string {
  if (path.length === 0) return 'things:thing';
  switch (path[0]) {
    case 'attributes':
      return path.length === 1 ? 'things:attributes' : 'things:attribute';
    case 'features':
      if (path.length <= 2) return path.length === 1 ? 'things:features' : 'things:feature';
      if (path[2] === 'properties') return path.length === 3 ? 'things:feature.properties' : 'things:feature.property';
      if (path[2] === 'desiredProperties') return path.length === 3 ? 'things:feature.desiredProperties' : 'things:feature.desiredProperty';
      return 'things:feature.definition';
    case 'definition':
      return 'things:definition';
    case 'policyId':
      return 'things:policyId';
    default:
      return 'things:thing';
  }
}

/** What a conditional request asked for (`If-Match`, `If-None-Match`: `*` or `"rev:N"` tags). */
export interface Conditions {
  ifMatch: string | undefined;
  ifNoneMatch: string | undefined;
}

function tags(header: string): string[] {
  return header.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
}

export const etagOf = (revision: number): string => `"rev:${revision}"`;

/** Tokens back to a JSON pointer (`[]` → `/`). */
export function pointerOf(path: readonly string[]): string {
  return path.length === 0 ? '/' : path.map((token) => `/${token.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** The Hono tenants whose messages a connection carries, from its sources' addresses (AMQP or Kafka names). */
export function tenantsOfConnection(connection: JsonObject): string[] {
  const sources = Array.isArray(connection.sources) ? connection.sources : [];
  const tenants = new Set<string>();
  for (const source of sources) {
    if (!isObject(source) || !Array.isArray(source.addresses)) continue;
    for (const address of source.addresses) {
      const match = typeof address === 'string' ? /^(?:telemetry\/|hono\.telemetry\.)(.+)$/.exec(address) : null;
      if (match) tenants.add(match[1]!);
    }
  }
  return [...tenants];
}

function checkConditions(conditions: Conditions, current: Stored | undefined, resource: 'things' | 'policies', read: boolean): void {
  const etag = current === undefined ? undefined : etagOf(current.revision);
  const failed = () => dittoError(412, `${resource}:precondition.failed`, 'The comparison of precondition header failed.');
  if (conditions.ifMatch !== undefined) {
    const wanted = tags(conditions.ifMatch);
    if (etag === undefined || !(wanted.includes('*') || wanted.includes(etag))) throw failed();
  }
  if (conditions.ifNoneMatch !== undefined && etag !== undefined) {
    const unwanted = tags(conditions.ifNoneMatch);
    if (unwanted.includes('*') || unwanted.includes(etag)) {
      if (read) throw new SandboxRefusalError(304, '', { etag });
      throw failed();
    }
  }
}

/** A change of a thing, as the change stream and the history show it. */
export interface ThingEvent {
  thingId: string;
  revision: number;
  /** ISO time of the change (`_modified`). */
  modified: string;
  action: 'created' | 'modified' | 'merged' | 'deleted';
  /** JSON pointer of what changed, `/` for the whole thing. */
  path: string;
  /** What was written at `path` (the merge patch for `merged`; nothing for `deleted`). */
  value?: Json;
  /** The thing's policy at the time, for reading the event later. */
  policyId: string;
}

export class DittoStore {
  /** Every change of every thing, kept for the history API (the sandbox keeps all revisions). */
  private readonly events: Collection<ThingEvent>;
  private readonly listeners = new Set<(event: ThingEvent) => void>();
  private readonly things: Collection<Stored>;
  private readonly policies: Collection<Stored>;
  private readonly connections: Collection<Stored>;
  private tenantsServed: Set<string> | undefined;

  constructor(state: SandboxState) {
    this.things = state.collection('ditto-things');
    this.policies = state.collection('ditto-policies');
    this.connections = state.collection('ditto-connections');
    this.events = state.collection('ditto-thing-events');
  }

  /** Calls `listener` with every change from now on; returns the function that stops it. */
  onChange(listener: (event: ThingEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The recorded changes of a thing from revision `from` to `to` (inclusive), in order. */
  history(thingId: string, from: number, to = Number.MAX_SAFE_INTEGER): ThingEvent[] {
    return [...this.events.entriesWith(`${thingId}\n`)]
      .map(([, event]) => event)
      .filter((event) => event.revision >= from && event.revision <= to);
  }

  /**
   * The thing as it was at a revision (or at a time: the last revision not after it), rebuilt from the recorded
   * changes; 404 when there was no such revision or the thing did not exist then.
   */
  thingAt(thingId: string, at: { revision?: number; timestamp?: string }, subjects: readonly string[]): Stored {
    let thing: JsonObject | undefined;
    let last: ThingEvent | undefined;
    let created = '';
    for (const event of this.history(thingId, 0)) {
      if (at.revision !== undefined && event.revision > at.revision) break;
      if (at.timestamp !== undefined && Date.parse(event.modified) > Date.parse(at.timestamp)) break;
      const path = pointerTokens(event.path);
      if (event.action === 'deleted') thing = path.length === 0 ? undefined : deleteAt(thing ?? {}, path);
      else if (event.action === 'merged') {
        const merged = mergePatch(path.length === 0 ? thing : getAt(thing, path), event.value ?? null);
        thing =
          path.length === 0
            ? (merged as JsonObject)
            : merged === undefined
              ? deleteAt(thing ?? {}, path)
              : setAt(thing ?? {}, path, merged as Json);
      } else thing = path.length === 0 ? (event.value as JsonObject) : setAt(thing ?? {}, path, event.value ?? null);
      if (event.action === 'created' && path.length === 0) created = event.modified;
      last = event;
    }
    if (thing === undefined || last === undefined || (at.revision !== undefined && last.revision !== at.revision)) {
      throw dittoError(404, 'things:thing.history.notfound', `The Thing '${thingId}' had no such revision.`);
    }
    if (!this.mayRead(last.policyId, subjects)) throw this.thingNotFound(thingId);
    return { value: thing, revision: last.revision, created, modified: last.modified };
  }

  /** Whether `subjects` may read the thing (as a whole) under the policy it had or has. */
  mayRead(policyId: string, subjects: readonly string[]): boolean {
    return allowed(this.policies.get(policyId)?.value, subjects, 'thing', [], 'READ');
  }

  private async recordEvent(event: ThingEvent): Promise<void> {
    await this.events.put(`${event.thingId}\n${String(event.revision).padStart(12, '0')}`, event);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A stream that fails (its client gone mid-write) never fails the change itself.
      }
    }
  }

  // ---- connections (devops only; stored resources whose sources tell the wiring which tenants to serve) ----

  /** The Hono tenants the stored connections serve; derived once per change of the connections, not per message. */
  connectedTenants(): ReadonlySet<string> {
    this.tenantsServed ??= new Set([...this.connections.entriesWith()].flatMap(([, stored]) => tenantsOfConnection(stored.value)));
    return this.tenantsServed;
  }

  getConnection(connectionId: string): Stored {
    const stored = this.connections.get(connectionId);
    if (stored === undefined)
      throw dittoError(404, 'connectivity:connection.notfound', `The Connection with ID '${connectionId}' could not be found.`);
    return stored;
  }

  async putConnection(connectionId: string, value: Json): Promise<{ created: boolean; stored: Stored }> {
    if (!isObject(value)) throw dittoError(400, 'json.invalid', 'The connection must be a JSON object.');
    for (const field of ['connectionType', 'connectionStatus', 'uri'] as const) {
      if (typeof value[field] !== 'string')
        throw dittoError(400, 'connectivity:connection.configuration.invalid', `The connection needs '${field}'.`);
    }
    if (value.id !== undefined && value.id !== connectionId)
      throw dittoError(400, 'connectivity:connection.id.notsettable', 'The connection ID in the body must match the one in the URL.');
    const current = this.connections.get(connectionId);
    const now = new Date().toISOString();
    const stored: Stored = {
      value: { ...value, id: connectionId },
      revision: (current?.revision ?? 0) + 1,
      created: current?.created ?? now,
      modified: now,
    };
    await this.connections.put(connectionId, stored);
    this.tenantsServed = undefined;
    return { created: current === undefined, stored };
  }

  async deleteConnection(connectionId: string): Promise<void> {
    this.getConnection(connectionId);
    await this.connections.delete(connectionId);
    this.tenantsServed = undefined;
  }

  // ---- things ------------------------------------------------------------------------------------

  thingNotFound(thingId: string): SandboxRefusalError {
    return dittoError(
      404,
      'things:thing.notfound',
      `The Thing with ID '${thingId}' could not be found or requester had insufficient permissions to access it.`,
    );
  }

  private readable(thingId: string, subjects: readonly string[], path: readonly string[]): Stored {
    const stored = this.things.get(thingId);
    if (stored === undefined) throw this.thingNotFound(thingId);
    const policy = this.policies.get(String(stored.value.policyId))?.value;
    if (!allowed(policy, subjects, 'thing', path, 'READ')) {
      // Readable somewhere above (the thing exists for the caller) but not here: the part is "not found" too.
      throw path.length === 0 || !allowed(policy, subjects, 'thing', [], 'READ')
        ? this.thingNotFound(thingId)
        : this.partNotFound(thingId, path);
    }
    return stored;
  }

  private partNotFound(thingId: string, path: readonly string[]): SandboxRefusalError {
    return dittoError(
      404,
      `${partCode(path)}.notfound`,
      `The ${path.join('/')} of the Thing with ID '${thingId}' could not be found or requester had insufficient permissions to access it.`,
    );
  }

  /** The thing (or a part of it) with its revision; 404 when missing or not readable, 304/412 for conditions. */
  /** The thing as it is now, or undefined (for the change stream's filter). */
  currentThing(thingId: string): JsonObject | undefined {
    return this.things.get(thingId)?.value;
  }

  /**
   * Writes `value` at `path` of the stored thing without a new revision, event or history entry, as someone editing
   * Ditto's database directly would; false when the thing does not exist.
   */
  async overwriteUnrecorded(thingId: string, path: readonly string[], value: Json): Promise<boolean> {
    const current = this.things.get(thingId);
    if (current === undefined) return false;
    const next = path.length === 0 ? { ...(value as JsonObject), thingId } : setAt(current.value, path, value);
    await this.things.put(thingId, { ...current, value: next });
    return true;
  }

  /** Every thing `subjects` may read (for the search). */
  readableThings(subjects: readonly string[]): Stored[] {
    return [...this.things.entriesWith()]
      .map(([, stored]) => stored)
      .filter((stored) => this.mayRead(String(stored.value.policyId), subjects));
  }

  /** The things among `thingIds` that `subjects` may read, in the order asked (`GET /things?ids=`). */
  listThings(thingIds: readonly string[], subjects: readonly string[]): Stored[] {
    return thingIds
      .map((thingId) => this.things.get(thingId))
      .filter((stored): stored is Stored => stored !== undefined && this.mayRead(String(stored.value.policyId), subjects));
  }

  getThing(thingId: string, path: readonly string[], subjects: readonly string[], conditions: Conditions): { value: Json; stored: Stored } {
    const stored = this.readable(thingId, subjects, path);
    checkConditions(conditions, stored, 'things', true);
    const value = path.length === 0 ? stored.value : getAt(stored.value, path);
    if (value === undefined) throw this.partNotFound(thingId, path);
    return { value, stored };
  }

  /**
   * Creates or replaces the thing, or a part of it (`path`); resolves with whether it was created and the new state.
   * A new thing without a policy gets Ditto's default policy (its creator may do everything), under its own ID.
   */
  async putThing(
    thingId: string,
    path: readonly string[],
    value: Json,
    subjects: readonly string[],
    conditions: Conditions,
  ): Promise<{ created: boolean; stored: Stored }> {
    const current = this.things.get(thingId);
    checkConditions(conditions, current, 'things', false);
    const now = new Date().toISOString();
    if (current === undefined) {
      if (path.length > 0) throw this.thingNotFound(thingId);
      const thing = this.checkedThing(thingId, value);
      let policyId = typeof thing.policyId === 'string' ? thing.policyId : thingId;
      const inline = isObject(thing._policy) ? thing._policy : undefined;
      delete thing._policy;
      if (!this.policies.has(policyId)) {
        await this.policies.put(policyId, {
          value: { ...(inline ?? defaultPolicy(policyId, subjects)), policyId },
          revision: 1,
          created: now,
          modified: now,
        });
      } else if (!allowed(this.policies.get(policyId)!.value, subjects, 'thing', [], 'WRITE')) {
        throw dittoError(
          403,
          'things:thing.notcreatable',
          `The Thing with ID '${thingId}' could not be created as the policy '${policyId}' does not allow it.`,
        );
      }
      policyId = String(policyId);
      // A thing created again after a deletion goes on counting revisions, as in Ditto.
      const revision = (this.history(thingId, 0).at(-1)?.revision ?? 0) + 1;
      const stored: Stored = { value: { thingId, policyId, ...thing }, revision, created: now, modified: now };
      await this.things.put(thingId, stored);
      await this.recordEvent({ thingId, revision, modified: now, action: 'created', path: '/', value: stored.value, policyId });
      return { created: true, stored };
    }
    this.writable(thingId, current, subjects, path);
    const existed = path.length === 0 || getAt(current.value, path) !== undefined;
    const next = path.length === 0 ? { ...this.checkedThing(thingId, value), thingId } : setAt(current.value, path, value);
    if (path.length === 0 && next.policyId === undefined) next.policyId = current.value.policyId as Json;
    const stored: Stored = { value: next, revision: current.revision + 1, created: current.created, modified: now };
    await this.things.put(thingId, stored);
    await this.recordEvent({
      thingId,
      revision: stored.revision,
      modified: now,
      action: existed ? 'modified' : 'created',
      path: pointerOf(path),
      value: path.length === 0 ? next : value,
      policyId: String(next.policyId),
    });
    return { created: !existed, stored };
  }

  async mergeThing(
    thingId: string,
    path: readonly string[],
    patch: Json,
    subjects: readonly string[],
    conditions: Conditions,
  ): Promise<Stored> {
    const current = this.things.get(thingId);
    if (current === undefined) throw this.thingNotFound(thingId);
    checkConditions(conditions, current, 'things', false);
    this.writable(thingId, current, subjects, path);
    const merged = mergePatch(path.length === 0 ? current.value : getAt(current.value, path), patch);
    const next =
      path.length === 0
        ? (merged as JsonObject)
        : merged === undefined
          ? deleteAt(current.value, path)
          : setAt(current.value, path, merged as Json);
    if (next.thingId !== thingId) throw dittoError(400, 'things:id.notsettable', 'The Thing ID in the body must match the one in the URL.');
    const stored: Stored = { value: next, revision: current.revision + 1, created: current.created, modified: new Date().toISOString() };
    await this.things.put(thingId, stored);
    await this.recordEvent({
      thingId,
      revision: stored.revision,
      modified: stored.modified,
      action: 'merged',
      path: pointerOf(path),
      value: patch,
      policyId: String(next.policyId),
    });
    return stored;
  }

  async deleteThing(thingId: string, path: readonly string[], subjects: readonly string[], conditions: Conditions): Promise<void> {
    const current = this.things.get(thingId);
    if (current === undefined) throw this.thingNotFound(thingId);
    checkConditions(conditions, current, 'things', false);
    this.writable(thingId, current, subjects, path);
    if (path.length === 0) {
      await this.things.delete(thingId);
      return;
    }
    if (getAt(current.value, path) === undefined) throw this.partNotFound(thingId, path);
    await this.things.put(thingId, {
      value: deleteAt(current.value, path),
      revision: current.revision + 1,
      created: current.created,
      modified: new Date().toISOString(),
    });
  }

  private writable(thingId: string, current: Stored, subjects: readonly string[], path: readonly string[]): void {
    const policy = this.policies.get(String(current.value.policyId))?.value;
    if (allowed(policy, subjects, 'thing', path, 'WRITE')) return;
    if (!allowed(policy, subjects, 'thing', path, 'READ') && !allowed(policy, subjects, 'thing', [], 'READ'))
      throw this.thingNotFound(thingId);
    throw dittoError(
      403,
      `${partCode(path)}.notmodifiable`,
      `The ${path.length === 0 ? 'Thing' : path.join('/')} of '${thingId}' could not be modified as the requester had insufficient permissions.`,
    );
  }

  private checkedThing(thingId: string, value: Json): JsonObject {
    if (!isObject(value)) throw dittoError(400, 'json.invalid', 'The Thing must be a JSON object.');
    if (value.thingId !== undefined && value.thingId !== thingId) {
      throw dittoError(400, 'things:id.notsettable', 'The Thing ID in the body must match the one in the URL.');
    }
    for (const key of ['attributes', 'features'] as const) {
      if (value[key] !== undefined && !isObject(value[key])) throw dittoError(400, 'json.field.invalid', `${key} must be a JSON object.`);
    }
    if (value.policyId !== undefined && (typeof value.policyId !== 'string' || !ENTITY_ID.test(value.policyId))) {
      throw dittoError(400, 'policies:id.invalid', "The policyId must be 'namespace:name'.");
    }
    const { thingId: _id, _revision: _r, _created: _c, _modified: _m, ...thing } = value;
    return thing;
  }

  /**
   * Checks that `subjects` may send a message to `path` (`/inbox/messages/{subject}`, or a feature's) of the thing, and
   * names the Hono tenant whose connection delivers it: the tenant of a stored connection whose subject the thing's
   * policy lets READ that path of `message:/`. Undefined when no connection does.
   */
  messageRoute(thingId: string, path: readonly string[], subjects: readonly string[]): { tenant: string | undefined } {
    const stored = this.things.get(thingId);
    const policy = stored === undefined ? undefined : this.policies.get(String(stored.value.policyId))?.value;
    if (stored === undefined || !allowed(policy, subjects, 'message', path, 'WRITE')) {
      if (stored === undefined || !allowed(policy, subjects, 'thing', [], 'READ')) throw this.thingNotFound(thingId);
      throw dittoError(
        403,
        'messages:send.notallowed',
        `You are not allowed to send messages to '${path.join('/')}' of the Thing '${thingId}'.`,
      );
    }
    return {
      tenant: [...this.connectedTenants()].find((tenant) =>
        allowed(policy, [`pre-authenticated:hono-connection-${tenant}`], 'message', path, 'READ'),
      ),
    };
  }

  // ---- policies ----------------------------------------------------------------------------------

  policyNotFound(policyId: string): SandboxRefusalError {
    return dittoError(
      404,
      'policies:policy.notfound',
      `The Policy with ID '${policyId}' could not be found or requester had insufficient permissions to access it.`,
    );
  }

  getPolicy(policyId: string, subjects: readonly string[], conditions: Conditions): Stored {
    const stored = this.policies.get(policyId);
    if (stored === undefined || !allowed(stored.value, subjects, 'policy', [], 'READ')) throw this.policyNotFound(policyId);
    checkConditions(conditions, stored, 'policies', true);
    return stored;
  }

  async putPolicy(
    policyId: string,
    value: Json,
    subjects: readonly string[],
    conditions: Conditions,
  ): Promise<{ created: boolean; stored: Stored }> {
    const current = this.policies.get(policyId);
    checkConditions(conditions, current, 'policies', false);
    if (!isObject(value) || !isObject(value.entries)) throw dittoError(400, 'policies:entry.invalid', 'A policy needs entries.');
    if (value.policyId !== undefined && value.policyId !== policyId)
      throw dittoError(400, 'policies:id.notsettable', 'The Policy ID in the body must match the one in the URL.');
    if (current !== undefined && !allowed(current.value, subjects, 'policy', [], 'WRITE')) {
      if (!allowed(current.value, subjects, 'policy', [], 'READ')) throw this.policyNotFound(policyId);
      throw dittoError(
        403,
        'policies:policy.notmodifiable',
        `The Policy with ID '${policyId}' could not be modified as the requester had insufficient permissions.`,
      );
    }
    const policy = { ...value, policyId };
    if (!allowed(policy, subjects, 'policy', [], 'WRITE')) {
      throw dittoError(
        403,
        'policies:policy.modificationinvalid',
        'The policy would take WRITE on policy:/ from its author: nobody could change it any more.',
      );
    }
    const now = new Date().toISOString();
    const stored: Stored = { value: policy, revision: (current?.revision ?? 0) + 1, created: current?.created ?? now, modified: now };
    await this.policies.put(policyId, stored);
    return { created: current === undefined, stored };
  }

  /** A part of a policy (`/entries`, `/entries/{label}`, …) under the same rules as the whole policy. */
  getPolicyPart(
    policyId: string,
    path: readonly string[],
    subjects: readonly string[],
    conditions: Conditions,
  ): { value: Json; stored: Stored } {
    const stored = this.getPolicy(policyId, subjects, conditions);
    const value = getAt(stored.value, path);
    if (value === undefined)
      throw dittoError(
        404,
        path[0] === 'entries' && path.length === 2 ? 'policies:entry.notfound' : 'policies:resource.notfound',
        `The ${path.join('/')} of the Policy with ID '${policyId}' could not be found.`,
      );
    return { value, stored };
  }

  /** Replaces (or creates) a part of an existing policy; the result must still leave its author WRITE on `policy:/`. */
  async putPolicyPart(
    policyId: string,
    path: readonly string[],
    value: Json,
    subjects: readonly string[],
    conditions: Conditions,
  ): Promise<{ created: boolean; stored: Stored }> {
    const current = this.policies.get(policyId);
    if (current === undefined) throw this.policyNotFound(policyId);
    const existed = getAt(current.value, path) !== undefined;
    const { stored } = await this.putPolicy(policyId, setAt(current.value, path, value), subjects, conditions);
    return { created: !existed, stored };
  }

  async deletePolicyPart(policyId: string, path: readonly string[], subjects: readonly string[], conditions: Conditions): Promise<void> {
    this.getPolicyPart(policyId, path, subjects, conditions);
    const current = this.policies.get(policyId)!;
    await this.putPolicy(policyId, deleteAt(current.value, path), subjects, conditions);
  }

  async deletePolicy(policyId: string, subjects: readonly string[], conditions: Conditions): Promise<void> {
    const current = this.policies.get(policyId);
    if (current === undefined || !allowed(current.value, subjects, 'policy', [], 'READ')) throw this.policyNotFound(policyId);
    checkConditions(conditions, current, 'policies', false);
    if (!allowed(current.value, subjects, 'policy', [], 'WRITE')) {
      throw dittoError(
        403,
        'policies:policy.notmodifiable',
        `The Policy with ID '${policyId}' could not be deleted as the requester had insufficient permissions.`,
      );
    }
    await this.policies.delete(policyId);
  }
}
