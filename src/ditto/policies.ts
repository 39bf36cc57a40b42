import { ValidationError } from '../core/errors.js';
import { type IdRules, pathSegment, validateDittoKey, validatePolicyId } from '../core/ids.js';
import type { DittoGetOptions, DittoHeaderOptions, DittoReadOptions } from './headers.js';
import { fieldsQuery, noControlCharacters, policyPath, requiredSegment, withPointer } from './paths.js';
import { type DittoResource, requireObject } from './resource.js';
import type {
  NewPolicy,
  Policy,
  PolicyEntries,
  PolicyEntry,
  PolicyImport,
  PolicyImports,
  PutResult,
  Resource,
  Resources,
  Subject,
  Subjects,
  Versioned,
  WriteResult,
} from './types.js';

export interface PolicyPutOptions extends DittoHeaderOptions {
  /** Allow a policy that does not give the caller WRITE on `policy:/`. */
  allowPolicyLockout?: boolean;
}

export interface PolicyPutResult extends WriteResult {
  /** The policy as Ditto stored it (201 only). */
  policy: Policy | undefined;
}

const PERMISSIONS: ReadonlySet<unknown> = new Set(['READ', 'WRITE']);
const RESOURCE_KEY = /^([a-z][a-z0-9-]*):(\/.*)$/;
/** Ditto checks labels like keys (`ImmutableLabel`: no "/", no control characters or U+007F–U+00FF, 1-256 long). */
function labelSegment(field: string, label: unknown): string {
  return pathSegment(validateDittoKey(label, field, 'policy label'), field);
}

/** `thing:/features/lamp` → `thing%3A/features/lamp` (the path stays a path, each segment encoded). */
function resourceKeyPath(field: string, key: unknown): string {
  const match = typeof key === 'string' ? RESOURCE_KEY.exec(key) : null;
  if (!match?.[1] || match[2] === undefined) {
    throw new ValidationError(
      field,
      `${JSON.stringify(key)} is not a resource key`,
      'Resource keys are "<type>:/<path>", e.g. "thing:/", "policy:/", "message:/", "thing:/features/lamp".',
    );
  }
  const pointer = match[2] === '/' ? '' : withPointer('', match[2], field, noControlCharacters).slice(1);
  return `${pathSegment(`${match[1]}:`)}/${pointer}`;
}

function checkResource(field: string, resource: unknown): void {
  requireObject(field, resource);
  for (const effect of ['grant', 'revoke'] as const) {
    const list = resource[effect];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || list.some((permission) => !PERMISSIONS.has(permission))) {
      throw new ValidationError(`${field}.${effect}`, 'must be an array of "READ" / "WRITE"');
    }
  }
}

function checkResources(field: string, resources: unknown): void {
  requireObject(field, resources);
  for (const [key, resource] of Object.entries(resources)) {
    resourceKeyPath(`${field}[${JSON.stringify(key)}]`, key);
    checkResource(`${field}[${JSON.stringify(key)}]`, resource);
  }
}

function checkSubject(field: string, subject: unknown): void {
  requireObject(field, subject);
  if (typeof subject.type !== 'string') {
    throw new ValidationError(`${field}.type`, 'must be a string describing the subject', 'e.g. { "type": "Connection to Eclipse Hono" }');
  }
}

function checkSubjects(field: string, subjects: unknown): void {
  requireObject(field, subjects);
  for (const [subjectId, subject] of Object.entries(subjects)) {
    requiredSegment(`${field} key`, subjectId);
    checkSubject(`${field}[${JSON.stringify(subjectId)}]`, subject);
  }
}

function checkEntry(field: string, entry: unknown): void {
  requireObject(field, entry);
  checkSubjects(`${field}.subjects`, entry.subjects);
  checkResources(`${field}.resources`, entry.resources);
  if (entry.importable !== undefined && !['implicit', 'explicit', 'never'].includes(String(entry.importable))) {
    throw new ValidationError(`${field}.importable`, 'must be "implicit", "explicit" or "never"');
  }
}

