import { ValidationError } from '../core/errors.js';
import { type IdRules, validateNamespace, validatePolicyId, validateThingId } from '../core/ids.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { type FeatureHandle, type FeaturesHandle, checkFeatureIds, featureHandle, featuresHandle } from './features.js';
import type { DittoGetOptions, DittoHeaderOptions, DittoReadOptions } from './headers.js';
import { type ThingHistoryChange, type ThingHistoryOptions, thingHistory } from './history.js';
import { API_PREFIX, fieldsQuery, thingPath } from './paths.js';
import { type DittoResource, jsonText, requireObject } from './resource.js';
import type { NewThing, Thing, ThingDefinition, Versioned, WriteResult } from './types.js';
import { type JsonTreeHandle, jsonTree } from './values.js';

export interface ThingCreateOptions extends DittoHeaderOptions {
  /** Namespace of the generated thing ID; Ditto's default namespace otherwise. */
  namespace?: string;
  /** Allow creating a policy that does not give the caller WRITE on `policy:/`. */
  allowPolicyLockout?: boolean;
}

export interface ThingPutResult extends WriteResult {
  /** The thing as Ditto stored it (201 only). */
  thing: Thing | undefined;
}

export interface ThingDefinitionHandle {
  get(options?: DittoGetOptions): Promise<ThingDefinition>;
  put(definition: ThingDefinition, options?: DittoHeaderOptions): Promise<WriteResult>;
  delete(options?: DittoHeaderOptions): Promise<WriteResult>;
}

export interface ThingPolicyIdHandle {
  get(options?: DittoGetOptions): Promise<string>;
  put(policyId: string, options?: DittoHeaderOptions): Promise<WriteResult>;
}

/** Options of `things.list`: it reads the current state only (read a thing's history with `things.get`). */
export type ThingListOptions = Omit<DittoReadOptions, 'atHistoricalRevision' | 'atHistoricalTimestamp'>;

/** A patch for `things.merge`: RFC 7396 merge patch, `null` deletes. */
export type ThingPatch = { [key: string]: unknown };

/** Keeps `GET /things?ids=` well below Ditto's 8k URI limit (414). */
const MAX_IDS_QUERY_CHARS = 6000;

function checkThingBody(field: string, thing: unknown, rules: IdRules, thingId?: string): asserts thing is NewThing {
  requireObject(field, thing);
  if (thing.thingId !== undefined && thing.thingId !== thingId) {
    throw new ValidationError(
      `${field}.thingId`,
      thingId === undefined
        ? 'must not be set when Ditto generates the ID'
        : `${JSON.stringify(thing.thingId)} differs from the thing ID in the path ${JSON.stringify(thingId)}`,
      thingId === undefined ? 'Use things.put(thingId, thing) to choose the ID.' : 'Leave thingId out of the body.',
    );
  }
  if (thing.policyId !== undefined) validatePolicyId(thing.policyId, rules, `${field}.policyId`);
  if (thing._policy !== undefined && thing._copyPolicyFrom !== undefined) {
    throw new ValidationError(
      `${field}._copyPolicyFrom`,
      'cannot be combined with _policy',
      'Give either an inline policy or a policy to copy.',
    );
  }
  if (thing._policy !== undefined) requireObject(`${field}._policy`, thing._policy);
  if (thing.features !== undefined && thing.features !== null) {
    requireObject(`${field}.features`, thing.features);
    checkFeatureIds(thing.features, rules, `${field}.features`);
  }
  if (thing.attributes !== undefined && thing.attributes !== null) requireObject(`${field}.attributes`, thing.attributes);
}

