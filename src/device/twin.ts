import { ValidationError } from '../core/errors.js';
import { type IdRules, validateThingId } from '../core/ids.js';
import {
  DITTO_PROTOCOL_CONTENT_TYPE,
  type DittoEnvelope,
  type DittoProtocolHeaders,
  type EnvelopeOptions,
  type JsonObject,
  type JsonValue,
  liveMessageResponse,
  mergeFeature,
  mergeProperty,
  modifyAttribute,
  modifyAttributes,
  modifyFeature,
  modifyProperty,
  parseEnvelope,
  parseTopic,
} from '../protocol/index.js';
import type { CommandRouter, IncomingCommand } from './command.js';
import { OneWayCommandError } from './errors.js';
import { checkQos } from './payload.js';
import type { DeviceTwin, TwinMessage, TwinRespondOptions, TwinUpdateOptions } from './types.js';

/** Publishes a Ditto Protocol envelope as telemetry or event. */
export type EnvelopePublisher = (
  envelope: DittoEnvelope,
  channel: 'telemetry' | 'event',
  qos: 0 | 1,
  deviceId: string | undefined,
  options: TwinUpdateOptions,
) => Promise<void>;

const INBOX_PATH = /^(?:\/features\/([^/]+))?\/inbox\/messages\/.+$/;

/** A Ditto live message addressed to the thing (`live/messages`, inbox), or undefined for any other command. */
export function twinMessageOf(command: IncomingCommand, rules: IdRules): TwinMessageImpl | undefined {
  const payload = command.payload;
  let start = 0;
  while (
    start < payload.length &&
    (payload[start] === 0x20 || payload[start] === 0x0a || payload[start] === 0x0d || payload[start] === 0x09)
  )
    start += 1;
  if (payload[start] !== 0x7b) return undefined; // not a JSON object: cannot be an envelope
  let envelope: DittoEnvelope;
  try {
    envelope = parseEnvelope(payload);
  } catch {
    return undefined;
  }
  const topic = parseTopic(envelope.topic);
  if (topic.group !== 'things' || topic.channel !== 'live' || topic.criterion !== 'messages' || topic.subject === undefined)
    return undefined;
  const match = INBOX_PATH.exec(envelope.path);
  if (match === null || topic.entityId === undefined) return undefined;
  try {
    validateThingId(topic.entityId, rules, 'envelope.topic');
  } catch {
    return undefined;
  }
  let featureId: string | undefined;
  if (match[1] !== undefined) {
    try {
      featureId = decodeURIComponent(match[1]);
    } catch {
      featureId = match[1];
    }
  }
  return new TwinMessageImpl(command, envelope, topic.subject, topic.entityId, featureId);
}

export class TwinMessageImpl implements TwinMessage {
  readonly value: JsonValue | undefined;
  readonly correlationId: string | undefined;
  readonly contentType: string | undefined;
  readonly headers: Readonly<DittoProtocolHeaders>;

  constructor(
    readonly command: IncomingCommand,
    readonly envelope: DittoEnvelope,
    readonly subject: string,
    readonly thingId: string,
    readonly featureId: string | undefined,
  ) {
    this.value = envelope.value;
    this.headers = envelope.headers;
    const correlationId = envelope.headers['correlation-id'];
    this.correlationId = typeof correlationId === 'string' ? correlationId : undefined;
    const contentType = envelope.headers['content-type'];
    this.contentType = typeof contentType === 'string' ? contentType : undefined;
  }

  get oneWay(): boolean {
    return this.command.oneWay;
  }

  get answered(): boolean {
    return this.command.answered;
  }

