import { ValidationError } from './errors.js';
import type { IdRules } from './ids.js';
import { checkedHost, checkedHostPort, checkedHttpBaseUrl } from './endpoint.js';
import { type LogLevel, type Logger, jsonLineLogger } from './logger.js';
import { durationMs, integerOption } from './options.js';
import type { Credentials } from './http.js';
import type { RetryPolicy } from './retry.js';
import type { TlsOptions } from './tls.js';

export type MessagingType = 'kafka' | 'amqp';

/*
 * Addresses never carry credentials: a `user:password@` in any base URL, host or bootstrap server is refused
 * (`ValidationError` without the value, see endpoint.ts); credentials have settings of their own.
 */

export interface RegistryEndpoint {
  /** Base URL of the device registry management API, including `/v1`. No `user:password@`. */
  baseUrl: string;
  tls?: TlsOptions;
}

export interface DittoEndpoint {
  /** Base URL of Ditto's HTTP API, without `/api/2`. No `user:password@`: use `username`/`password` or `token`. */
  baseUrl: string;
  /** Basic-auth user for things, policies, search and messages. Cloud2Edge default `ditto`. */
  username?: string;
  password?: string;
  /** A bearer token (OAuth/JWT) instead of basic auth. */
  token?: string;
  /** Devops user, needed to create the per-tenant Ditto connection. Cloud2Edge default `devops`. */
  devopsUsername?: string;
  devopsPassword?: string;
  tls?: TlsOptions;
}

export interface HostPort {
  /** Host name or IP address only (no scheme, port or `user:password@`). */
  host: string;
  port: number;
  /** TLS port, when the service offers one. */
  tlsPort?: number;
}

/** A Fabric Gateway peer and the client identity that submits to the TwinLedger chaincode (files in PEM). */
export interface FabricGatewayEndpoint {
  /** `host:port` of a peer running the Fabric Gateway, e.g. `peer0.org1.example.com:7051`. */
  peerEndpoint: string;
  /** CA certificate(s) that signed the peer's TLS certificate. */
  tlsRootCertFile: string;
  /** The name the peer's TLS certificate was issued for, when it differs from the host in `peerEndpoint`. */
  hostAlias?: string;
  mspId: string;
  /** The identity's certificate, e.g. `msp/signcerts/cert.pem`. */
  certificateFile: string;
  /** The identity's private key, e.g. `msp/keystore/…_sk`. */
  privateKeyFile: string;
  /** Default `mychannel`. */
  channel: string;
  /** Default `twinledger`. */
  chaincode: string;
  /** Client certificate and key for mutual TLS with the peer, when it requires them. */
  tlsClientCertFile?: string;
  tlsClientKeyFile?: string;
}

/** A Kubo node's RPC API (not its gateway), with the credentials its `API.Authorizations` asks for, if any. */
export interface KuboEndpoint {
  /** e.g. `http://127.0.0.1:5001`. No `user:password@`: use `credentials`. */
  url: string;
  credentials?: Credentials;
}

