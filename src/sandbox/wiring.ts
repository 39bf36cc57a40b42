/**
 * The Cloud2Edge wiring between Hono and Ditto, as the per-tenant Ditto connection does it: for every tenant with a
 * stored connection (its sources name `telemetry/{tenant}` or `hono.telemetry.{tenant}`), telemetry and events that
 * carry Ditto Protocol twin commands (`{ns}/{name}/things/twin/commands/{modify|merge|delete}`) update the thing, as
 * the subject `pre-authenticated:hono-connection-{tenant}` and only when the device ID is the thing ID; unless the
 * command says `response-required: false`, the device gets the `{action}-response` back as a one-way command.
 * The connection consumes like Ditto's receivers on Hono's router: it competes with the other consumers.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import { type Json, type JsonObject, pointerTokens } from './ditto-json.js';
import type { DittoStore } from './ditto-store.js';
import { SandboxRefusalError } from './errors.js';
import type { DownstreamMessage, PublishOutcome, RunningMessaging } from './messaging.js';
import { isObject } from './registry-model.js';

const NO_CONDITIONS = { ifMatch: undefined, ifNoneMatch: undefined };
const TOPIC = /^([^/]+)\/([^/]+)\/things\/twin\/commands\/(modify|merge|delete)$/;

export function startWiring(ditto: DittoStore, messaging: RunningMessaging, logger: Logger): void {
  messaging.addLocalConsumer((message) => (ditto.connectedTenants().has(message.tenant) ? apply(message) : undefined));

  const apply = async (message: DownstreamMessage): Promise<PublishOutcome> => {
    let envelope: unknown;
    try {
      envelope = JSON.parse(message.payload.toString('utf8'));
    } catch {
      logger.debug('sandbox wiring: a message that is not Ditto Protocol JSON is dropped', { deviceId: message.deviceId });
      return 'accepted';
    }
    const match = isObject(envelope) && typeof envelope.topic === 'string' ? TOPIC.exec(envelope.topic) : null;
    if (!isObject(envelope) || match === null) {
      logger.debug('sandbox wiring: not a twin command; dropped', { deviceId: message.deviceId });
      return 'accepted';
    }
    const [, namespace, name, action] = match as unknown as [string, string, string, 'modify' | 'merge' | 'delete'];
    const thingId = `${namespace}:${name}`;
    if (thingId !== message.deviceId) {
      logger.warn('sandbox wiring: a device may only change its own twin (device ID = thing ID); dropped', {
        deviceId: message.deviceId,
        thingId,
      });
      return 'accepted';
    }
    const subjects = [`pre-authenticated:hono-connection-${message.tenant}`];
    const path = pointerTokens(typeof envelope.path === 'string' ? envelope.path : '/');
    const headers = isObject(envelope.headers) ? envelope.headers : {};
    let status: number;
    let error: Json | undefined;
    try {
      if (action === 'modify')
        status = (await ditto.putThing(thingId, path, (envelope.value ?? null) as Json, subjects, NO_CONDITIONS)).created ? 201 : 204;
      else if (action === 'merge') {
        await ditto.mergeThing(thingId, path, (envelope.value ?? null) as Json, subjects, NO_CONDITIONS);
        status = 204;
      } else {
        await ditto.deleteThing(thingId, path, subjects, NO_CONDITIONS);
        status = 204;
      }
    } catch (failure) {
      if (!(failure instanceof SandboxRefusalError)) throw failure;
      status = failure.status;
      error = failure.body as Json;
      logger.debug('sandbox wiring: a twin command was refused', { thingId, action, status });
    }
    if (headers['response-required'] !== false) {
      const response: JsonObject = {
        topic: `${namespace}/${name}/things/twin/${error === undefined ? 'commands' : 'errors'}/${action}`,
        // Ditto answers with the command's correlation-id, or one of its own when the command had none.
        headers: {
          'correlation-id': typeof headers['correlation-id'] === 'string' ? headers['correlation-id'] : randomUUID(),
          'content-type': 'application/json',
        },
        path: error === undefined ? (typeof envelope.path === 'string' ? envelope.path : '/') : '/',
        ...(error === undefined ? {} : { value: error }),
        status,
      };
      messaging.commandDevice({
        tenant: message.tenant,
        deviceId: message.deviceId,
        name: `${action}-response`,
        contentType: 'application/vnd.eclipse.ditto+json',
        payload: Buffer.from(JSON.stringify(response)),
      });
    }
    return 'accepted';
  };
}
