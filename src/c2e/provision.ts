/**
 * One-call device provisioning the way Cloud2Edge expects it:
 * tenant → device → per-tenant Ditto connection → policy with the HONO entry → thing → credentials,
 * where the Hono device ID is the Ditto thing ID.
 *
 * Every step first looks, then creates only what is missing, so running it twice changes nothing but the
 * password. Everything is validated before the first request. When a step fails, what this call created is
 * removed again in reverse order; what could not be removed is listed in the `ProvisioningError`. Only what
 * this call created is ever removed: a resource a concurrent caller created first (409, or 412 on a
 * create-only PUT) counts as existing. The password is set last, so a failed run never leaves an existing
 * device with a changed password (Hono returns no secrets, so an old password could not be restored).
 */
import type { MessagingType } from '../core/config.js';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../core/errors.js';
import { type IdRules, splitEntityId, validateAuthId, validatePolicyId, validateTenantId, validateThingId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { CallOptions } from '../core/options.js';
import type { DittoClient, NewConnection, NewPolicy, NewThing, PolicyEntry } from '../ditto/index.js';
import type { Device, DeviceRegistry, PasswordHashing, Tenant } from '../registry/index.js';
import {
  type AmqpConnectionSettings,
  type KafkaConnectionSettings,
  honoAmqpConnection,
  honoConnectionId,
  honoKafkaConnection,
  honoSubject,
} from './connections.js';
import { ProvisioningError } from './errors.js';

export interface ConnectionProvisioning {
  /** Which messaging network Hono uses. Default: the client's configuration, else `kafka` (Cloud2Edge's default). */
  messaging?: MessagingType;
  kafka?: KafkaConnectionSettings;
  amqp?: AmqpConnectionSettings;
}

export interface ProvisionDeviceRequest {
  tenant: string;
  /** Ditto thing ID, `namespace:name`; it is also the Hono device ID. */
  thingId: string;
  /** Devices log in as `authId@tenant`. Default: the name part of `thingId`. */
  authId?: string;
  /** The device's password (a `hashed-password` credential). Omit it to provision without credentials. */
  password?: string;
  /** `plain` (default: Hono hashes it on arrival), or hash it here with `bcrypt`, `sha-256`, `sha-512`. */
  passwordHashing?: PasswordHashing;
  /** Registration data for the device (`enabled`, `via`, `ext`, ...) when it is created. */
  device?: Device;
  /** Tenant configuration when the tenant is created. */
  tenantConfig?: Tenant;
  /** Attributes, features, definition of the thing when it is created. Its `policyId` is set here. */
  thing?: Omit<NewThing, 'policyId' | '_policy'>;
  /** Default: the thing ID. */
  policyId?: string;
  /**
   * The policy when it is created. Default: an `OWNER` entry for `ownerSubject` (everything) and the `HONO`
   * entry Cloud2Edge needs. A given policy gets the `HONO` entry added if it lacks one.
   */
  policy?: NewPolicy;
  /** Subject that owns the twin. Default: the caller's Ditto subject (`GET /whoami`), e.g. `nginx:ditto`. */
  ownerSubject?: string;
  /** The per-tenant Ditto connection; `false` to leave connections alone. */
  connection?: ConnectionProvisioning | false;
}

export type StepOutcome = 'created' | 'existing' | 'updated' | 'skipped';

export interface ProvisionDeviceResult {
  tenant: string;
  deviceId: string;
  thingId: string;
  policyId: string;
  authId: string | undefined;
  /** What the device logs in with (`authId@tenant`), when a password was set. */
  username: string | undefined;
  connectionId: string | undefined;
  steps: {
    tenant: StepOutcome;
    device: StepOutcome;
    credentials: StepOutcome;
    connection: StepOutcome;
    policy: StepOutcome;
    thing: StepOutcome;
  };
}

export type ProvisioningStep = keyof ProvisionDeviceResult['steps'] | 'preparation';

export interface ProvisioningContext {
  registry: DeviceRegistry;
  ditto: DittoClient;
  idRules: IdRules;
  logger: Logger;
  defaultMessaging: MessagingType | undefined;
  /** Whether Ditto devops credentials were configured (needed for the connection step). */
  hasDevopsCredentials: boolean;
}

interface Undo {
  label: string;
  run(): Promise<unknown>;
}

async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** Like `readOrUndefined`, for deletes: true when something was deleted, false when it was already gone. */
async function deleteIfPresent(remove: () => Promise<unknown>): Promise<boolean> {
  try {
    await remove();
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}

const ALL: PolicyEntry['resources'][string] = { grant: ['READ', 'WRITE'], revoke: [] };

/** The `HONO` policy entry: lets the tenant's Hono connection read and write the twin and its messages. */
export function honoPolicyEntry(tenant: string): PolicyEntry {
  return {
    subjects: { [honoSubject(tenant)]: { type: 'Connection to Eclipse Hono' } },
    resources: { 'thing:/': ALL, 'message:/': ALL },
  };
}

function grantsHono(policy: NewPolicy, tenant: string): boolean {
  const subject = honoSubject(tenant);
  return Object.values(policy.entries ?? {}).some((entry) => entry.subjects?.[subject] !== undefined);
}

/**
 * The label under which to add the tenant's Hono entry, or `undefined` when the policy grants it already.
 * `HONO` unless another entry (e.g. another tenant's Hono connection) holds that label; then `HONO-<tenant>`.
 */
function honoEntryLabel(policy: NewPolicy, tenant: string, policyId: string): string | undefined {
  if (grantsHono(policy, tenant)) return undefined;
  const entries = policy.entries ?? {};
  for (const label of ['HONO', `HONO-${tenant}`]) {
    if (entries[label] === undefined) return label;
  }
  throw new ValidationError(
    'policy',
    `policy ${policyId} has entries "HONO" and "HONO-${tenant}" that do not grant ${honoSubject(tenant)}`,
    `Add the subject ${honoSubject(tenant)} to one of them (or remove it) so the tenant's Hono connection may write the twin.`,
  );
}

/** The default policy: the owner may do everything, Hono may read and write the twin and its messages. */
export function defaultDevicePolicy(tenant: string, ownerSubject: string): NewPolicy {
  return {
    entries: {
      OWNER: {
        subjects: { [ownerSubject]: { type: 'owner of the twin' } },
        resources: { 'thing:/': ALL, 'policy:/': ALL, 'message:/': ALL },
      },
      HONO: honoPolicyEntry(tenant),
    },
  };
}

interface PreparedRequest {
  tenant: string;
  thingId: string;
  policyId: string;
  authId: string | undefined;
  password: string | undefined;
  connection: { id: string; body: NewConnection; needsCa: boolean } | undefined;
}

function prepare(request: ProvisionDeviceRequest, context: ProvisioningContext): PreparedRequest {
  if (typeof request !== 'object' || request === null) {
    throw new ValidationError('request', 'must be an object with at least tenant and thingId');
  }
  const tenant = validateTenantId(request.tenant, context.idRules, 'tenant');
  const thingId = validateThingId(request.thingId, context.idRules);
  // Hono checks device IDs with its own pattern; on Cloud2Edge the thing ID must pass both.
  if (!context.idRules.device.test(thingId)) {
    throw new ValidationError(
      'thingId',
      `${JSON.stringify(thingId)} is a valid thing ID but not a valid Hono device ID (${context.idRules.device.source})`,
    );
  }
  const policyId = validatePolicyId(request.policyId ?? thingId, context.idRules);
  let authId: string | undefined;
  if (request.password !== undefined || request.authId !== undefined) {
    authId = validateAuthId(request.authId ?? splitEntityId(thingId).name, context.idRules, 'authId');
  }
  if (request.password !== undefined && (typeof request.password !== 'string' || request.password.length === 0)) {
    throw new ValidationError('password', 'must be a non-empty string');
  }
  if (request.password !== undefined) context.registry.http.redactor.addSecret(request.password);
  if (request.ownerSubject !== undefined && (typeof request.ownerSubject !== 'string' || !request.ownerSubject.includes(':'))) {
    throw new ValidationError('ownerSubject', 'must be a Ditto subject "issuer:subject", e.g. "nginx:ditto"');
  }
  if (request.policy !== undefined && (typeof request.policy !== 'object' || typeof request.policy.entries !== 'object')) {
    throw new ValidationError('policy', 'must be a policy with "entries"');
  }
  if (request.policy !== undefined) honoEntryLabel(request.policy, tenant, policyId); // throws when no label is free
  let connection: PreparedRequest['connection'];
  if (request.connection !== false) {
    if (!context.hasDevopsCredentials) {
      throw new ValidationError(
        'connection',
        'creating the per-tenant Ditto connection needs Ditto devops credentials',
        'Set DITTO_DEVOPS_PWD (or ditto.devopsPassword), or pass connection: false if the tenant already has its connection.',
      );
    }
    const messaging = request.connection?.messaging ?? context.defaultMessaging ?? 'kafka';
    if (messaging !== 'kafka' && messaging !== 'amqp') {
      throw new ValidationError('connection.messaging', `${JSON.stringify(messaging)} is neither "kafka" nor "amqp"`);
    }
    const body =
      messaging === 'kafka' ? honoKafkaConnection(tenant, request.connection?.kafka) : honoAmqpConnection(tenant, request.connection?.amqp);
    const settings = messaging === 'kafka' ? request.connection?.kafka : request.connection?.amqp;
    if (settings?.password !== undefined) context.ditto.http.redactor.addSecret(settings.password);
    // Ditto verifies Kafka's certificate (validateCertificates): an `ssl` connection without the CA never opens.
    const kafka = messaging === 'kafka' ? request.connection?.kafka : undefined;
    const needsCa =
      messaging === 'kafka' && (kafka?.scheme ?? 'ssl') === 'ssl' && kafka?.ca === undefined && body.validateCertificates !== false;
    connection = { id: honoConnectionId(tenant, messaging), body, needsCa };
  }
  return { tenant, thingId, policyId, authId, password: request.password, connection };
}

/** One resource of the chain: looked up, created when missing, removed again when a later step fails. */
interface ResourceStep {
  step: Exclude<ProvisioningStep, 'preparation' | 'credentials'>;
  /** How `created`, `rolledBack` and `leftBehind` name it. */
  label: string;
  exists(): Promise<boolean>;
  /** True when this call created it; false when a concurrent caller was first (see `createTolerantly`). */
  create(): Promise<boolean>;
  remove(): Promise<unknown>;
  /** For a resource that was there already: what this call adds to it, if anything (the policy's Hono entry). */
  complete?(): Promise<Undo | undefined>;
}

/** The steps in the order Cloud2Edge needs them; a step without anything to do is left out. */
function resourceSteps(
  context: ProvisioningContext,
  request: ProvisionDeviceRequest,
  prepared: PreparedRequest,
  call: CallOptions,
  before: { ownerSubject: string | undefined; connectionExists: boolean },
): ResourceStep[] {
  const { registry, ditto } = context;
  const { tenant, thingId, policyId, connection } = prepared;
  const found = async (read: () => Promise<unknown>) => Boolean(await readOrUndefined(read));
  let existingPolicy: NewPolicy | undefined;
  const steps: Array<ResourceStep | undefined> = [
    {
      step: 'tenant',
      label: `tenant ${tenant}`,
      exists: () => found(() => registry.tenants.get(tenant, call)),
      create: () => createTolerantly(() => registry.tenants.create(request.tenantConfig ?? {}, { ...call, tenantId: tenant })),
      remove: () => registry.tenants.delete(tenant, call),
    },
    {
      step: 'device',
      label: `device ${tenant}/${thingId} (with its credentials)`,
      exists: () => found(() => registry.devices.get(tenant, thingId, call)),
      create: () => createTolerantly(() => registry.devices.create(tenant, request.device ?? {}, { ...call, deviceId: thingId })),
      remove: () => registry.devices.delete(tenant, thingId, call),
    },
    connection && {
      step: 'connection',
      label: `Ditto connection ${connection.id}`,
      // Looked up before the first write, to know whether the CA is needed.
      exists: async () => before.connectionExists,
      // Ditto answers 204 instead of 201 when a concurrent caller created it between our look and our PUT.
      create: async () => (await ditto.connections.put(connection.id, connection.body, call)).created,
      remove: () => ditto.connections.delete(connection.id, call),
    },
    {
      step: 'policy',
      label: `policy ${policyId}`,
      exists: async () => {
        existingPolicy = await readOrUndefined(() => ditto.policies.get(policyId, call));
        return Boolean(existingPolicy);
      },
      create: () => {
        const policy = request.policy ?? defaultDevicePolicy(tenant, before.ownerSubject ?? '');
        const label = honoEntryLabel(policy, tenant, policyId);
        const body: NewPolicy =
          label === undefined ? policy : { ...policy, entries: { ...policy.entries, [label]: honoPolicyEntry(tenant) } };
        return createTolerantly(() => ditto.policies.put(policyId, body, { ...call, ifNoneMatch: '*' }));
      },
      remove: () => ditto.policies.delete(policyId, call),
      complete: async () => {
        const policy = existingPolicy ?? (await ditto.policies.get(policyId, call));
        const label = honoEntryLabel(policy, tenant, policyId);
        if (label === undefined) return undefined;
        await ditto.policies.entries(policyId).put(label, honoPolicyEntry(tenant), call);
        return { label: `${label} entry of policy ${policyId}`, run: () => ditto.policies.entries(policyId).delete(label, call) };
      },
    },
    {
      step: 'thing',
      label: `thing ${thingId}`,
      exists: () => found(() => ditto.things.get(thingId, { ...call, fields: 'thingId' })),
      create: () => createTolerantly(() => ditto.things.put(thingId, { ...request.thing, policyId }, { ...call, ifNoneMatch: '*' })),
      remove: () => ditto.things.delete(thingId, call),
    },
  ];
  return steps.filter((step): step is ResourceStep => step !== undefined);
}

/** Provisions one device end to end. See the module comment. */
export async function provisionDevice(
  context: ProvisioningContext,
  request: ProvisionDeviceRequest,
  options: CallOptions = {},
): Promise<ProvisionDeviceResult> {
  const prepared = prepare(request, context);
  const { registry, ditto, logger } = context;
  const { tenant, thingId, policyId } = prepared;
  const undo: Undo[] = [];
  const created: string[] = [];
  const steps: ProvisionDeviceResult['steps'] = {
    tenant: 'skipped',
    device: 'skipped',
    credentials: 'skipped',
    connection: 'skipped',
    policy: 'skipped',
    thing: 'skipped',
  };
  let step: ProvisioningStep = 'preparation';
  const record = (action: Undo) => {
    created.push(action.label);
    undo.push(action);
  };
  const call = { signal: options.signal, timeoutMs: options.timeoutMs };

  try {
    const ownerSubject = request.policy !== undefined ? undefined : (request.ownerSubject ?? (await ditto.whoami(call)).defaultSubject);
    const connection = prepared.connection;
    const connectionExists =
      connection !== undefined && (await readOrUndefined(() => ditto.connections.get(connection.id, call))) !== undefined;
    if (connection?.needsCa && !connectionExists) connection.body = { ...connection.body, ca: await kafkaCaOfCloud2Edge(ditto, call) };

    for (const resource of resourceSteps(context, request, prepared, call, { ownerSubject, connectionExists })) {
      step = resource.step;
      let outcome: StepOutcome = 'existing';
      if (!(await resource.exists()) && (await resource.create())) {
        outcome = 'created';
        record({ label: resource.label, run: resource.remove });
      } else if (resource.complete) {
        const change = await resource.complete();
        if (change) {
          outcome = 'updated';
          record(change);
        }
      }
      steps[resource.step] = outcome;
    }

    // Last: nothing after it can fail, so the password of an existing device changes only on success.
    step = 'credentials';
    if (prepared.password !== undefined && prepared.authId !== undefined) {
      await registry.credentials.setPassword(tenant, thingId, prepared.authId, prepared.password, {
        ...call,
        hash: request.passwordHashing ?? 'plain',
        mode: 'replace',
      });
      steps.credentials = 'updated';
    }
  } catch (error) {
    const rolledBack: string[] = [];
    const leftBehind: string[] = [];
    for (const action of undo.reverse()) {
      try {
        await action.run();
        rolledBack.push(action.label);
      } catch (undoError) {
        leftBehind.push(action.label);
        logger.error('rollback step failed', { step: action.label, reason: (undoError as Error).message });
      }
    }
    throw new ProvisioningError(step, error, created, rolledBack, leftBehind);
  }

  logger.info('device provisioned', { tenant, thingId, steps });
  return {
    tenant,
    deviceId: thingId,
    thingId,
    policyId,
    authId: prepared.authId,
    username: prepared.password !== undefined && prepared.authId !== undefined ? `${prepared.authId}@${tenant}` : undefined,
    connectionId: prepared.connection?.id,
    steps,
  };
}

/** The Kafka connection Cloud2Edge's post-install creates for its demo tenant; it carries the example Kafka CA. */
const C2E_DEMO_KAFKA_CONNECTION = honoConnectionId('org.eclipse.packages.c2e', 'kafka');

/** The CA of Cloud2Edge's Kafka, read from the demo tenant's connection, for a new tenant's connection. */
async function kafkaCaOfCloud2Edge(ditto: DittoClient, call: CallOptions): Promise<string> {
  const demo = await readOrUndefined(() => ditto.connections.get(C2E_DEMO_KAFKA_CONNECTION, call));
  if (typeof demo?.ca === 'string' && demo.ca.includes('BEGIN CERTIFICATE')) return demo.ca;
  throw new ValidationError(
    'connection.kafka.ca',
    `is needed: Ditto verifies Kafka's certificate, and the CA could not be taken from Cloud2Edge's connection ${C2E_DEMO_KAFKA_CONNECTION} (${demo === undefined ? 'not found' : 'it has no "ca"'})`,
    "Pass the PEM of Kafka's CA (Cloud2Edge: Secret <release>-kafka-example-keys, key tls.crt), or connection: false when the tenant already has its connection.",
  );
}

/**
 * A concurrent provisioner may create the same resource between our look and our create: that is success,
 * but the resource is not ours to roll back. True when this call created it; false on 409 (Hono) or 412
 * (Ditto create-only PUT with `If-None-Match: *`).
 */
async function createTolerantly(create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (error) {
    if (error instanceof ConflictError || error instanceof PreconditionFailedError) return false;
    throw error;
  }
}

export interface DeprovisionDeviceRequest {
  tenant: string;
  thingId: string;
  /** Default: the policy the thing names, when that policy's ID equals the thing ID; else none. */
  policyId?: string;
  /** Also delete the tenant's Ditto connection (other devices of the tenant lose their twins' updates). */
  deleteConnection?: boolean | { messaging: MessagingType };
  /** Also delete the Hono tenant (and with it every device of the tenant). */
  deleteTenant?: boolean;
}

export type RemovalOutcome = 'deleted' | 'absent' | 'kept';

export interface DeprovisionDeviceResult {
  thing: RemovalOutcome;
  policy: RemovalOutcome;
  device: RemovalOutcome;
  connection: RemovalOutcome;
  tenant: RemovalOutcome;
}

/** Removes what `provisionDevice` created. Missing parts are reported as `absent`, not as errors. */
export async function deprovisionDevice(
  context: ProvisioningContext,
  request: DeprovisionDeviceRequest,
  options: CallOptions = {},
): Promise<DeprovisionDeviceResult> {
  if (typeof request !== 'object' || request === null) throw new ValidationError('request', 'must be an object with tenant and thingId');
  const tenant = validateTenantId(request.tenant, context.idRules, 'tenant');
  const thingId = validateThingId(request.thingId, context.idRules);
  if (request.policyId !== undefined) validatePolicyId(request.policyId, context.idRules);
  if (request.deleteConnection && !context.hasDevopsCredentials) {
    throw new ValidationError('deleteConnection', 'deleting the Ditto connection needs Ditto devops credentials');
  }
  const { registry, ditto } = context;
  const call = { signal: options.signal, timeoutMs: options.timeoutMs };
  const outcome = (removed: boolean): RemovalOutcome => (removed ? 'deleted' : 'absent');

  let policyId = request.policyId;
  if (policyId === undefined) {
    const named = await readOrUndefined(() => ditto.things.policyId(thingId).get(call));
    if (named === thingId) policyId = named;
  }
  const result: DeprovisionDeviceResult = {
    thing: outcome(await deleteIfPresent(() => ditto.things.delete(thingId, call))),
    policy: policyId === undefined ? 'kept' : outcome(await deleteIfPresent(() => ditto.policies.delete(policyId, call))),
    device: outcome(await deleteIfPresent(() => registry.devices.delete(tenant, thingId, call))),
    connection: 'kept',
    tenant: 'kept',
  };
  if (request.deleteConnection) {
    const messaging =
      typeof request.deleteConnection === 'object' ? request.deleteConnection.messaging : (context.defaultMessaging ?? 'kafka');
    const id = honoConnectionId(tenant, messaging);
    result.connection = outcome(await deleteIfPresent(() => ditto.connections.delete(id, call)));
  }
  if (request.deleteTenant) {
    result.tenant = outcome(await deleteIfPresent(() => registry.tenants.delete(tenant, call)));
  }
  context.logger.info('device deprovisioned', { tenant, thingId, result });
  return result;
}
