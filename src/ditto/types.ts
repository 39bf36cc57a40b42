/**
 * Plain JSON shapes of Ditto HTTP API v2 (Ditto 3.5). Only the fields the SDK relies on are typed;
 * index signatures keep everything else Ditto sends.
 */

import type { JsonObject, JsonValue } from '../protocol/json.js';

export type { JsonArray, JsonObject, JsonPrimitive, JsonValue } from '../protocol/json.js';

/** `namespace:name:version` or an HTTP(S) URL. */
export type ThingDefinition = string;
/** A feature's definitions, each `namespace:name:version` or a URL. */
export type FeatureDefinition = string[];

export type Attributes = JsonObject;
export type FeatureProperties = JsonObject;

export interface Feature {
  definition?: FeatureDefinition;
  properties?: FeatureProperties;
  desiredProperties?: FeatureProperties;
  [key: string]: unknown;
}

export type Features = { [featureId: string]: Feature };

export interface Thing {
  thingId: string;
  policyId: string;
  definition?: ThingDefinition;
  attributes?: Attributes;
  features?: Features;
  /** Selected explicitly with `fields=_revision` etc. */
  _revision?: number | string;
  _created?: string;
  _modified?: string;
  _metadata?: JsonObject;
  _namespace?: string;
  _policy?: Policy;
  [key: string]: unknown;
}

/**
 * Body for creating or replacing a thing. The 3.5 spec marks `policyId` as required, but Ditto creates a
 * default policy when it (and `_policy`, `_copyPolicyFrom`) is missing, so it is optional here.
 */
export interface NewThing {
  thingId?: string;
  policyId?: string;
  /** An inline policy created together with the thing (ID = thing ID). */
  _policy?: NewPolicy;
  /** A policy ID, or `{{ ref:things/<thingId>/policyId }}`, to copy the policy from. */
  _copyPolicyFrom?: string;
  definition?: ThingDefinition;
  attributes?: Attributes;
  features?: Features;
  [key: string]: unknown;
}

export type Permission = 'READ' | 'WRITE';

export interface SubjectAnnouncement {
  beforeExpiry?: string;
  whenDeleted?: boolean;
  requestedAcks?: { labels?: string[]; timeout?: string };
  randomizationInterval?: string;
  [key: string]: unknown;
}

export interface Subject {
  /** Free text documenting the kind of subject. */
  type: string;
  /** ISO-8601 timestamp after which Ditto removes the subject. */
  expiry?: string;
  announcement?: SubjectAnnouncement;
  [key: string]: unknown;
}

/** Keyed by subject ID, e.g. `nginx:ditto` or `pre-authenticated:hono-connection-<tenant>`. */
export type Subjects = { [subjectId: string]: Subject };

export interface Resource {
  grant?: Permission[];
  revoke?: Permission[];
  [key: string]: unknown;
}

/** Keyed by `type:/path`, e.g. `thing:/`, `policy:/`, `message:/`, `thing:/features/lamp`. */
export type Resources = { [resourceKey: string]: Resource };

export type Importable = 'implicit' | 'explicit' | 'never';

export interface PolicyEntry {
  subjects: Subjects;
  resources: Resources;
  importable?: Importable;
  [key: string]: unknown;
}

export type PolicyEntries = { [label: string]: PolicyEntry };

export interface PolicyImport {
  entries?: string[];
  [key: string]: unknown;
}

/** Keyed by the imported policy's ID. */
export type PolicyImports = { [policyId: string]: PolicyImport };

export interface NewPolicy {
  policyId?: string;
  entries: PolicyEntries;
  imports?: PolicyImports;
  [key: string]: unknown;
}

export interface Policy {
  policyId: string;
  entries: PolicyEntries;
  imports?: PolicyImports;
  _revision?: number | string;
  _created?: string;
  _modified?: string;
  [key: string]: unknown;
}

export type ConnectionType = 'amqp-091' | 'amqp-10' | 'http-push' | 'mqtt' | 'mqtt-5' | 'kafka' | 'hono';
export type ConnectivityStatus = 'open' | 'closed' | 'failed' | 'misconfigured' | 'unknown';

export interface ConnectionSource {
  addresses: string[];
  consumerCount?: number;
  qos?: number;
  authorizationContext: string[];
  enforcement?: { input: string; filters: string[] };
  headerMapping?: { [header: string]: string };
  payloadMapping?: string[];
  replyTarget?: JsonObject;
  [key: string]: unknown;
}

export interface ConnectionTarget {
  address: string;
  topics: string[];
  qos?: number;
  authorizationContext: string[];
  headerMapping?: { [header: string]: string };
  issuedAcknowledgementLabel?: string;
  payloadMapping?: string[];
  [key: string]: unknown;
}

/** Body of `PUT /api/2/connections/{id}`. */
export interface NewConnection {
  id?: string;
  name?: string;
  connectionType: ConnectionType;
  connectionStatus: ConnectivityStatus;
  /** May carry credentials (`ssl://user:password@host:port`); the SDK registers them as secrets. */
  uri: string;
  sources: ConnectionSource[];
  targets: ConnectionTarget[];
  specificConfig?: { [key: string]: JsonValue };
  clientCount?: number;
  failoverEnabled?: boolean;
  validateCertificates?: boolean;
  mappingDefinitions?: JsonObject;
  tags?: string[];
  [key: string]: unknown;
}

export interface Connection extends NewConnection {
  id: string;
}

export interface ResourceStatus {
  type: 'client' | 'source' | 'target' | 'ssh';
  client: string;
  address?: string;
  status: ConnectivityStatus;
  statusDetails?: string;
  inStateSince?: string;
  [key: string]: unknown;
}

export interface ConnectionStatus {
  connectionId: string;
  /** The desired status. */
  connectionStatus: ConnectivityStatus;
  /** The actual status. */
  liveStatus: ConnectivityStatus;
  connectedSince?: string;
  clientStatus?: ResourceStatus[];
  sourceStatus?: ResourceStatus[];
  targetStatus?: ResourceStatus[];
  sshTunnelStatus?: ResourceStatus[];
  [key: string]: unknown;
}

/** Ditto's error body. Only `status` is guaranteed stable. */
export interface DittoErrorBody {
  status: number;
  error?: string;
  message?: string;
  description?: string;
  href?: string;
}

export type { Versioned } from '../core/http.js';

/** What a modifying request reported. */
export interface WriteResult {
  /** 201 created, 204 modified, 202 accepted without waiting (`responseRequired: false` or `dittoTimeout: 0`). */
  status: number;
  created: boolean;
  etag: string | undefined;
}

/** A `PUT` below a thing or policy: Ditto echoes the created value with 201, nothing with 204. */
export interface PutResult<T> extends WriteResult {
  value: T | undefined;
}
