/**
 * JSON documents as Ditto handles them: reading, replacing and deleting at a JSON pointer (`/attributes/location/lat`),
 * and RFC 7396 merge patches (`null` deletes), without touching the input.
 */
import { mergePatch as coreMergePatch, valueAt } from '../core/json-tree.js';
import type { Json, JsonObject } from './registry-model.js';
import { isObject } from './registry-model.js';

export type { Json, JsonObject };

/** `/a/b` → `['a', 'b']`; `/` or `` → `[]`. */
export function pointerTokens(pointer: string): string[] {
  return pointer
    .split('/')
    .filter((token) => token !== '')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function getAt(document: Json | undefined, path: readonly string[]): Json | undefined {
  return valueAt(document, path) as Json | undefined;
}

/** A copy of `document` with `value` at `path` (parents created as objects). */
export function setAt(document: JsonObject, path: readonly string[], value: Json): JsonObject {
  if (path.length === 0) return isObject(value) ? value : document;
  const [head, ...rest] = path as [string, ...string[]];
  const child = document[head];
  return { ...document, [head]: rest.length === 0 ? value : setAt(isObject(child) ? child : {}, rest, value) };
}

/** A copy of `document` without what is at `path`. */
export function deleteAt(document: JsonObject, path: readonly string[]): JsonObject {
  const [head, ...rest] = path as [string, ...string[]];
  if (head === undefined) return {};
  if (rest.length === 0) {
    const { [head]: _removed, ...kept } = document;
    return kept;
  }
  const child = document[head];
  return isObject(child) ? { ...document, [head]: deleteAt(child, rest) } : document;
}

/** RFC 7396: objects merge key by key, `null` removes, anything else replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json | undefined {
  return coreMergePatch(target, patch) as Json | undefined;
}

/** Only the listed fields (`thingId,attributes/location,_revision`): Ditto's `fields` selector, one level of pointers each. */
export function selectFields(document: JsonObject, fields: string | null): JsonObject {
  if (fields === null || fields.trim() === '') return document;
  let result: JsonObject = {};
  for (const field of fields
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')) {
    const path = pointerTokens(field);
    const value = getAt(document, path);
    if (value !== undefined) result = setAt(result, path, value);
  }
  return result;
}
