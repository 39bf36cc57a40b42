// Ditto's own JSON schemas of the Ditto Protocol (specs/ditto/protocol), compiled for tests: the contract test of the
// SDK's builders and the sandbox tests of what the sandbox emits use the same validators.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import type { ErrorObject } from 'ajv';
import { skipReason, specsDir } from './openapi.js';

/** Throws on invalid data; the error carries ajv's structured `errors`. */
export type Validate = (data: unknown) => void;

export class SchemaViolation extends Error {
  constructor(
    message: string,
    readonly errors: ErrorObject[],
  ) {
    super(message);
  }
}

export function protocolDir(): string {
  const dir = specsDir();
  assert.ok(dir, skipReason());
  return join(dir, 'ditto', 'protocol');
}

export function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}

/** A validator for one schema file of the protocol folder (JSON Schema draft-04, through `ajv-draft-04`). */
export function compileProtocolSchema(schemaFile: string): Validate {
  // Both packages are CommonJS with an `exports.default`; that is what NodeNext types and ESM both see.
  const ajv = new AjvDraft04.default({ allErrors: true, strict: false });
  ajvFormats.default(ajv);
  const validate = ajv.compile(readJson(join(protocolDir(), schemaFile)) as object);
  return (data) => {
    if (validate(data)) return;
    const errors = validate.errors ?? [];
    throw new SchemaViolation(`${schemaFile}: ${ajv.errorsText(errors)}\n${JSON.stringify(data, null, 2)}`, errors);
  };
}