export interface TwinLedgerConfig {
  registry?: RegistryEndpoint;
  ditto?: DittoEndpoint;
  /** Hono HTTP adapter base URL (device side). No `user:password@`: devices log in with their own credentials. */
  httpAdapter?: { baseUrl: string; tls?: TlsOptions };
  mqttAdapter?: HostPort;
  amqpNetwork?: HostPort;
  /** `host:port` each, no scheme and no `user:password@`. */
  kafka?: { bootstrapServers: string[] };
  /** Which messaging network Hono uses; decides the Ditto connection type. Cloud2Edge default `kafka`. */
  messaging?: MessagingType;
  /** TLS defaults for every endpoint that has none of its own. */
  tls?: TlsOptions;
  /** Where records are anchored; default the embedded dev ledger in `dataDir`. */
  fabric?: FabricGatewayEndpoint;
  /** Where payloads are stored; default the embedded store in `dataDir`. */
  kubo?: KuboEndpoint;
  /** Folder of the anchorer's outbox and of the embedded ledger and store. Default `./.twinledger`. */
  dataDir?: string;
  /** Default deadline per call. Default 10 000 ms. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  logger?: Logger;
  idRules?: Partial<IdRules>;
}

/** Environment variables read by `configFromEnv`, with what each one means. Kept in sync with README.md. */
export const ENVIRONMENT_VARIABLES = {
  REGISTRY_BASE_URL: 'Hono device registry, e.g. http://192.168.1.10:28080 (printed by Cloud2Edge; /v1 is appended)',
  HTTP_ADAPTER_BASE_URL: 'Hono HTTP adapter base URL (printed by Cloud2Edge)',
  HTTP_ADAPTER_IP: 'Hono HTTP adapter host, used with HTTP_ADAPTER_PORT_HTTP(S) when HTTP_ADAPTER_BASE_URL is unset',
  HTTP_ADAPTER_PORT_HTTP: 'Hono HTTP adapter plain port',
  HTTP_ADAPTER_PORT_HTTPS: 'Hono HTTP adapter TLS port (used when TWINLEDGER_CA_FILE is set or no plain port is given)',
  MQTT_ADAPTER_IP: 'Hono MQTT adapter host',
  MQTT_ADAPTER_PORT_MQTT: 'Hono MQTT adapter plain port',
  MQTT_ADAPTER_PORT_MQTTS: 'Hono MQTT adapter TLS port',
  DITTO_API_BASE_URL: 'Ditto HTTP API base URL, without /api/2 (printed by Cloud2Edge)',
  DITTO_DEVOPS_PWD: "Password of Ditto's devops user (printed by Cloud2Edge)",
  AMQP_NETWORK_IP: 'AMQP messaging network host (AMQP profile only)',
  AMQP_NETWORK_PORT_AMQP: 'AMQP messaging network plain port',
  AMQP_NETWORK_PORT_AMQPS: 'AMQP messaging network TLS port',
  KAFKA_IP: 'Kafka bootstrap host (Kafka profile, the Cloud2Edge default)',
  KAFKA_PORT_TCP_KAFKA: 'Kafka bootstrap port',
  TWINLEDGER_DITTO_USERNAME: 'Ditto user (default: ditto)',
  TWINLEDGER_DITTO_PASSWORD: 'Ditto password (default: ditto)',
  TWINLEDGER_DITTO_TOKEN: 'Bearer token for Ditto instead of user/password',
  TWINLEDGER_DITTO_DEVOPS_USERNAME: 'Ditto devops user (default: devops)',
  TWINLEDGER_MESSAGING: 'kafka (default) or amqp: which Ditto connection provisioning creates',
  TWINLEDGER_CA_FILE: "PEM file with the CA that signed the servers' certificates",
  TWINLEDGER_TLS_SERVER_NAME: 'Host name to verify server certificates against (Cloud2Edge example certificates)',
  TWINLEDGER_CLIENT_CERT_FILE: 'Client certificate (PEM) for mutual TLS',
  TWINLEDGER_CLIENT_KEY_FILE: 'Client private key (PEM) for mutual TLS',
  TWINLEDGER_DATA_DIR: "Folder of the anchorer's outbox and of the embedded ledger and store (default: ./.twinledger)",
  TWINLEDGER_FABRIC_PEER: 'Fabric Gateway peer, host:port: anchor on Fabric instead of the embedded dev ledger',
  TWINLEDGER_FABRIC_TLS_CA_FILE: "PEM file with the CA that signed the peer's TLS certificate (required with TWINLEDGER_FABRIC_PEER)",
  TWINLEDGER_FABRIC_HOST_ALIAS: "Name the peer's TLS certificate was issued for, when it differs from the host in TWINLEDGER_FABRIC_PEER",
  TWINLEDGER_FABRIC_MSP_ID: 'MSP ID of the submitting identity, e.g. Org1MSP (required with TWINLEDGER_FABRIC_PEER)',
  TWINLEDGER_FABRIC_CERT_FILE: "The identity's certificate, PEM (required with TWINLEDGER_FABRIC_PEER)",
  TWINLEDGER_FABRIC_KEY_FILE: "The identity's private key, PEM (required with TWINLEDGER_FABRIC_PEER)",
  TWINLEDGER_FABRIC_CHANNEL: 'Channel of the TwinLedger chaincode (default: mychannel)',
  TWINLEDGER_FABRIC_CHAINCODE: 'Name of the TwinLedger chaincode on the channel (default: twinledger)',
  TWINLEDGER_FABRIC_TLS_CLIENT_CERT_FILE: 'Client certificate (PEM) for mutual TLS with the peer',
  TWINLEDGER_FABRIC_TLS_CLIENT_KEY_FILE: 'Client private key (PEM) for mutual TLS with the peer',
  TWINLEDGER_KUBO_URL: "Kubo's RPC API, e.g. http://127.0.0.1:5001: store payloads there instead of the embedded store",
  TWINLEDGER_KUBO_TOKEN: "Bearer token for Kubo's API.Authorizations",
  TWINLEDGER_KUBO_USERNAME: "Basic-auth user for Kubo's API.Authorizations (with TWINLEDGER_KUBO_PASSWORD)",
  TWINLEDGER_KUBO_PASSWORD: "Basic-auth password for Kubo's API.Authorizations",
  TWINLEDGER_TIMEOUT_MS: 'Default deadline per call in milliseconds (default: 10000)',
  TWINLEDGER_LOG_LEVEL: 'debug, info, warn or error: log JSON lines to stderr at this level (default: no logging)',
} as const;

export type EnvironmentVariable = keyof typeof ENVIRONMENT_VARIABLES;

type Env = Readonly<Record<string, string | undefined>>;

function get(env: Env, name: EnvironmentVariable): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Where credentials go instead of an address (see endpoint.ts), for the hint of a refusal. */
const REGISTRY_LOGIN = "DeviceRegistry's `credentials` option (Cloud2Edge's registry needs none)";
const DEVICE_LOGIN = "the device client's `authId` and `password`";
const AMQP_LOGIN = "AmqpNorthbound's `credentials` option ({ username, password })";
const KAFKA_LOGIN = "KafkaNorthbound's `credentials` option ({ mechanism, username, password })";

const CREDENTIALS_INSTEAD: Partial<Record<EnvironmentVariable, string>> = {
  REGISTRY_BASE_URL: REGISTRY_LOGIN,
  DITTO_API_BASE_URL: 'TWINLEDGER_DITTO_USERNAME / TWINLEDGER_DITTO_PASSWORD (or TWINLEDGER_DITTO_TOKEN), and DITTO_DEVOPS_PWD',
  HTTP_ADAPTER_BASE_URL: DEVICE_LOGIN,
  HTTP_ADAPTER_IP: DEVICE_LOGIN,
  MQTT_ADAPTER_IP: DEVICE_LOGIN,
  AMQP_NETWORK_IP: AMQP_LOGIN,
  KAFKA_IP: KAFKA_LOGIN,
};

/** Cloud2Edge prints some base URLs without a scheme: those get `http://`. */
function checkedUrl(name: EnvironmentVariable, value: string): string {
  return checkedHttpBaseUrl(name, value, {
    example: 'http://192.168.1.10:28080',
    credentialsIn: CREDENTIALS_INSTEAD[name] ?? 'their own settings',
    defaultScheme: 'http',
  });
}

function checkedHostVariable(name: EnvironmentVariable, value: string): string {
  return checkedHost(name, value, { example: '192.168.1.10', credentialsIn: CREDENTIALS_INSTEAD[name] ?? 'their own settings' });
}

/** A variable's digits as a number for the shared validators (options.ts); anything else stays text and fails them. */
function envNumber(value: string): unknown {
  return /^\d+$/.test(value) ? Number(value) : value;
}

function checkedPort(name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : integerOption(name, envNumber(value), { min: 1, max: 65_535, hint: 'A TCP port.' });
}

function hostPort(env: Env, host: EnvironmentVariable, plain: EnvironmentVariable, secure: EnvironmentVariable): HostPort | undefined {
  const value = get(env, host);
  if (value === undefined) return undefined;
  const hostValue = checkedHostVariable(host, value);
  const port = checkedPort(plain, get(env, plain));
  const tlsPort = checkedPort(secure, get(env, secure));
  const chosen = port ?? tlsPort;
  if (chosen === undefined) throw new ValidationError(plain, `is required when ${host} is set`);
  return tlsPort === undefined ? { host: hostValue, port: chosen } : { host: hostValue, port: chosen, tlsPort };
}

/**
 * Reads the variables that Cloud2Edge's `setCloud2EdgeEnv.sh` prints (plus TwinLedger's own
 * `TWINLEDGER_*`), so `eval "$(setCloud2EdgeEnv.sh ...)"` followed by your app just works.
 * Explicit `overrides` win over the environment.
 */
export function configFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  overrides: TwinLedgerConfig = {},
): TwinLedgerConfig {
  const config: TwinLedgerConfig = {};
  const registry = get(env, 'REGISTRY_BASE_URL');
  if (registry !== undefined) {
    const base = checkedUrl('REGISTRY_BASE_URL', registry);
    config.registry = { baseUrl: /\/v1$/.test(base) ? base : `${base}/v1` };
  }
  const ditto = get(env, 'DITTO_API_BASE_URL');
  if (ditto !== undefined) {
    config.ditto = {
      baseUrl: checkedUrl('DITTO_API_BASE_URL', ditto).replace(/\/api\/2$/, ''),
      username: get(env, 'TWINLEDGER_DITTO_USERNAME') ?? 'ditto',
      password: get(env, 'TWINLEDGER_DITTO_PASSWORD') ?? 'ditto',
      devopsUsername: get(env, 'TWINLEDGER_DITTO_DEVOPS_USERNAME') ?? 'devops',
    };
    const token = get(env, 'TWINLEDGER_DITTO_TOKEN');
    if (token !== undefined) config.ditto.token = token;
    const devopsPassword = get(env, 'DITTO_DEVOPS_PWD');
    if (devopsPassword !== undefined) config.ditto.devopsPassword = devopsPassword;
  }
  const httpAdapterUrl = get(env, 'HTTP_ADAPTER_BASE_URL');
  const httpAdapterIpValue = get(env, 'HTTP_ADAPTER_IP');
  const httpAdapterIp = httpAdapterIpValue === undefined ? undefined : checkedHostVariable('HTTP_ADAPTER_IP', httpAdapterIpValue);
  if (httpAdapterUrl !== undefined) {
    config.httpAdapter = { baseUrl: checkedUrl('HTTP_ADAPTER_BASE_URL', httpAdapterUrl) };
  } else if (httpAdapterIp !== undefined) {
    const https = checkedPort('HTTP_ADAPTER_PORT_HTTPS', get(env, 'HTTP_ADAPTER_PORT_HTTPS'));
    const plain = checkedPort('HTTP_ADAPTER_PORT_HTTP', get(env, 'HTTP_ADAPTER_PORT_HTTP'));
    if (https === undefined && plain === undefined) {
      throw new ValidationError('HTTP_ADAPTER_PORT_HTTP', 'is required when HTTP_ADAPTER_IP is set');
    }
    // As for MQTT: HTTPS when it is the only port or a CA was given (Cloud2Edge's example certificate fails otherwise).
    const secure = https !== undefined && (plain === undefined || get(env, 'TWINLEDGER_CA_FILE') !== undefined);
    const host = httpAdapterIp.includes(':') ? `[${httpAdapterIp}]` : httpAdapterIp;
    config.httpAdapter = {
      baseUrl: secure ? `https://${host}:${https}` : `http://${host}:${plain}`,
    };
  }
  const mqtt = hostPort(env, 'MQTT_ADAPTER_IP', 'MQTT_ADAPTER_PORT_MQTT', 'MQTT_ADAPTER_PORT_MQTTS');
  if (mqtt) config.mqttAdapter = mqtt;
  const amqp = hostPort(env, 'AMQP_NETWORK_IP', 'AMQP_NETWORK_PORT_AMQP', 'AMQP_NETWORK_PORT_AMQPS');
  if (amqp) config.amqpNetwork = amqp;
  const kafkaIpValue = get(env, 'KAFKA_IP');
  if (kafkaIpValue !== undefined) {
    const kafkaIp = checkedHostVariable('KAFKA_IP', kafkaIpValue);
    const port = checkedPort('KAFKA_PORT_TCP_KAFKA', get(env, 'KAFKA_PORT_TCP_KAFKA')) ?? 9094;
    config.kafka = { bootstrapServers: [`${kafkaIp.includes(':') ? `[${kafkaIp}]` : kafkaIp}:${port}`] };
  }
  const messaging = get(env, 'TWINLEDGER_MESSAGING');
  if (messaging !== undefined) {
    if (messaging !== 'kafka' && messaging !== 'amqp') {
      throw new ValidationError('TWINLEDGER_MESSAGING', `${JSON.stringify(messaging)} is neither "kafka" nor "amqp"`);
    }
    config.messaging = messaging;
  }
  const tls: TlsOptions = {};
  const caFile = get(env, 'TWINLEDGER_CA_FILE');
  if (caFile !== undefined) tls.caFile = caFile;
  const serverName = get(env, 'TWINLEDGER_TLS_SERVER_NAME');
  if (serverName !== undefined) tls.serverName = serverName;
  const certFile = get(env, 'TWINLEDGER_CLIENT_CERT_FILE');
  if (certFile !== undefined) tls.certFile = certFile;
  const keyFile = get(env, 'TWINLEDGER_CLIENT_KEY_FILE');
  if (keyFile !== undefined) tls.keyFile = keyFile;
  if (Object.keys(tls).length > 0) config.tls = tls;
  const fabric = fabricFromEnv(env);
  if (fabric !== undefined) config.fabric = fabric;
  const kubo = kuboFromEnv(env);
  if (kubo !== undefined) config.kubo = kubo;
  const dataDir = get(env, 'TWINLEDGER_DATA_DIR');
  if (dataDir !== undefined) config.dataDir = dataDir;
  const timeout = get(env, 'TWINLEDGER_TIMEOUT_MS');
  if (timeout !== undefined) {
    config.timeoutMs = durationMs('TWINLEDGER_TIMEOUT_MS', envNumber(timeout));
  }
  const level = get(env, 'TWINLEDGER_LOG_LEVEL');
  if (level !== undefined) {
    if (!['debug', 'info', 'warn', 'error'].includes(level)) {
      throw new ValidationError('TWINLEDGER_LOG_LEVEL', `${JSON.stringify(level)} is not one of debug, info, warn, error`);
    }
    config.logger = jsonLineLogger({ level: level as LogLevel });
  }
  return checkedConfigEndpoints(mergeConfig(config, overrides));
}

