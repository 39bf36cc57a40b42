/**
 * The Ditto HTTP API v2 client: things, features, policies, messages, search, the change stream and connections,
 * with RQL filters as the `rql` namespace. The Ditto Protocol codec is the protocol entry point.
 */
export { DittoClient, type DittoClientOptions, type WhoAmI } from './client.js';
export { dittoHints } from './hints.js';
export * as rql from './rql-namespace.js';
export type { RqlExpression, RqlOperand, RqlSortOption, RqlValue, SortDirection, SortField } from './rql.js';
// The resource handles a client hands out: named here, built only by the client.
export type {
  ThingCreateOptions,
  ThingDefinitionHandle,
  ThingListOptions,
  ThingPatch,
  ThingPolicyIdHandle,
  ThingPutResult,
  ThingsApi,
} from './things.js';
export type { ThingChangeContext, ThingHistoryChange, ThingHistoryOptions } from './history.js';
export type { FeatureDefinitionHandle, FeatureHandle, FeaturesHandle, FeaturesPatch } from './features.js';
export type { JsonTreeHandle } from './values.js';
export type {
  PoliciesApi,
  PolicyCollection,
  PolicyEntriesHandle,
  PolicyImportsHandle,
  PolicyPutOptions,
  PolicyPutResult,
  PolicyResourcesHandle,
  PolicySubjectsHandle,
} from './policies.js';
export type { ClaimOptions, MessageDirection, MessagePayload, MessageResponse, MessagesApi, OutgoingMessage } from './messages.js';
export type { ConnectionCommand, ConnectionPutResult, ConnectionReadOptions, ConnectionsApi } from './connections.js';
export type { SearchApi, SearchCallOptions, SearchPage, ThingCountQuery, ThingSearchQuery } from './search.js';
export type { ChangeStreamApi, ChangeStreamOptions, ThingChange, ThingChangeData } from './changes.js';
export type {
  AcknowledgementLabel,
  Channel,
  DittoGetOptions,
  DittoHeaderOptions,
  DittoHistoryOptions,
  DittoReadOptions,
  IfEqual,
  LiveChannelTimeoutStrategy,
  MetadataEntry,
} from './headers.js';
export type {
  Attributes,
  Connection,
  ConnectionSource,
  ConnectionStatus,
  ConnectionTarget,
  ConnectionType,
  ConnectivityStatus,
  DittoErrorBody,
  Feature,
  FeatureDefinition,
  FeatureProperties,
  Features,
  Importable,
  JsonArray,
  JsonObject,
  JsonPrimitive,
  JsonValue,
  NewConnection,
  NewPolicy,
  NewThing,
  Permission,
  Policy,
  PolicyEntries,
  PolicyEntry,
  PolicyImport,
  PolicyImports,
  PutResult,
  Resource,
  Resources,
  ResourceStatus,
  Subject,
  SubjectAnnouncement,
  Subjects,
  Thing,
  ThingDefinition,
  WriteResult,
} from './types.js';
// The HTTP transport the client runs on (its `http` option); loads axios.
export {
  HttpClient,
  type HintProvider,
  type HttpClientOptions,
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  type QueryValue,
} from '../core/http.js';
// The shared core API (errors, options, retry, logging, TLS, ID rules, configuration, events): one curated list, src/core/index.ts.
export * from '../core/index.js';
