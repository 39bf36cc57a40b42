import { invalid } from './errors';
import { isPlainObject } from './json';
import { MAX_COMMAND_BYTES } from './validate';

/** Twin command actions a device may send as telemetry (Ditto Protocol). */
export const TWIN_COMMAND_ACTIONS: readonly string[] = ['create', 'modify', 'merge', 'delete'];
const ACTIONS_WITH_VALUE: readonly string[] = ['create', 'modify', 'merge'];

export interface TwinCommand {
  topic: string;
  action: string;
  path: string;
}

/**
 * Checks that `json` is a Ditto Protocol twin command addressed to `thingId`:
 * topic `{namespace}/{name}/things/twin/commands/{action}`, a JSON pointer `path`, a `value` where the
 * action needs one, `headers` an object when present.
 */
export function parseTwinCommand(json: string, thingId: string, field = 'dittoCommandJson'): TwinCommand {
  if (typeof json !== 'string' || json.length === 0) throw invalid(field, 'must be a non-empty JSON string');
  const size = Buffer.byteLength(json, 'utf8');
  if (size > MAX_COMMAND_BYTES) throw invalid(field, `is ${size} bytes; at most ${MAX_COMMAND_BYTES} are allowed`);
  let envelope: unknown;
  try {
    envelope = JSON.parse(json);
  } catch (error) {
    throw invalid(field, `is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(envelope)) throw invalid(field, 'must be a Ditto Protocol envelope (a JSON object with topic, path, value)');
  const { topic, path, headers } = envelope;
  if (typeof topic !== 'string') throw invalid(`${field}.topic`, 'is missing or not a string');
  const parts = topic.split('/');
  const colon = thingId.indexOf(':');
  const namespace = thingId.slice(0, colon);
  const name = thingId.slice(colon + 1);
  if (parts.length !== 6 || parts[2] !== 'things' || parts[3] !== 'twin' || parts[4] !== 'commands') {
    throw invalid(
      `${field}.topic`,
      `${JSON.stringify(topic)} is not a twin command topic; expected "${namespace}/${name}/things/twin/commands/<action>"`,
    );
  }
  if (parts[0] !== namespace || parts[1] !== name) {
    throw invalid(
      `${field}.topic`,
      `${JSON.stringify(topic)} addresses "${parts[0]}:${parts[1]}", not the thing ${JSON.stringify(thingId)}`,
    );
  }
  const action = parts[5] as string;
  if (!TWIN_COMMAND_ACTIONS.includes(action)) {
    throw invalid(`${field}.topic`, `action "${action}" is not one of ${TWIN_COMMAND_ACTIONS.join(', ')}`);
  }
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw invalid(`${field}.path`, 'must be a JSON pointer string starting with "/", e.g. "/features/temperature/properties/value"');
  }
  if (ACTIONS_WITH_VALUE.includes(action) && !('value' in envelope)) {
    throw invalid(`${field}.value`, `is required for a "${action}" command`);
  }
  if (headers !== undefined && !isPlainObject(headers)) throw invalid(`${field}.headers`, 'must be a JSON object when present');
  return { topic, action, path };
}
