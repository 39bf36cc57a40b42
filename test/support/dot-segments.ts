// Shared by the tests that prove `.` / `..` never reach a URL: a nock host that records every request, and
// the assertion that a call was refused before any I/O.
import assert from 'node:assert/strict';
import nock from 'nock';
import { ValidationError } from '../../src/core/index.js';

/** For `assert.rejects` / `assert.throws`: a ValidationError about a dot segment, naming `field`. */
export function isDotSegmentError(field: string): (error: unknown) => true {
  return (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.field, field);
    assert.match(error.message, /dot segment/);
    return true;
  };
}

/** Answer per method of `recordEveryRequest`: status, and for GET a body and headers. */
export type CatchAllAnswer = (method: string) => [number] | [number, string, Record<string, string>];

/** Records every request to `origin` (any method, any path) as `METHOD uri`, so a rewritten URL would be seen. */
export function recordEveryRequest(origin: string, answer: CatchAllAnswer): { seen: string[] } {
  const seen: string[] = [];
  const scope = nock(origin).persist();
  for (const method of ['GET', 'PUT', 'POST', 'DELETE']) {
    scope
      .intercept(() => true, method)
      .reply(function (uri) {
        seen.push(`${method} ${uri}`);
        return answer(method);
      });
  }
  return { seen };
}
