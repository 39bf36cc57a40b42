// A typed rejection check shared by the tests: the error a promise rejects with, after checking its class.
import assert from 'node:assert/strict';

export async function rejectsWith<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${type.name}, but it resolved`);
}
