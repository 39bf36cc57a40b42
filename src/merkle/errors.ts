import { ValidationError } from '../core/errors.js';

/**
 * A proof that cannot be read as one: a size or index that is not a non-negative safe integer, a path that is not an
 * array, a path element that is not 64 hex digits. `field` names it (`proof.path[3]`). A proof that reads but does not
 * prove its claim is not an error: the verify functions return `false` for it.
 */
export class MalformedProofError extends ValidationError {}
