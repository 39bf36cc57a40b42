import { ValidationError } from '../core/errors.js';
import { dittoJsonKey } from '../core/ids.js';
import type { DittoHeaderOptions, DittoReadOptions } from './headers.js';
import { fieldsQuery, withPointer } from './paths.js';
import { type DittoResource, requireObject } from './resource.js';
import type { JsonValue, PutResult, Versioned, WriteResult } from './types.js';

/**
 * A JSON tree below a thing — attributes, a feature's properties or desired properties. `path` is a
 * JSON pointer inside the tree (`location/lat`); leave it out to address the whole tree. Values may be
 * any JSON: numbers, strings, booleans, null, arrays, objects.
 */
export interface JsonTreeHandle {
  get<T extends JsonValue = JsonValue>(path?: string, options?: DittoReadOptions): Promise<T>;
  getVersioned<T extends JsonValue = JsonValue>(path?: string, options?: DittoReadOptions): Promise<Versioned<T>>;
  /** Creates or replaces; the whole tree (no path) must be an object. */
  put(path: string | undefined, value: JsonValue, options?: DittoHeaderOptions): Promise<PutResult<JsonValue>>;
  /** JSON merge patch: `null` members delete, objects merge, everything else replaces. */
  merge(path: string | undefined, value: JsonValue, options?: DittoHeaderOptions): Promise<WriteResult>;
  delete(path?: string, options?: DittoHeaderOptions): Promise<WriteResult>;
}

/**
 * @param base builds (and validates) the tree's path; called inside each operation so bad IDs reject. Each key of
 * `path` must pass Ditto's key rule (`validateDittoKey`).
 */
export function jsonTree(resource: DittoResource, base: () => string, name: string): JsonTreeHandle {
  const target = (path: string | undefined) => ({ path: withPointer(base(), path, 'path', dittoJsonKey), root: isRoot(path) });
  const read = <T>(path: string | undefined, options: DittoReadOptions = {}) => {
    const { path: url, root } = target(path);
    const fields = fieldsQuery(options.fields);
    if (fields !== undefined && !root) {
      throw new ValidationError('fields', `selects inside the whole ${name} only; leave out the path or the fields`);
    }
    return resource.getVersioned<T>(url, options, fields === undefined ? undefined : { fields });
  };
  return {
    async get<T extends JsonValue = JsonValue>(path?: string, options?: DittoReadOptions): Promise<T> {
      return (await read<T>(path, options)).value;
    },
    async getVersioned<T extends JsonValue = JsonValue>(path?: string, options?: DittoReadOptions): Promise<Versioned<T>> {
      return read<T>(path, options);
    },
    async put(path, value, options) {
      const { path: url, root } = target(path);
      if (root) requireObject(name, value);
      return resource.put<JsonValue>(url, 'value', value, options);
    },
    async merge(path, value, options) {
      const { path: url, root } = target(path);
      if (root) requireObject(name, value);
      return resource.merge(url, 'value', value, options);
    },
    async delete(path, options) {
      return resource.delete(target(path).path, options);
    },
  };
}

function isRoot(path: string | undefined): boolean {
  return path === undefined || path.replace(/^\/+|\/+$/g, '') === '';
}