function chunkIds(ids: string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const id of ids) {
    const size = encodeURIComponent(id).length + 3;
    if (current.length > 0 && length + size > MAX_IDS_QUERY_CHARS) {
      chunks.push(current);
      current = [];
      length = 0;
    }
    current.push(id);
    length += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Things: `/api/2/things/...`. */
export class ThingsApi {
  constructor(
    private readonly resource: DittoResource,
    private readonly rules: IdRules,
    private readonly logger: Logger = silentLogger,
  ) {}

  /** `POST /things`: Ditto picks the ID (and creates a default policy unless the body brings one). */
  async create(thing: NewThing = {}, options: ThingCreateOptions = {}): Promise<Thing> {
    checkThingBody('thing', thing, this.rules);
    if (options.namespace !== undefined) validateNamespace(options.namespace);
    if (options.responseRequired === false || options.dittoTimeout === 0 || options.dittoTimeout === '0') {
      throw new ValidationError(
        'responseRequired',
        "create() needs Ditto's answer to learn the generated thing ID",
        'Use things.put(thingId, thing) for fire-and-forget.',
      );
    }
    const query = {
      namespace: options.namespace,
      'allow-policy-lockout': options.allowPolicyLockout,
    };
    const response = await this.resource.send<Thing>('POST', `${API_PREFIX}/things`, jsonText('thing', thing), options, query);
    return response.data;
  }

  /** `PUT /things/{thingId}`: creates (201, `created: true`) or replaces (204). */
  async put(thingId: string, thing: NewThing, options: DittoHeaderOptions = {}): Promise<ThingPutResult> {
    const path = thingPath(thingId, this.rules);
    checkThingBody('thing', thing, this.rules, thingId);
    const result = await this.resource.put<Thing>(path, 'thing', thing, options);
    return { status: result.status, created: result.created, etag: result.etag, thing: result.value };
  }

  /** The thing; with `atHistoricalRevision` / `atHistoricalTimestamp` as it was then (see `DittoHistoryOptions`). */
  async get(thingId: string, options: DittoReadOptions = {}): Promise<Thing> {
    return (await this.getVersioned(thingId, options)).value;
  }

  /** The thing and its ETag (`"rev:N"`), for a later `ifMatch`. */
  async getVersioned(thingId: string, options: DittoReadOptions = {}): Promise<Versioned<Thing>> {
    const path = thingPath(thingId, this.rules);
    const fields = fieldsQuery(options.fields);
    return this.resource.getVersioned<Thing>(path, options, fields === undefined ? undefined : { fields });
  }

  /** `PATCH /things/{thingId}` with `application/merge-patch+json`. */
  async merge(thingId: string, patch: ThingPatch, options: DittoHeaderOptions = {}): Promise<WriteResult> {
    const path = thingPath(thingId, this.rules);
    requireObject('patch', patch);
    if (patch.thingId !== undefined && patch.thingId !== thingId) {
      throw new ValidationError('patch.thingId', 'differs from the thing ID in the path');
    }
    if (typeof patch.policyId === 'string') validatePolicyId(patch.policyId, this.rules, 'patch.policyId');
    if (typeof patch.features === 'object' && patch.features !== null) checkFeatureIds(patch.features, this.rules, 'patch.features');
    return this.resource.merge(path, 'patch', patch, options);
  }

  async delete(thingId: string, options: DittoHeaderOptions = {}): Promise<WriteResult> {
    return this.resource.delete(thingPath(thingId, this.rules), options);
  }

  /**
   * `GET /things?ids=...`: the things you may read, in the order asked. Unknown or hidden IDs are
   * simply missing from the result. Long lists are split into several requests.
   */
  async list(thingIds: readonly string[], options: ThingListOptions = {}): Promise<Thing[]> {
    if (!Array.isArray(thingIds)) throw new ValidationError('thingIds', 'must be an array of thing IDs');
    for (const field of ['atHistoricalRevision', 'atHistoricalTimestamp'] as const) {
      if ((options as DittoReadOptions)?.[field] !== undefined) {
        throw new ValidationError(
          field,
          'is not supported by things.list',
          'Read each thing at that point with things.get(thingId, options).',
        );
      }
    }
    thingIds.forEach((id, index) => validateThingId(id, this.rules, `thingIds[${index}]`));
    const fields = fieldsQuery(options.fields);
    if (thingIds.length === 0) return [];
    const out: Thing[] = [];
    for (const chunk of chunkIds([...thingIds])) {
      const page = await this.resource.get<Thing[]>(`${API_PREFIX}/things`, options, { ids: chunk.join(','), fields });
      if (Array.isArray(page)) out.push(...page);
    }
    return out;
  }

  /**
   * The recorded changes of the thing, oldest first, from Ditto's history (Ditto ≥ 3.2): Server-Sent Events from
   * `GET /things/{thingId}` with `from-historical-revision` or `from-historical-timestamp` (and optionally the
   * matching `to-historical-*`). Each change is shaped like a thing holding what changed, with its `revision` and
   * `timestamp`. The iteration ends when Ditto has sent the whole range (up to the current state when no end is
   * given), when the loop is left, or when `options.signal` aborts (without an error); a dropped connection is
   * resumed after the last revision yielded. 4xx answers end it with the typed `HttpError`. Options are validated
   * before this returns; every iteration opens its own connection. `timeoutMs` bounds each connect, not the stream.
   * Ditto 3.5 answers a history it no longer keeps (or a thing you may not read) with an empty stream, not an error.
   */
  history(thingId: string, options: ThingHistoryOptions): AsyncIterable<ThingHistoryChange> {
    return thingHistory(this.resource.http, this.rules, this.logger, thingId, options);
  }

  /** The thing's attributes: `get('location/lat')`, `put('on', true)`, `merge(undefined, {...})`. */
  attributes(thingId: string): JsonTreeHandle {
    return jsonTree(this.resource, () => `${thingPath(thingId, this.rules)}/attributes`, 'attributes');
  }

  definition(thingId: string): ThingDefinitionHandle {
    const path = () => `${thingPath(thingId, this.rules)}/definition`;
    return {
      get: async (options) => this.resource.get<ThingDefinition>(path(), options),
      put: async (definition, options) => {
        const url = path();
        if (typeof definition !== 'string' || definition === '') {
          throw new ValidationError(
            'definition',
            'must be a non-empty string',
            'e.g. "org.acme:lamp:1.0.0" or a URL to a WoT Thing Model.',
          );
        }
        return this.resource.put(url, 'definition', definition, options);
      },
      delete: async (options) => this.resource.delete(path(), options),
    };
  }

  policyId(thingId: string): ThingPolicyIdHandle {
    const path = () => `${thingPath(thingId, this.rules)}/policyId`;
    return {
      get: async (options) => this.resource.get<string>(path(), options),
      put: async (policyId, options) => {
        const url = path();
        validatePolicyId(policyId, this.rules);
        return this.resource.put(url, 'policyId', policyId, options);
      },
    };
  }

  feature(thingId: string, featureId: string): FeatureHandle {
    return featureHandle(this.resource, this.rules, thingId, featureId);
  }

  features(thingId: string): FeaturesHandle {
    return featuresHandle(this.resource, this.rules, thingId);
  }
}