function fabricFromEnv(env: Env): FabricGatewayEndpoint | undefined {
  const peer = get(env, 'TWINLEDGER_FABRIC_PEER');
  if (peer === undefined) return undefined;
  const credentialsIn = 'TWINLEDGER_FABRIC_CERT_FILE / TWINLEDGER_FABRIC_KEY_FILE';
  const peerEndpoint = checkedHostPort('TWINLEDGER_FABRIC_PEER', peer, { example: 'peer0.org1.example.com:7051', credentialsIn });
  const required = (name: EnvironmentVariable, example: string): string => {
    const value = get(env, name);
    if (value === undefined) throw new ValidationError(name, 'is required when TWINLEDGER_FABRIC_PEER is set', `e.g. ${name}=${example}`);
    return value;
  };
  const endpoint: FabricGatewayEndpoint = {
    peerEndpoint,
    tlsRootCertFile: required('TWINLEDGER_FABRIC_TLS_CA_FILE', '.../peers/peer0.org1.example.com/tls/ca.crt'),
    mspId: required('TWINLEDGER_FABRIC_MSP_ID', 'Org1MSP'),
    certificateFile: required('TWINLEDGER_FABRIC_CERT_FILE', '.../users/User1@org1.example.com/msp/signcerts/cert.pem'),
    privateKeyFile: required('TWINLEDGER_FABRIC_KEY_FILE', '.../users/User1@org1.example.com/msp/keystore/priv_sk'),
    channel: get(env, 'TWINLEDGER_FABRIC_CHANNEL') ?? 'mychannel',
    chaincode: get(env, 'TWINLEDGER_FABRIC_CHAINCODE') ?? 'twinledger',
  };
  const hostAlias = get(env, 'TWINLEDGER_FABRIC_HOST_ALIAS');
  if (hostAlias !== undefined) endpoint.hostAlias = hostAlias;
  const clientCert = get(env, 'TWINLEDGER_FABRIC_TLS_CLIENT_CERT_FILE');
  const clientKey = get(env, 'TWINLEDGER_FABRIC_TLS_CLIENT_KEY_FILE');
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new ValidationError(
      clientCert === undefined ? 'TWINLEDGER_FABRIC_TLS_CLIENT_CERT_FILE' : 'TWINLEDGER_FABRIC_TLS_CLIENT_KEY_FILE',
      'a TLS client certificate and its key go together: set both or neither',
    );
  }
  if (clientCert !== undefined && clientKey !== undefined) {
    endpoint.tlsClientCertFile = clientCert;
    endpoint.tlsClientKeyFile = clientKey;
  }
  return endpoint;
}

