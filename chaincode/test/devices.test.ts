import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { credentialCommitment } from '../src/devices';
import type { CredentialCommitment, DeviceCredentials, DeviceRecord } from '../src/types';
import { FakeWorld } from './fake-ledger';
import { ORG1, ORG2, TENANT, THING, contract, evaluate, json, registerDevice, rejects, submit } from './helpers';

const SALT = '5a'.repeat(32);
const secret = { authId: 'auth-lamp-one', password: 's3cret-Passw0rd', salt: SALT };

describe('RegisterDevice / GetDevice', () => {
  it('records the caller organisation as owner, with a key-level endorsement policy for its peers', async () => {
    const world = new FakeWorld();
    const { result, stub } = await submit(world, { mspId: ORG1 }, (ctx) => contract.RegisterDevice(ctx, TENANT, THING));
    const device = json<DeviceRecord>(result);
    assert.deepEqual(device, {
      docType: 'device',
      tenant: TENANT,
      deviceId: THING,
      owner: ORG1,
      txId: stub.txId,
      timestamp: '2024-05-01T10:00:00.123456789Z',
      credentials: null,
    });
    const validation = stub.writes.find((w) => w.kind === 'validation');
    assert.ok(validation?.value, 'a state-based endorsement policy was set');
    assert.deepEqual(new KeyEndorsementPolicy(validation.value).listOrgs(), [ORG1]);
    assert.deepEqual(
      stub.events.map((e) => e.name),
      ['DeviceRegistered'],
    );
    const read = json<DeviceRecord>(await evaluate(world, { mspId: ORG2 }, (ctx) => contract.GetDevice(ctx, TENANT, THING)));
    assert.deepEqual(read, device, 'reads are open to every channel member');
  });

  it('is idempotent for the owner and refuses another organisation', async () => {
    const world = new FakeWorld();
    await registerDevice(world);
    const { result, stub: again } = await submit(world, { mspId: ORG1 }, (ctx) => contract.RegisterDevice(ctx, TENANT, THING));
    assert.equal(json<DeviceRecord>(result).owner, ORG1);
    assert.deepEqual(again.writes, [], 'registering again writes nothing');
    assert.deepEqual(again.events, []);
    const stub = await rejects(
      world,
      { mspId: ORG2 },
      (ctx) => contract.RegisterDevice(ctx, TENANT, THING),
      'ALREADY_EXISTS',
      /already registered by Org1MSP/,
    );
    assert.deepEqual(stub.writes, []);
  });

  it('validates tenant and device IDs', async () => {
    const world = new FakeWorld();
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.RegisterDevice(ctx, 'bad tenant', THING),
      'INVALID_ARGUMENT',
      /^INVALID_ARGUMENT: tenant "bad tenant" is not a valid Hono tenant ID/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.RegisterDevice(ctx, TENANT, 'lamp/1'),
      'INVALID_ARGUMENT',
      /deviceId "lamp\/1" is not a valid Hono device ID/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.RegisterDevice(ctx, TENANT, ''),
      'INVALID_ARGUMENT',
      /deviceId must be a non-empty string/,
    );
    await rejects(
      world,
      { mspId: ORG1 },
      (ctx) => contract.RegisterDevice(ctx, TENANT, 'x'.repeat(300)),
      'INVALID_ARGUMENT',
      /300 characters long; at most 256/,
    );
  });

  it('GetDevice of an unknown device says so', async () => {
    await rejects(
      new FakeWorld(),
      { mspId: ORG1 },
      (ctx) => contract.GetDevice(ctx, TENANT, THING),
      'NOT_FOUND',
      /is not registered; call RegisterDevice first/,
    );
  });
});

