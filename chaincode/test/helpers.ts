import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { TwinLedgerContract } from '../src/contract';
import { ContractError, type ContractErrorCode } from '../src/errors';
import { type FakeStub, type FakeWorld, type TxOptions, contextFor } from './fake-ledger';

export const ORG1 = 'Org1MSP';
export const ORG2 = 'Org2MSP';
export const TENANT = 'org.acme';
export const THING = 'org.acme:lamp-1';

export const contract = new TwinLedgerContract();

export interface TxResult<T> {
  result: T;
  stub: FakeStub;
}

/** Runs one transaction function against the world; commits its writes when it succeeds. */
export async function submit<T>(world: FakeWorld, options: TxOptions, fn: (ctx: Context) => Promise<T>): Promise<TxResult<T>> {
  const stub = world.stub(options);
  const result = await fn(contextFor(stub));
  world.commit(stub);
  return { result, stub };
}

/** Runs a read-only call; nothing is committed (and the test checks nothing was written). */
export async function evaluate<T>(world: FakeWorld, options: TxOptions, fn: (ctx: Context) => Promise<T>): Promise<T> {
  const stub = world.stub(options);
  const result = await fn(contextFor(stub));
  assert.deepEqual(stub.writes, [], 'an evaluate-only function wrote to the ledger');
  assert.deepEqual(stub.events, [], 'an evaluate-only function set an event');
  return result;
}

/** Expects the call to fail with a ContractError of `code` whose message matches `pattern`; returns the stub. */
export async function rejects(
  world: FakeWorld,
  options: TxOptions,
  fn: (ctx: Context) => Promise<unknown>,
  code: ContractErrorCode,
  pattern: RegExp,
): Promise<FakeStub> {
  const stub = world.stub(options);
  await assert.rejects(fn(contextFor(stub)), (error: unknown) => {
    assert.ok(error instanceof ContractError, `expected a ContractError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    assert.ok(error.message.startsWith(`${code}: `), 'the message starts with its code');
    return true;
  });
  return stub;
}

export const json = <T>(text: string): T => JSON.parse(text) as T;

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export function modifyCommand(thingId = THING, value: unknown = 21.5): string {
  const [ns, name] = thingId.split(':');
  return JSON.stringify({
    topic: `${ns}/${name}/things/twin/commands/modify`,
    headers: { 'response-required': false },
    path: '/features/temperature/properties/value',
    value,
  });
}

export async function registerDevice(world: FakeWorld, mspId = ORG1, tenant = TENANT, deviceId = THING): Promise<void> {
  await submit(world, { mspId }, (ctx) => contract.RegisterDevice(ctx, tenant, deviceId));
}