function kuboFromEnv(env: Env): KuboEndpoint | undefined {
  const url = get(env, 'TWINLEDGER_KUBO_URL');
  const token = get(env, 'TWINLEDGER_KUBO_TOKEN');
  const username = get(env, 'TWINLEDGER_KUBO_USERNAME');
  const password = get(env, 'TWINLEDGER_KUBO_PASSWORD');
  if (url === undefined) {
    const stray =
      token !== undefined
        ? 'TWINLEDGER_KUBO_TOKEN'
        : username !== undefined
          ? 'TWINLEDGER_KUBO_USERNAME'
          : password !== undefined
            ? 'TWINLEDGER_KUBO_PASSWORD'
            : undefined;
    if (stray !== undefined) throw new ValidationError('TWINLEDGER_KUBO_URL', `is required when ${stray} is set`);
    return undefined;
  }
  const endpoint: KuboEndpoint = {
    url: checkedHttpBaseUrl('TWINLEDGER_KUBO_URL', url, {
      example: 'http://127.0.0.1:5001',
      credentialsIn: 'TWINLEDGER_KUBO_TOKEN, or TWINLEDGER_KUBO_USERNAME and TWINLEDGER_KUBO_PASSWORD',
      defaultScheme: 'http',
    }),
  };
  if (token !== undefined && (username !== undefined || password !== undefined)) {
    throw new ValidationError('TWINLEDGER_KUBO_TOKEN', 'give a token or a user and password, not both');
  }
  if ((username === undefined) !== (password === undefined)) {
    throw new ValidationError(
      username === undefined ? 'TWINLEDGER_KUBO_USERNAME' : 'TWINLEDGER_KUBO_PASSWORD',
      'a user and a password go together: set both',
    );
  }
  if (token !== undefined) endpoint.credentials = { type: 'bearer', token };
  if (username !== undefined && password !== undefined) endpoint.credentials = { type: 'basic', username, password };
  return endpoint;
}