describe('SetCredentials / GetCredentials', () => {
  it('keeps the credentials in the owner collection and only a salted commitment in public state', async () => {
    const world = new FakeWorld();
    await registerDevice(world);
    const { result, stub } = await submit(world, { mspId: ORG1, transient: secret }, (ctx) => contract.SetCredentials(ctx, TENANT, THING));
    const commitment = json<CredentialCommitment>(result);
    assert.equal(commitment.collection, 'Org1MSPPrivateCollection');
    assert.equal(commitment.txId, stub.txId);

    const priv = stub.writes.filter((w) => w.kind === 'private-put');
    assert.equal(priv.length, 1);
    assert.equal(priv[0]?.collection, 'Org1MSPPrivateCollection');
    const stored = json<DeviceCredentials>(String(priv[0]?.value));
    assert.equal(stored.authId, secret.authId);
    assert.equal(stored.password, secret.password);
    // The client's salt, never one derived from public data.
    assert.equal(stored.salt, SALT);
    assert.equal(commitment.commitment, credentialCommitment(Buffer.from(stored.salt, 'hex'), secret.authId, secret.password));

    // Nothing public mentions the password, the auth-id or the salt.
    const publicBytes = Buffer.concat([
      ...stub.writes.filter((w) => w.kind === 'put').map((w) => w.value as Buffer),
      ...stub.events.map((e) => e.payload),
      Buffer.from(result),
    ]).toString('utf8');
    for (const text of [secret.password, secret.authId, stored.salt])
      assert.ok(!publicBytes.includes(text), `${text} leaked into public data`);
    assert.deepEqual(
      stub.events.map((e) => e.name),
      ['CredentialsSet'],
    );

    const device = json<DeviceRecord>(await evaluate(world, { mspId: ORG2 }, (ctx) => contract.GetDevice(ctx, TENANT, THING)));
    assert.deepEqual(device.credentials, commitment);

    const read = json<DeviceCredentials>(await evaluate(world, { mspId: ORG1 }, (ctx) => contract.GetCredentials(ctx, TENANT, THING)));
    assert.equal(read.password, secret.password);
    assert.equal(read.authId, secret.authId);
  });

  it('uses the salt from the transient map and refuses a call without one', async () => {
    const world = new FakeWorld();
    await registerDevice(world);
    const salt = 'ab'.repeat(16);
    const { result } = await submit(world, { mspId: ORG1, transient: { ...secret, salt } }, (ctx) =>
      contract.SetCredentials(ctx, TENANT, THING),
    );
    assert.equal(
      json<CredentialCommitment>(result).commitment,
      credentialCommitment(Buffer.from(salt, 'hex'), secret.authId, secret.password),
    );
    await rejects(
      world,
      { mspId: ORG1, transient: { ...secret, salt: 'xyz' } },
      (ctx) => contract.SetCredentials(ctx, TENANT, THING),
      'INVALID_ARGUMENT',
      /transient.salt must be 32 to 128 lower-case hex/,
    );
    // Without a salt the chaincode would have to derive one from public data (txId, tenant, device): refused.
    const { authId, password } = secret;
    const missing = await rejects(
      world,
      { mspId: ORG1, transient: { authId, password } },
      (ctx) => contract.SetCredentials(ctx, TENANT, THING),
      'INVALID_ARGUMENT',
      /transient.salt is missing; send a random salt of 16 to 64 bytes as lower-case hex/,
    );
    assert.deepEqual(missing.writes, []);
    await rejects(
      world,
      { mspId: ORG1, transient: { authId, password, salt: '' } },
      (ctx) => contract.SetCredentials(ctx, TENANT, THING),
      'INVALID_ARGUMENT',
      /transient.salt is missing/,
    );
  });

  it('denies a foreign organisation, and a foreign peer even for the owner', async () => {
    const world = new FakeWorld();
    await registerDevice(world);
    const foreign = await rejects(
      world,
      { mspId: ORG2, transient: secret },
      (ctx) => contract.SetCredentials(ctx, TENANT, THING),
      'FORBIDDEN',
      /belongs to Org1MSP; Org2MSP may not set its credentials/,
    );
    assert.deepEqual(foreign.writes, []);
    await rejects(
      world,
      { mspId: ORG1, peerMspId: ORG2, transient: secret },
      (ctx) => contract.SetCredentials(ctx, TENANT, THING),
      'FORBIDDEN',
      /endorsed only by peers of Org1MSP.*endorsingOrganizations: \["Org1MSP"\]/,
    );
    await rejects(
      world,
      { mspId: ORG1, peerMspId: null, transient: secret },
      (ctx) => contract.SetCredentials(ctx, TENANT, THING),
      'FAILED_PRECONDITION',
      /CORE_PEER_LOCALMSPID/,
    );

    await submit(world, { mspId: ORG1, transient: secret }, (ctx) => contract.SetCredentials(ctx, TENANT, THING));
    await rejects(
      world,
      { mspId: ORG2 },
      (ctx) => contract.GetCredentials(ctx, TENANT, THING),
      'FORBIDDEN',
      /Org2MSP may not read its credentials/,
    );
    await rejects(
      world,
      { mspId: ORG1, peerMspId: ORG2 },
      (ctx) => contract.GetCredentials(ctx, TENANT, THING),
      'FORBIDDEN',
      /GetCredentials must be endorsed only by peers of Org1MSP/,
    );
  });

  it('validates the transient map', async () => {
    const world = new FakeWorld();
    await registerDevice(world);
    await rejects(
      world,
      { mspId: ORG1, transient: { password: 'x1234' } },
      (ctx) => contract.SetCredentials(ctx, TENANT, THING),
      'INVALID_ARGUMENT',
      /transient.authId is missing.*present: password/,
    );
    await rejects(
      world,
      { mspId: ORG1, transient: { authId: 'lamp-1' } },
      (ctx) => contract.SetCredentials(ctx, TENANT, THING),
      'INVALID_ARGUMENT',
      /transient.password is missing/,
    );
    await rejects(
      world,
      { mspId: ORG1, transient: { authId: 'lamp@1', password: 'x1234' } },
      (ctx) => contract.SetCredentials(ctx, TENANT, THING),
      'INVALID_ARGUMENT',
      /transient.authId "lamp@1" contains "@" or ":"/,
    );
    await rejects(
      world,
      { mspId: ORG1, transient: { authId: 'lamp-1', password: 'p'.repeat(600) } },
      (ctx) => contract.SetCredentials(ctx, TENANT, THING),
      'INVALID_ARGUMENT',
      /longer than 512/,
    );
    await rejects(
      world,
      { mspId: ORG1, transient: secret },
      (ctx) => contract.SetCredentials(ctx, TENANT, 'org.acme:unknown'),
      'NOT_FOUND',
      /is not registered/,
    );
  });

  it('GetCredentials before SetCredentials is NOT_FOUND', async () => {
    const world = new FakeWorld();
    await registerDevice(world);
    await rejects(world, { mspId: ORG1 }, (ctx) => contract.GetCredentials(ctx, TENANT, THING), 'NOT_FOUND', /no credentials are set/);
  });
});