function checkEntries(field: string, entries: unknown): void {
  requireObject(field, entries);
  for (const [label, entry] of Object.entries(entries)) {
    labelSegment(`${field} label ${JSON.stringify(label)}`, label);
    checkEntry(`${field}.${label}`, entry);
  }
}

function checkImports(field: string, imports: unknown, rules: IdRules): void {
  requireObject(field, imports);
  for (const [policyId, entry] of Object.entries(imports)) {
    validatePolicyId(policyId, rules, `${field} key`);
    checkImport(`${field}[${JSON.stringify(policyId)}]`, entry);
  }
}

function checkImport(field: string, entry: unknown): void {
  requireObject(field, entry);
  if (entry.entries !== undefined && (!Array.isArray(entry.entries) || entry.entries.some((label) => typeof label !== 'string'))) {
    throw new ValidationError(`${field}.entries`, 'must be an array of entry labels');
  }
}

interface CollectionSpec {
  /** Path of the whole collection (validates IDs when called). */
  base: () => string;
  /** Encoded path segment(s) of one item key (validates the key). */
  key: (key: string) => string;
  checkItem: (field: string, item: unknown) => void;
  checkAll: (field: string, all: unknown) => void;
  itemName: string;
  allName: string;
}

/**
 * A keyed collection inside a policy (entries, subjects of an entry, resources of an entry, imports):
 * `get()` returns all, `get(key)` one; `put(key, item)`, `putAll(all)`, `delete(key)`.
 */
export class PolicyCollection<TItem, TAll> {
  constructor(
    protected readonly resource: DittoResource,
    private readonly spec: CollectionSpec,
  ) {}

  get(key?: undefined, options?: DittoGetOptions): Promise<TAll>;
  get(key: string, options?: DittoGetOptions): Promise<TItem>;
  async get(key?: string, options?: DittoGetOptions): Promise<TAll | TItem> {
    return this.resource.get<TAll | TItem>(this.path(key), options);
  }

  getVersioned(key?: undefined, options?: DittoGetOptions): Promise<Versioned<TAll>>;
  getVersioned(key: string, options?: DittoGetOptions): Promise<Versioned<TItem>>;
  async getVersioned(key?: string, options?: DittoGetOptions): Promise<Versioned<TAll | TItem>> {
    return this.resource.getVersioned<TAll | TItem>(this.path(key), options);
  }

  /** Creates (201, `created: true`) or replaces (204) one item. */
  async put(key: string, item: TItem, options?: DittoHeaderOptions): Promise<PutResult<TItem>> {
    const path = this.path(key);
    this.spec.checkItem(this.spec.itemName, item);
    return this.resource.put<TItem>(path, this.spec.itemName, item, options);
  }

  /** Replaces the whole collection. */
  async putAll(all: TAll, options?: DittoHeaderOptions): Promise<WriteResult> {
    const path = this.spec.base();
    this.spec.checkAll(this.spec.allName, all);
    return this.resource.put(path, this.spec.allName, all, options);
  }

  async delete(key: string, options?: DittoHeaderOptions): Promise<WriteResult> {
    if (key === undefined) throw new ValidationError('key', `delete() needs the ${this.spec.itemName} to remove`);
    return this.resource.delete(this.path(key), options);
  }

  private path(key: string | undefined): string {
    const base = this.spec.base();
    return key === undefined ? base : `${base}/${this.spec.key(key)}`;
  }
}

export type PolicySubjectsHandle = PolicyCollection<Subject, Subjects>;
export type PolicyResourcesHandle = PolicyCollection<Resource, Resources>;
export type PolicyImportsHandle = PolicyCollection<PolicyImport, PolicyImports>;

/** `/policies/{policyId}/entries`, plus the subjects and resources of one entry. */
export class PolicyEntriesHandle extends PolicyCollection<PolicyEntry, PolicyEntries> {
  constructor(
    resource: DittoResource,
    private readonly entriesBase: () => string,
  ) {
    super(resource, {
      base: entriesBase,
      key: (label) => labelSegment('label', label),
      checkItem: checkEntry,
      checkAll: checkEntries,
      itemName: 'entry',
      allName: 'entries',
    });
  }