/**
 * Checks every address in a configuration (`registry.baseUrl`, `ditto.baseUrl`, `httpAdapter.baseUrl`,
 * `mqttAdapter.host`, `amqpNetwork.host`, `kafka.bootstrapServers`) against the endpoint rule: no
 * credentials inside, and errors that never repeat the value (see endpoint.ts). Returns the configuration.
 */
export function checkedConfigEndpoints(config: TwinLedgerConfig): TwinLedgerConfig {
  const url = (field: string, value: unknown, credentialsIn: string) =>
    checkedHttpBaseUrl(field, value, { example: 'http://192.168.1.10:28080', credentialsIn });
  const host = (field: string, value: unknown, credentialsIn: string) =>
    checkedHost(field, value, { example: '192.168.1.10', credentialsIn });
  if (config.registry !== undefined) url('registry.baseUrl', config.registry.baseUrl, REGISTRY_LOGIN);
  if (config.ditto !== undefined) url('ditto.baseUrl', config.ditto.baseUrl, '`ditto.username` / `ditto.password` (or `ditto.token`)');
  if (config.httpAdapter !== undefined) url('httpAdapter.baseUrl', config.httpAdapter.baseUrl, DEVICE_LOGIN);
  if (config.mqttAdapter !== undefined) host('mqttAdapter.host', config.mqttAdapter.host, DEVICE_LOGIN);
  if (config.amqpNetwork !== undefined) host('amqpNetwork.host', config.amqpNetwork.host, AMQP_LOGIN);
  if (config.kubo !== undefined) url('kubo.url', config.kubo.url, '`kubo.credentials`');
  if (config.fabric !== undefined) {
    checkedHostPort('fabric.peerEndpoint', config.fabric.peerEndpoint, {
      example: 'peer0.org1.example.com:7051',
      credentialsIn: '`fabric.certificateFile` / `fabric.privateKeyFile`',
    });
  }
  const servers = config.kafka?.bootstrapServers;
  if (Array.isArray(servers)) {
    servers.forEach((server, index) => {
      checkedHostPort(`kafka.bootstrapServers[${index}]`, server, { example: '192.168.1.10:9094', credentialsIn: KAFKA_LOGIN });
    });
  }
  return config;
}

/** Shallow-merges each endpoint section; values in `overrides` win. */
export function mergeConfig(base: TwinLedgerConfig, overrides: TwinLedgerConfig): TwinLedgerConfig {
  const merged: TwinLedgerConfig = { ...base, ...overrides };
  for (const key of [
    'registry',
    'ditto',
    'httpAdapter',
    'mqttAdapter',
    'amqpNetwork',
    'kafka',
    'tls',
    'idRules',
    'fabric',
    'kubo',
  ] as const) {
    const a = base[key];
    const b = overrides[key];
    if (a !== undefined && b !== undefined) (merged as Record<string, unknown>)[key] = { ...a, ...b };
  }
  return merged;
}