  async respond(status: number, value?: JsonValue, options: TwinRespondOptions = {}): Promise<void> {
    if (this.command.oneWay) throw new OneWayCommandError(`Ditto message "${this.subject}"`);
    const response = liveMessageResponse(this.envelope, status, value, {
      contentType: options.contentType,
      headers: options.headers,
    });
    await this.command.respond(status, response as unknown as JsonValue, {
      contentType: DITTO_PROTOCOL_CONTENT_TYPE,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
  }
}

/** `device.twin`: Ditto Protocol over Hono telemetry/events, and Ditto live messages in. */
export class Twin implements DeviceTwin {
  constructor(
    readonly thingId: string | undefined,
    private readonly rules: IdRules,
    private readonly publisher: EnvelopePublisher,
    private readonly router: CommandRouter<TwinMessageImpl>,
  ) {}

  async updateProperty(featureId: string, path: string, value: JsonValue, options: TwinUpdateOptions = {}): Promise<void> {
    await this.send(modifyProperty(this.thingFor(options), featureId, path, value, this.envelopeOptions(options)), options);
  }

  async mergeProperty(featureId: string, path: string, value: JsonValue, options: TwinUpdateOptions = {}): Promise<void> {
    await this.send(mergeProperty(this.thingFor(options), featureId, path, value, this.envelopeOptions(options)), options);
  }

  async updateFeature(featureId: string, feature: JsonObject, options: TwinUpdateOptions = {}): Promise<void> {
    await this.send(modifyFeature(this.thingFor(options), featureId, feature, this.envelopeOptions(options)), options);
  }

  async mergeFeature(featureId: string, patch: JsonObject, options: TwinUpdateOptions = {}): Promise<void> {
    await this.send(mergeFeature(this.thingFor(options), featureId, patch, this.envelopeOptions(options)), options);
  }

  async updateAttributes(attributes: JsonObject, options: TwinUpdateOptions = {}): Promise<void> {
    await this.send(modifyAttributes(this.thingFor(options), attributes, this.envelopeOptions(options)), options);
  }

  async updateAttribute(path: string, value: JsonValue, options: TwinUpdateOptions = {}): Promise<void> {
    await this.send(modifyAttribute(this.thingFor(options), path, value, this.envelopeOptions(options)), options);
  }

  async send(envelope: DittoEnvelope, options: TwinUpdateOptions = {}): Promise<void> {
    if (typeof envelope !== 'object' || envelope === null) throw new ValidationError('envelope', 'must be a Ditto Protocol envelope');
    parseEnvelope(envelope);
    const channel = options.channel ?? 'telemetry';
    if (channel !== 'telemetry' && channel !== 'event') {
      throw new ValidationError('channel', `must be "telemetry" or "event", got ${JSON.stringify(channel)}`);
    }
    const qos = checkQos('qos', options.qos, 1);
    const deviceId = options.deviceId === undefined ? undefined : this.thingFor(options);
    await this.publisher(envelope, channel, qos, deviceId, options);
  }

  messages(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<TwinMessage> {
    return this.router.messages(options.signal);
  }

  onMessage(handler: (message: TwinMessage) => void | Promise<void>): () => void {
    return this.router.onMessage(handler);
  }

  /** Gateway: the other device's ID is its thing ID. Otherwise the configured thing ID. */
  private thingFor(options: TwinUpdateOptions): string {
    if (options.deviceId !== undefined) return validateThingId(options.deviceId, this.rules, 'deviceId');
    if (this.thingId === undefined) {
      throw new ValidationError(
        'thingId',
        'is required for device.twin but was not given to createDeviceClient()',
        'Pass thingId: "<namespace>:<name>"; on Cloud2Edge it is the device ID, e.g. "org.acme:lamp-1".',
      );
    }
    return this.thingId;
  }

  private envelopeOptions(options: TwinUpdateOptions): EnvelopeOptions {
    const envelopeOptions: EnvelopeOptions = { rules: this.rules, responseRequired: options.responseRequired ?? false };
    if (options.correlationId !== undefined) envelopeOptions.correlationId = options.correlationId;
    if (options.headers !== undefined) envelopeOptions.headers = options.headers;
    return envelopeOptions;
  }
}
