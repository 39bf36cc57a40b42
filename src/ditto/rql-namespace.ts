/**
 * The members of the `rql` namespace the Ditto entry point exports (`rql.and(rql.eq(...), ...)`): the filter
 * operators and `sortOption`, without the literal and path helpers rql.ts shares with the rest of the module.
 */
export { and, eq, exists, ge, gt, ilike, inList, le, like, lt, ne, not, or, raw, sortOption } from './rql.js';
