/**
 * The per-tenant Ditto connection that Cloud2Edge needs so a tenant's devices reach their twins.
 * The chart's post-install job creates one only for its demo tenant; every other tenant needs its own.
 * These builders produce the same JSON as the chart's post-install templates (Kafka default, AMQP
 * profile), with the tenant and the connection credentials filled in.
 */
import type { MessagingType } from '../core/config.js';
import { ValidationError } from '../core/errors.js';
import { encodeComponent, validateTenantId } from '../core/ids.js';
import type { ConnectionSource, ConnectionTarget, NewConnection } from '../ditto/index.js';

/** Connection ID the Cloud2Edge post-install script uses: dots of the tenant become underscores. */
export function honoConnectionId(tenant: string, messaging: MessagingType): string {
  validateTenantId(tenant, undefined, 'tenant');
  return `hono-${messaging}-connection-for-${tenant.replace(/\./g, '_')}`;
}

/** The Ditto subject Hono's messages are authorised as; the thing's policy needs a `HONO` entry for it. */
export function honoSubject(tenant: string): string {
  return `pre-authenticated:hono-connection-${tenant}`;
}

export interface HonoConnectionSettings {
  /** Helm release name of Cloud2Edge; in-cluster host names derive from it. Default `c2e`. */
  release?: string;
  /** Messaging user Ditto logs in with. Cloud2Edge default `ditto-c2e`. */
  username?: string;
  /** Its password. Cloud2Edge default `verysecret`. */
  password?: string;
}

export interface KafkaConnectionSettings extends HonoConnectionSettings {
  /** Default `<release>-kafka:9092` (the chart's example Kafka cluster). */
  bootstrapServers?: string;
  /** Default `plain`. */
  saslMechanism?: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  /** `ssl` (default, the example cluster) or `tcp`. */
  scheme?: 'ssl' | 'tcp';
  /** PEM of the CA that signed Kafka's certificate (the chart inserts `<release>-kafka-example-keys`' tls.crt). */
  ca?: string;
  /**
   * Default true, as in the chart. `false` makes Ditto accept any certificate from Kafka, so anyone on the path can
   * read and inject the tenant's telemetry and commands: pass `ca` instead.
   */
  validateCertificates?: boolean;
}

export interface AmqpConnectionSettings extends HonoConnectionSettings {
  /** Default `<release>-hono-dispatch-router-ext:15672`. */
  hostPort?: string;
}

const RESPONSE_TYPES = ['response', 'error'];
const DEVICE_ID = '{{ header:device_id }}';
const ENFORCEMENT = { input: DEVICE_ID, filters: ['{{ entity:id }}'] };
const SUBJECT = '{{ header:subject | fn:default(topic:action-subject) }}';
const RESPONSE_SUBJECT = '{{ header:subject | fn:default(topic:action-subject) | fn:default(topic:criterion) }}-response';
const CORRELATION_ID = '{{ header:correlation-id }}';
const DITTO_CONTENT_TYPE = "{{ header:content-type | fn:default('application/vnd.eclipse.ditto+json') }}";

function credentialsOf(settings: HonoConnectionSettings): { release: string; userInfo: string } {
  const release = settings.release ?? 'c2e';
  const username = settings.username ?? 'ditto-c2e';
  const password = settings.password ?? 'verysecret';
  if (/[:@/]/.test(username)) throw new ValidationError('connection.username', 'may not contain ":", "@" or "/"');
  return { release, userInfo: `${encodeComponent('connection.username', username)}:${encodeComponent('connection.password', password)}` };
}