  /** Subjects of the entry `label`, keyed by subject ID (`nginx:ditto`, `pre-authenticated:hono-connection-<tenant>`). */
  subjects(label: string): PolicySubjectsHandle {
    return new PolicyCollection<Subject, Subjects>(this.resource, {
      base: () => `${this.entriesBase()}/${labelSegment('label', label)}/subjects`,
      key: (subjectId) => requiredSegment('subjectId', subjectId),
      checkItem: checkSubject,
      checkAll: checkSubjects,
      itemName: 'subject',
      allName: 'subjects',
    });
  }

  /** Resources of the entry `label`, keyed by `type:/path` (`thing:/`, `message:/`, `thing:/features/lamp`). */
  resources(label: string): PolicyResourcesHandle {
    return new PolicyCollection<Resource, Resources>(this.resource, {
      base: () => `${this.entriesBase()}/${labelSegment('label', label)}/resources`,
      key: (resourceKey) => resourceKeyPath('resourceKey', resourceKey),
      checkItem: checkResource,
      checkAll: checkResources,
      itemName: 'resource',
      allName: 'resources',
    });
  }
}

/** Policies: `/api/2/policies/...`. */
export class PoliciesApi {
  constructor(
    private readonly resource: DittoResource,
    private readonly rules: IdRules,
  ) {}

  async get(policyId: string, options: DittoReadOptions = {}): Promise<Policy> {
    return (await this.getVersioned(policyId, options)).value;
  }

  async getVersioned(policyId: string, options: DittoReadOptions = {}): Promise<Versioned<Policy>> {
    const path = policyPath(policyId, this.rules);
    const fields = fieldsQuery(options.fields);
    return this.resource.getVersioned<Policy>(path, options, fields === undefined ? undefined : { fields });
  }

  /** `PUT /policies/{policyId}`: creates (201) or replaces (204) the whole policy. */
  async put(policyId: string, policy: NewPolicy, options: PolicyPutOptions = {}): Promise<PolicyPutResult> {
    const path = policyPath(policyId, this.rules);
    requireObject('policy', policy);
    if (policy.policyId !== undefined && policy.policyId !== policyId) {
      throw new ValidationError(
        'policy.policyId',
        `${JSON.stringify(policy.policyId)} differs from the policy ID in the path`,
        'Leave policyId out of the body.',
      );
    }
    checkEntries('policy.entries', policy.entries);
    if (policy.imports !== undefined) checkImports('policy.imports', policy.imports, this.rules);
    const query = options.allowPolicyLockout === undefined ? undefined : { 'allow-policy-lockout': options.allowPolicyLockout };
    const result = await this.resource.put<Policy>(path, 'policy', policy, options, query);
    return { status: result.status, created: result.created, etag: result.etag, policy: result.value };
  }

  async delete(policyId: string, options: DittoHeaderOptions = {}): Promise<WriteResult> {
    return this.resource.delete(policyPath(policyId, this.rules), options);
  }

  entries(policyId: string): PolicyEntriesHandle {
    return new PolicyEntriesHandle(this.resource, () => `${policyPath(policyId, this.rules)}/entries`);
  }

  /** Policy imports, keyed by the imported policy's ID. */
  imports(policyId: string): PolicyImportsHandle {
    return new PolicyCollection<PolicyImport, PolicyImports>(this.resource, {
      base: () => `${policyPath(policyId, this.rules)}/imports`,
      key: (importedPolicyId) => pathSegment(validatePolicyId(importedPolicyId, this.rules, 'importedPolicyId'), 'importedPolicyId'),
      checkItem: checkImport,
      checkAll: (field, all) => checkImports(field, all, this.rules),
      itemName: 'import',
      allName: 'imports',
    });
  }
}
