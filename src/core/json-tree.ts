/**
 * Plain JSON documents as trees: the value at a path of keys, and RFC 7396 merge patches (objects merge key by key,
 * `null` removes, anything else replaces). Pure, and never changes its input.
 */

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `segments` (object keys, outermost first), or undefined when the path leaves the objects. */
export function valueAt(root: unknown, segments: readonly string[]): unknown {
  let current = root;
  for (const segment of segments) {
    if (!isJsonObject(current)) return undefined;
    current = current[segment];
  }
  return current;
}

/** `target` with the RFC 7396 merge patch `patch` applied. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const result: Record<string, unknown> = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
