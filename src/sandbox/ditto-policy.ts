/**
 * Ditto's policy evaluation for the sandbox: which subjects may READ or WRITE what. A policy's entries name subjects
 * and grant or revoke permissions on resources (`thing:/attributes/location`, `policy:/`, `message:/`); for a path,
 * the most specific resource on the way from the root decides, and at the same depth a revoke beats a grant.
 */
import { pointerTokens } from './ditto-json.js';
import { type JsonObject, isObject } from './registry-model.js';

export type ResourceType = 'thing' | 'policy' | 'message';
export type Permission = 'READ' | 'WRITE';

export function allowed(
  policy: JsonObject | undefined,
  subjects: readonly string[],
  type: ResourceType,
  path: readonly string[],
  permission: Permission,
): boolean {
  if (policy === undefined || !isObject(policy.entries)) return false;
  let decision: boolean | undefined;
  let depth = -1;
  for (const entry of Object.values(policy.entries)) {
    if (!isObject(entry) || !isObject(entry.subjects) || !isObject(entry.resources)) continue;
    if (!subjects.some((subject) => subject in (entry.subjects as JsonObject))) continue;
    for (const [key, resource] of Object.entries(entry.resources)) {
      if (!key.startsWith(`${type}:`) || !isObject(resource)) continue;
      const tokens = pointerTokens(key.slice(type.length + 1));
      if (tokens.length > path.length || tokens.some((token, index) => token !== path[index])) continue;
      const grants = Array.isArray(resource.grant) && resource.grant.includes(permission);
      const revokes = Array.isArray(resource.revoke) && resource.revoke.includes(permission);
      if (revokes && tokens.length >= depth) {
        decision = false;
        depth = tokens.length;
      } else if (grants && (tokens.length > depth || (tokens.length === depth && decision !== false))) {
        decision = true;
        depth = tokens.length;
      }
    }
  }
  return decision === true;
}

/** The policy Ditto creates for a thing created without one: its creator may read and write the thing, the policy and messages. */
export function defaultPolicy(policyId: string, subjects: readonly string[]): JsonObject {
  const all = { grant: ['READ', 'WRITE'], revoke: [] };
  return {
    policyId,
    entries: {
      DEFAULT: {
        subjects: Object.fromEntries(subjects.map((subject) => [subject, { type: 'the creator' }])),
        resources: { 'thing:/': all, 'policy:/': all, 'message:/': all },
      },
    },
  };
}
