// Errors in their place: every error the SDK raises is a TwinLedgerError with a code, error classes live in their
// module's errors.ts, and nothing in src/ builds a plain Error, throws a non-Error or patches a code on afterwards.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { DeviceConnectError, HttpError, LedgerError, TwinLedgerError } from '../../src/index.js';
import { CONNACK_REASON_CODES, CONNACK_RETURN_CODES, SUBACK_FAILURE } from '../../src/device/mqtt-codes.js';
import { sourceFiles } from '../support/architecture.js';

const src = resolve(import.meta.dirname, '..', '..', 'src');

interface Finding {
  file: string;
  line: number;
  text: string;
}

interface ErrorClassDeclaration {
  name: string;
  file: string;
  ownConstructor: boolean;
}

const PLAIN_ERRORS = new Set([
  'Error',
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'URIError',
  'EvalError',
  'AggregateError',
]);

function scan(dir: string): {
  plainErrors: Finding[];
  thrownNonErrors: Finding[];
  patchedCodes: Finding[];
  classes: ErrorClassDeclaration[];
} {
  const result = {
    plainErrors: [] as Finding[],
    thrownNonErrors: [] as Finding[],
    patchedCodes: [] as Finding[],
    classes: [] as ErrorClassDeclaration[],
  };
  for (const full of sourceFiles(dir)) {
    const file = relative(dir, full).split(sep).join('/');
    const source = ts.createSourceFile(full, readFileSync(full, 'utf8'), ts.ScriptTarget.Latest, true);
    const finding = (node: ts.Node): Finding => ({
      file,
      line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
      text: node.getText(source).split('\n')[0] ?? '',
    });
    const visit = (node: ts.Node): void => {
      if (
        (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
        ts.isIdentifier(node.expression) &&
        PLAIN_ERRORS.has(node.expression.text)
      ) {
        result.plainErrors.push(finding(node));
      }
      if (
        ts.isThrowStatement(node) &&
        (ts.isLiteralExpression(node.expression) ||
          ts.isTemplateExpression(node.expression) ||
          ts.isObjectLiteralExpression(node.expression))
      ) {
        result.thrownNonErrors.push(finding(node));
      }
      if (
        ts.isCallExpression(node) &&
        /^Object\.define(Property|Properties)$|^Reflect\.defineProperty$/.test(node.expression.getText(source)) &&
        node.arguments.some((argument) => /\bcode\b/.test(argument.getText(source)))
      ) {
        result.patchedCodes.push(finding(node));
      }
      if (ts.isClassDeclaration(node) && node.name !== undefined) {
        const base = node.heritageClauses?.find((clause) => clause.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
        if (base !== undefined && /Error$/.test(base.getText(source))) {
          result.classes.push({ name: node.name.text, file, ownConstructor: node.members.some(ts.isConstructorDeclaration) });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return result;
}

const TARGET = { tenantId: 't', deviceId: 'org.acme:lamp-1', name: 'switch' };
const RESPONSE = {
  status: 500,
  contentType: undefined,
  payload: new Uint8Array(),
  text: () => '',
  json: () => null,
  correlationId: 'c',
  properties: {},
};
const DETAILS = { status: 500, method: 'GET', url: 'http://registry.example/v1/devices/t' };

/** Constructor arguments per class; a class without its own constructor uses its nearest ancestor's. */
const SAMPLE_ARGUMENTS: Readonly<Record<string, readonly unknown[]>> = {
  TwinLedgerError: ['message', { code: 'sample' }],
  ValidationError: ['deviceId', 'must not be empty'],
  TimeoutError: ['GET x', 1000],
  AbortError: ['GET x'],
  ClientClosedError: ['HTTP', 'GET x'],
  NetworkError: ['GET', 'http://registry.example', 'ECONNREFUSED'],
  HttpError: [DETAILS],
  ThrownValueError: ['a string'],
  DeviceClientStateError: ['closed', 'publish()'],
  DeviceOfflineError: ['telemetry'],
  OfflineQueueFullError: ['telemetry', 10, 'rejected'],
  CommandAlreadyAnsweredError: ['switch', 'r-1'],
  OneWayCommandError: ['switch'],
  DeviceConnectError: ['mqtts://adapter.example:8883', 'refused'],
  DeviceConnectionLostError: ['mqtts://adapter.example:8883', 'reset'],
  DevicePayloadTooLargeError: [{ ...DETAILS, status: 413, limitBytes: 2048 }],
  CommandError: [TARGET, 'failed', 'command.sample'],
  DeviceNotConnectedError: [TARGET],
  CommandRejectedError: [TARGET],
  CommandTimeoutError: [TARGET, 1000],
  CommandFailedError: [TARGET, RESPONSE],
  NoCommandConsumerError: [TARGET, 1000],
  NorthboundNotConnectedError: ['command', 'closed', { transport: 'kafka' }],
  MalformedMessageError: ['no device_id'],
  AmqpAuthenticationError: ['amqp://router.example:15672', 'SASL failed'],
  NorthboundLinkError: ['telemetry/t', 'closed by the peer', 'amqp:not-found'],
  KafkaConnectError: [['kafka.example:9094'], 'refused'],
  KafkaConsumerError: ['hono.telemetry.t', 'crashed'],
  KafkaConsumerNotRunningError: ['hono.telemetry.t', 'joining the group'],
  KafkaCommitError: [
    { topic: 'hono.telemetry.t', groupId: 'g', failedAttempts: 3, failingForMs: 60_000, uncommittedRecords: 7, cause: 'down' },
  ],
  LedgerError: ['failed', { phase: 'evaluate' }],
  ChaincodeError: [500, 'NOT_FOUND', 'no such device', { phase: 'evaluate' }],
  CommitError: [11, { phase: 'commit', transactionId: 'tx' }],
  UndeliverableError: ['not JSON'],
  RelayStateError: ['DeliveredStore is closed'],
  ProvisioningError: ['thing', 'refused', [], [], []],
  DevLedgerError: ['the dev ledger failed', { code: 'ledger.dev.commit' }],
  LedgerTamperedError: ['/var/lib/ledger', 'block 7 is damaged', { blockNumber: 7n }],
  LedgerLockedError: ['/var/lib/ledger', 4242],
  PayloadNotFoundError: ['bafkqaaa', 'embedded'],
  PayloadIntegrityError: ['bafkqaaa', 'bafkqaaa', 'hash-mismatch', 'kubo'],
  PayloadSizeLimitError: ['bafkqaaa', 2048, 1024],
  PayloadFormatError: ['bafkqaaa', 'not a UnixFS file'],
  StoreUnavailableError: ['kubo', 'no answer from http://127.0.0.1:5001', 'Start the daemon.'],
  StoreRequestError: ['put', 500, 'internal error'],
  PayloadSourceError: ['the stream failed'],
  BacklogFullError: [100, 100],
  StreamHaltedError: ['t1/default', 'CONFLICT: batch taken'],
  PayloadCidMismatchError: ['t1/default #3', 'bafkqaaa', 'bafkqaab'],
  OutboxStateError: ['record t1/default #3 is missing'],
  SandboxStartError: ['device registry', 'listen EADDRINUSE 127.0.0.1:28080', 'Choose another port.'],
  SandboxRefusalError: [404, { error: 'tenant t1 not found' }],
  CliError: ['no anchorer data in .twinledger', 'Run an app that anchors first.'],
};

type ErrorClass = new (...args: unknown[]) => TwinLedgerError;

/** Every class that extends TwinLedgerError (or is it) among the exports of the package root and each module index. */
async function exportedErrorClasses(): Promise<Map<string, ErrorClass>> {
  const classes = new Map<string, ErrorClass>();
  for (const entry of sourceFiles(src).filter((file) => file.endsWith(`${sep}index.ts`))) {
    const exports = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
    for (const value of Object.values(exports)) {
      if (typeof value === 'function' && (value === TwinLedgerError || value.prototype instanceof TwinLedgerError))
        classes.set(value.name, value as ErrorClass);
    }
  }
  return classes;
}

function sampleArguments(cls: ErrorClass, declared: ReadonlyMap<string, ErrorClassDeclaration>): readonly unknown[] | undefined {
  for (let current: unknown = cls; typeof current === 'function' && current !== Error; current = Object.getPrototypeOf(current)) {
    const name = (current as ErrorClass).name;
    if (SAMPLE_ARGUMENTS[name] !== undefined) return SAMPLE_ARGUMENTS[name];
    if (declared.get(name)?.ownConstructor !== false) return undefined;
  }
  return undefined;
}

describe('errors', () => {
  const found = scan(src);

  it('nothing in src/ builds a plain Error (new Error(...), throw new Error(...), reject(new Error(...)))', () => {
    assert.deepEqual(found.plainErrors, [], 'use a TwinLedgerError subclass with a code (asError() for caught values)');
  });

  it('nothing in src/ throws a string, template or object literal', () => {
    assert.deepEqual(found.thrownNonErrors, []);
  });

  it('error codes are passed through constructors, never patched on with defineProperty', () => {
    assert.deepEqual(found.patchedCodes, []);
  });

  it('error classes live in their module errors.ts', () => {
    const misplaced = found.classes.filter((cls) => !cls.file.endsWith('/errors.ts')).map((cls) => `${cls.name} in src/${cls.file}`);
    assert.deepEqual(misplaced, []);
    const moduleErrorFiles = found.classes.map((cls) => cls.file).filter((file) => file.endsWith('/errors.ts'));
    assert.ok(moduleErrorFiles.includes('northbound/errors.ts') && moduleErrorFiles.includes('ledger/errors.ts'));
  });

  it('every error class in src/ is exported, and every exported TwinLedgerError subclass sets a code', async () => {
    const exported = await exportedErrorClasses();
    const declared = new Map(found.classes.map((cls) => [cls.name, cls]));
    assert.deepEqual(
      found.classes.filter((cls) => !exported.has(cls.name)).map((cls) => `${cls.name} (src/${cls.file})`),
      [],
      'export error classes from their module index, so callers can catch them by class',
    );
    assert.ok(exported.size >= 35, `found only ${exported.size} error classes`);
    for (const [name, cls] of exported) {
      const args = sampleArguments(cls, declared);
      assert.ok(args !== undefined, `add sample constructor arguments for ${name} to SAMPLE_ARGUMENTS`);
      const error = new cls(...args);
      assert.ok(error instanceof TwinLedgerError && error instanceof Error, name);
      assert.equal(error.name, name);
      assert.equal(typeof error.code, 'string', `${name} has no code`);
      assert.match(error.code, /^[a-z][a-z0-9._:-]*$/i, `${name}: code ${JSON.stringify(error.code)}`);
      assert.notEqual(error.code, 'twinledger', `${name} falls back to a generic code`);
      assert.ok(error.message.length > 0, `${name} has no message`);
    }
  });

  it("subclasses without a constructor of their own get their parent's code scheme", () => {
    const declared = new Map(found.classes.map((cls) => [cls.name, cls]));
    assert.equal(declared.get('NotFoundError')?.ownConstructor, false);
    assert.equal(declared.get('EndorsementError')?.ownConstructor, false);
    assert.equal(new HttpError({ ...DETAILS, status: 404 }).code, 'http.404');
    assert.equal(new LedgerError('failed', { phase: 'endorse' }).code, 'ledger.endorse');
  });

  it('MQTT return codes are named; DeviceConnectError takes its code through the constructor', () => {
    assert.deepEqual(CONNACK_RETURN_CODES, {
      ACCEPTED: 0,
      UNACCEPTABLE_PROTOCOL_VERSION: 1,
      IDENTIFIER_REJECTED: 2,
      SERVER_UNAVAILABLE: 3,
      BAD_USERNAME_OR_PASSWORD: 4,
      NOT_AUTHORIZED: 5,
    });
    assert.equal(CONNACK_REASON_CODES.NOT_AUTHORIZED, 135);
    assert.equal(SUBACK_FAILURE, 128);
    const refused = new DeviceConnectError('mqtts://adapter.example:8883', 'refused', { returnCode: CONNACK_RETURN_CODES.NOT_AUTHORIZED });
    assert.equal(refused.code, 'device.connect.5');
    assert.equal(
      new DeviceConnectError('mqtts://adapter.example:8883', 'TLS: bad certificate', { code: 'device.connect.tls' }).code,
      'device.connect.tls',
    );
  });
});