/** The Kafka flavour (Cloud2Edge's default messaging). */
export function honoKafkaConnection(tenant: string, settings: KafkaConnectionSettings = {}): NewConnection {
  validateTenantId(tenant, undefined, 'tenant');
  const { release, userInfo } = credentialsOf(settings);
  const bootstrapServers = settings.bootstrapServers ?? `${release}-kafka:9092`;
  const firstServer = bootstrapServers.split(',')[0]?.trim() ?? bootstrapServers;
  const authorizationContext = [honoSubject(tenant)];
  const commandAddress = `hono.command.${tenant}/{{ thing:id }}`;
  const replyTarget = {
    enabled: true,
    address: commandAddress,
    headerMapping: { device_id: '{{ thing:id }}', subject: RESPONSE_SUBJECT, 'correlation-id': CORRELATION_ID },
    expectedResponseTypes: RESPONSE_TYPES,
  };
  const source = (address: string, qos: number, extra: Partial<ConnectionSource>): ConnectionSource => ({
    addresses: [address],
    consumerCount: 1,
    authorizationContext,
    qos,
    enforcement: ENFORCEMENT,
    headerMapping: {},
    payloadMapping: [],
    replyTarget,
    acknowledgementRequests: { includes: [], filter: 'fn:delete()' },
    declaredAcks: [],
    ...extra,
  });
  const targets: ConnectionTarget[] = [
    {
      address: commandAddress,
      authorizationContext,
      headerMapping: {
        device_id: '{{ thing:id }}',
        subject: SUBJECT,
        'correlation-id': CORRELATION_ID,
        'response-required': '{{ header:response-required }}',
      },
      topics: ['_/_/things/live/commands', '_/_/things/live/messages'],
    },
    {
      address: commandAddress,
      authorizationContext,
      topics: ['_/_/things/twin/events', '_/_/things/live/events'],
      headerMapping: { device_id: '{{ thing:id }}', subject: SUBJECT, 'correlation-id': CORRELATION_ID },
    },
  ];
  const connection: NewConnection = {
    name: `[Hono/Kafka] ${tenant}`,
    connectionType: 'kafka',
    connectionStatus: 'open',
    uri: `${settings.scheme ?? 'ssl'}://${userInfo}@${firstServer}`,
    sources: [
      source(`hono.telemetry.${tenant}`, 0, {}),
      // Events are at-least-once: Ditto acknowledges them only after processing.
      source(`hono.event.${tenant}`, 1, { acknowledgementRequests: { includes: [] } }),
      source(`hono.command_response.${tenant}`, 0, {
        headerMapping: { 'correlation-id': CORRELATION_ID, status: '{{ header:status }}' },
        replyTarget: { enabled: false, expectedResponseTypes: RESPONSE_TYPES },
      }),
    ],
    targets,
    specificConfig: {
      saslMechanism: settings.saslMechanism ?? 'plain',
      bootstrapServers,
      groupId: `${tenant}_{{ connection:id }}`,
    },
    clientCount: 1,
    failoverEnabled: true,
    validateCertificates: settings.validateCertificates ?? true,
  };
  if (settings.ca !== undefined) connection.ca = settings.ca;
  return connection;
}

/** The AMQP 1.0 flavour (Cloud2Edge's `profileAmqpMessaging-values.yaml`). */
export function honoAmqpConnection(tenant: string, settings: AmqpConnectionSettings = {}): NewConnection {
  validateTenantId(tenant, undefined, 'tenant');
  const { release, userInfo } = credentialsOf(settings);
  const authorizationContext = [honoSubject(tenant)];
  const replies = `command_response/${tenant}/replies`;
  const targetHeaders = {
    to: `command/${tenant}/{{ thing:id }}`,
    subject: SUBJECT,
    'content-type': DITTO_CONTENT_TYPE,
    'correlation-id': CORRELATION_ID,
  };
  return {
    name: `[Hono/AMQP1.0] ${tenant}`,
    connectionType: 'amqp-10',
    connectionStatus: 'open',
    uri: `amqp://${userInfo}@${settings.hostPort ?? `${release}-hono-dispatch-router-ext:15672`}`,
    failoverEnabled: true,
    sources: [
      {
        addresses: [`telemetry/${tenant}`, `event/${tenant}`],
        authorizationContext,
        enforcement: ENFORCEMENT,
        headerMapping: { 'hono-device-id': DEVICE_ID, 'content-type': '{{ header:content-type }}' },
        replyTarget: {
          enabled: true,
          address: '{{ header:reply-to }}',
          headerMapping: {
            to: `command/${tenant}/{{ header:hono-device-id }}`,
            subject: RESPONSE_SUBJECT,
            'correlation-id': CORRELATION_ID,
            'content-type': DITTO_CONTENT_TYPE,
          },
          expectedResponseTypes: RESPONSE_TYPES,
        },
        acknowledgementRequests: { includes: [], filter: "fn:filter(header:qos,'eq','1')" },
      },
      {
        addresses: [replies],
        authorizationContext,
        headerMapping: {
          'content-type': '{{ header:content-type }}',
          'correlation-id': CORRELATION_ID,
          status: '{{ header:status }}',
        },
        replyTarget: { enabled: false, expectedResponseTypes: RESPONSE_TYPES },
      },
    ],
    targets: [
      {
        address: `command/${tenant}`,
        authorizationContext,
        topics: ['_/_/things/live/commands', '_/_/things/live/messages'],
        headerMapping: {
          ...targetHeaders,
          'reply-to': `{{ fn:default('${replies}') | fn:filter(header:response-required,'ne','false') }}`,
        },
      },
      {
        address: `command/${tenant}`,
        authorizationContext,
        topics: ['_/_/things/twin/events', '_/_/things/live/events'],
        headerMapping: targetHeaders,
      },
    ],
  };
}
