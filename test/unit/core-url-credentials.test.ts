// Credentials inside endpoint URLs: every place a base URL, endpoint, host or broker address enters the SDK
// refuses a `user:password@` with a ValidationError that never repeats the value, in any rendering of the
// error and in any log line. Also for invalid URLs, unknown schemes, scheme-less values, passwords with URL
// delimiters and percent-encoded user info; and a server that echoes credentials back does not leak them.
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  Cloud2Edge,
  DeviceRegistry,
  DittoClient,
  HttpClient,
  HttpError,
  type LogFields,
  type Logger,
  TelemetryRelay,
  TwinLedgerError,
  ValidationError,
  configFromEnv,
  createDeviceClient,
  deviceEndpointFromConfig,
  noRetry,
} from '../../src/index.js';
import type { Ledger } from '../../src/ledger/types.js';
import { AmqpNorthbound } from '../../src/northbound/amqp.js';
import { KafkaNorthbound } from '../../src/northbound/kafka.js';

const USER = 'lampUser7K';
const LEFT = 'left7Qx';
const RIGHT = 'right8Zy';

/** Passwords with each delimiter between two distinctive halves, so a partial echo is caught too. */
const PASSWORDS: readonly { name: string; password: string }[] = [
  { name: 'plain', password: `${LEFT}${RIGHT}` },
  { name: 'with /', password: `${LEFT}/${RIGHT}` },
  { name: 'with #', password: `${LEFT}#${RIGHT}` },
  { name: 'with @', password: `${LEFT}@${RIGHT}` },
  { name: 'with %', password: `${LEFT}%${RIGHT}` },
  { name: 'with :', password: `${LEFT}:${RIGHT}` },
  { name: 'with spaces', password: `${LEFT} ${RIGHT} x` },
  { name: 'with all of them', password: `${LEFT}/#@%: ${RIGHT}` },
];

function userinfoEncoded(password: string): string {
  const url = new URL('http://host');
  url.password = password;
  return url.password;
}

/** Every text a leak of the user name or the password could show up as. */
function forbidden(password: string): string[] {
  return [
    USER,
    LEFT,
    RIGHT,
    password,
    encodeURIComponent(password),
    userinfoEncoded(password),
    Buffer.from(`${USER}:${password}`).toString('base64'),
  ];
}

interface UrlForm {
  name: string;
  /** The value for an entry point whose URLs use `scheme` and end with `path`. */
  value: (scheme: string, password: string, path: string) => string;
}

const FORMS: readonly UrlForm[] = [
  { name: 'valid URL with user:password', value: (s, p, path) => `${s}://${USER}:${p}@host.test:8080${path}` },
  { name: 'invalid port', value: (s, p, path) => `${s}://${USER}:${p}@host.test:99999${path}` },
  { name: 'non-numeric port', value: (s, p, path) => `${s}://${USER}:${p}@host.test:80a${path}` },
  { name: 'ftp: scheme', value: (_s, p, path) => `ftp://${USER}:${p}@host.test${path}` },
  { name: 'scheme-less user:pw@host', value: (_s, p, path) => `${USER}:${p}@host.test:8080${path}` },
  {
    name: 'percent-encoded user info',
    value: (s, p, path) => `${s}://${encodeURIComponent(USER)}:${encodeURIComponent(p)}@host.test:8080${path}`,
  },
  { name: 'user info and a space in the host', value: (s, p, path) => `${s}://${USER}:${p}@host test:8080${path}` },
];

function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, fields?: LogFields) => {
    lines.push(`${level} ${message} ${inspect(fields, { depth: 10 })} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

/** The ways an error reaches a log or a screen. */
function renderings(error: unknown): Record<string, string> {
  const e = error as Error;
  return {
    message: e.message,
    'String(error)': String(e),
    stack: e.stack ?? '',
    'JSON.stringify': JSON.stringify(e),
    'util.inspect': inspect(e, { depth: 10, showHidden: true }),
    'JSON of the fields': JSON.stringify({ ...e, message: e.message, stack: e.stack }),
  };
}

function assertNoLeak(texts: Record<string, string>, secrets: readonly string[], where: string): void {
  for (const [rendering, text] of Object.entries(texts)) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${where}: ${rendering} contains ${JSON.stringify(secret)}:\n${text}`);
    }
  }
}

const ledger = { mspId: 'Org1MSP' } as unknown as Ledger;
const device = { tenant: 'org.acme', authId: 'lamp-1', password: 'device-secret-1' };

interface EntryPoint {
  name: string;
  /** The field a ValidationError names. */
  field: string;
  /** Scheme and path of a proper value, used to build the forms. */
  scheme: string;
  path: string;
  /** Builds the client (or config) from `value`, logging to `logger`. */
  use: (value: string, logger: Logger) => unknown;
  /** A value without credentials that the entry point accepts. */
  valid: string;
}

const ENTRY_POINTS: readonly EntryPoint[] = [
  {
    name: 'DittoClient baseUrl',
    field: 'baseUrl',
    scheme: 'http',
    path: '',
    valid: 'http://ditto.test:8080',
    use: (value, logger) =>
      new DittoClient({ baseUrl: value, credentials: { type: 'basic', username: 'ditto', password: 'ditto' }, logger }),
  },
  {
    name: 'DeviceRegistry baseUrl',
    field: 'baseUrl',
    scheme: 'http',
    path: '/v1',
    valid: 'http://registry.test:28080/v1',
    use: (value, logger) => new DeviceRegistry({ baseUrl: value, logger }),
  },
  {
    name: 'HttpClient baseUrl',
    field: 'baseUrl',
    scheme: 'http',
    path: '',
    valid: 'https://[::1]:8443/base',
    use: (value, logger) => new HttpClient({ baseUrl: value, service: 'test', logger }),
  },
  {
    name: 'HTTP device client endpoint',
    field: 'endpoint',
    scheme: 'http',
    path: '',
    valid: 'http://adapter.test:18080',
    use: (value, logger) => createDeviceClient({ ...device, transport: 'http', endpoint: value, logger }),
  },
  {
    name: 'MQTT device client endpoint URL',
    field: 'endpoint',
    scheme: 'mqtt',
    path: '',
    valid: 'mqtts://adapter.test:8883',
    use: (value, logger) => createDeviceClient({ ...device, transport: 'mqtt', endpoint: value, logger }),
  },
  {
    name: 'MQTT device client endpoint.host',
    field: 'endpoint.host',
    scheme: 'mqtt',
    path: '',
    valid: 'adapter.test',
    use: (value, logger) => createDeviceClient({ ...device, transport: 'mqtt', endpoint: { host: value, port: 1883 }, logger }),
  },
  {
    name: 'deviceEndpointFromConfig mqttAdapter.host',
    field: 'mqttAdapter.host',
    scheme: 'mqtt',
    path: '',
    valid: 'fd00::1',
    use: (value) => deviceEndpointFromConfig({ mqttAdapter: { host: value, port: 1883 } }, 'mqtt'),
  },
  {
    name: 'deviceEndpointFromConfig httpAdapter.baseUrl',
    field: 'httpAdapter.baseUrl',
    scheme: 'http',
    path: '',
    valid: 'http://adapter.test:18080',
    use: (value) => deviceEndpointFromConfig({ httpAdapter: { baseUrl: value } }, 'http'),
  },
  {
    name: 'TelemetryRelay httpAdapter.baseUrl',
    field: 'httpAdapter.baseUrl',
    scheme: 'http',
    path: '',
    valid: 'http://adapter.test:18080',
    use: (value, logger) => new TelemetryRelay({ ledger, httpAdapter: { baseUrl: value }, stateDir: '/nonexistent/relay', logger }),
  },
  {
    name: 'AMQP northbound host',
    field: 'host',
    scheme: 'amqp',
    path: '',
    valid: '10.0.0.7',
    use: (value, logger) => new AmqpNorthbound({ host: value, credentials: { username: 'consumer@HONO', password: 'verysecret' }, logger }),
  },
  {
    name: 'Kafka northbound brokers[0]',
    field: 'brokers[0]',
    scheme: 'sasl_ssl',
    path: '',
    valid: '[fd00::1]:9094',
    use: (value, logger) => new KafkaNorthbound({ brokers: [value], logger }),
  },
  ...(['REGISTRY_BASE_URL', 'DITTO_API_BASE_URL', 'HTTP_ADAPTER_BASE_URL'] as const).map((variable): EntryPoint => ({
    name: `configFromEnv ${variable}`,
    field: variable,
    scheme: 'http',
    path: '',
    valid: '192.168.1.10:28080',
    use: (value) => configFromEnv({ [variable]: value }),
  })),
  ...(
    [
      ['MQTT_ADAPTER_IP', { MQTT_ADAPTER_PORT_MQTT: '1883' }],
      ['AMQP_NETWORK_IP', { AMQP_NETWORK_PORT_AMQP: '15672' }],
      ['KAFKA_IP', {}],
      ['HTTP_ADAPTER_IP', { HTTP_ADAPTER_PORT_HTTP: '18080' }],
    ] as const
  ).map(([variable, ports]): EntryPoint => ({
    name: `configFromEnv ${variable}`,
    field: variable,
    scheme: 'http',
    path: '',
    valid: '192.168.1.10',
    use: (value) => configFromEnv({ [variable]: value, ...ports }),
  })),
  {
    name: 'Cloud2Edge.fromEnv DITTO_API_BASE_URL',
    field: 'DITTO_API_BASE_URL',
    scheme: 'http',
    path: '',
    valid: 'http://ditto.test',
    use: (value, logger) => Cloud2Edge.fromEnv({ logger }, { DITTO_API_BASE_URL: value }).ditto,
  },
  {
    name: 'Cloud2Edge.fromEnv overrides ditto.baseUrl',
    field: 'ditto.baseUrl',
    scheme: 'http',
    path: '',
    valid: 'http://ditto.test',
    use: (value, logger) => Cloud2Edge.fromEnv({ logger, ditto: { baseUrl: value } }, {}).ditto,
  },
  {
    name: 'Cloud2Edge registry.baseUrl',
    field: 'registry.baseUrl',
    scheme: 'http',
    path: '/v1',
    valid: 'http://registry.test/v1',
    use: (value, logger) => new Cloud2Edge({ logger, registry: { baseUrl: value } }).registry,
  },
  {
    name: 'Cloud2Edge kafka.bootstrapServers[0]',
    field: 'kafka.bootstrapServers[0]',
    scheme: 'sasl_ssl',
    path: '',
    valid: 'kafka.test:9094',
    use: (value, logger) => new Cloud2Edge({ logger, kafka: { bootstrapServers: [value] } }),
  },
];

describe('credentials in endpoint URLs never leak', () => {
  for (const entry of ENTRY_POINTS) {
    describe(entry.name, () => {
      it('accepts a value without credentials', () => {
        const logger = capturingLogger();
        assert.doesNotThrow(() => entry.use(entry.valid, logger));
      });

      for (const form of FORMS) {
        it(`refuses ${form.name} with a ValidationError that never repeats it, for every password shape`, () => {
          for (const { name, password } of PASSWORDS) {
            const value = form.value(entry.scheme, password, entry.path);
            const logger = capturingLogger();
            let thrown: unknown;
            try {
              entry.use(value, logger);
            } catch (error) {
              thrown = error;
            }
            const where = `${entry.name} / ${form.name} / password ${name}`;
            assert.ok(thrown instanceof ValidationError, `${where}: expected a ValidationError, got ${inspect(thrown)}`);
            assert.ok(thrown instanceof TwinLedgerError);
            assert.equal(thrown.field, entry.field, where);
            assert.equal(thrown.cause, undefined, `${where}: no cause (a TypeError's input field carries the URL)`);
            assertNoLeak(renderings(thrown), forbidden(password), where);
            assertNoLeak({ 'logger lines': logger.lines.join('\n') }, forbidden(password), where);
          }
        });
      }
    });
  }

  it('a refusal of user info says where credentials go instead', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => new DittoClient({ baseUrl: `http://${USER}:${LEFT}@ditto.test` }), /credentials/],
      [() => new DeviceRegistry({ baseUrl: `http://${USER}:${LEFT}@registry.test/v1` }), /`credentials`/],
      [
        () => createDeviceClient({ ...device, transport: 'http', endpoint: `http://${USER}:${LEFT}@adapter.test` }),
        /`authId` and `password`/,
      ],
      [() => new AmqpNorthbound({ host: `${USER}:${LEFT}@router.test` }), /`credentials`/],
      [() => new KafkaNorthbound({ brokers: [`${USER}:${LEFT}@kafka.test:9094`] }), /`credentials`/],
      [() => configFromEnv({ DITTO_API_BASE_URL: `http://${USER}:${LEFT}@ditto.test` }), /TWINLEDGER_DITTO_USERNAME/],
    ];
    for (const [use, hint] of cases) {
      assert.throws(use, (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.match(error.message, /user name or password/);
        assert.match(error.hint ?? '', hint);
        return true;
      });
    }
  });

  it('invalid URLs without credentials are ValidationErrors at construction, never a TypeError later', () => {
    for (const value of [
      'http://ditto.test:99999',
      'http://ditto test',
      'ftp://ditto.test',
      'ditto.test:8080',
      'http://',
      'http://ditto.test/?q=1',
      'http://ditto.test/#top',
    ]) {
      assert.throws(
        () => new DittoClient({ baseUrl: value }),
        (error: unknown) => error instanceof ValidationError && error.field === 'baseUrl',
        value,
      );
      assert.throws(
        () => new HttpClient({ baseUrl: value, service: 'x' }),
        (error: unknown) => error instanceof ValidationError && error.field === 'baseUrl',
        value,
      );
      assert.throws(
        () => createDeviceClient({ ...device, transport: 'http', endpoint: value }),
        (error: unknown) => error instanceof ValidationError && error.field === 'endpoint',
        value,
      );
    }
  });

  it('accepted addresses are used as the URL parser understood them', () => {
    assert.equal(new DittoClient({ baseUrl: 'HTTP://Ditto.Test:8080/api/2/' }).http.baseUrl, 'http://ditto.test:8080');
    assert.equal(new DeviceRegistry({ baseUrl: 'http://registry.test:80/v1//' }).http.baseUrl, 'http://registry.test/v1');
    assert.equal(configFromEnv({ REGISTRY_BASE_URL: '10.0.0.1:28080' }).registry?.baseUrl, 'http://10.0.0.1:28080/v1');
    const ipv6 = configFromEnv({ HTTP_ADAPTER_IP: 'fd00::1', HTTP_ADAPTER_PORT_HTTP: '18080', KAFKA_IP: 'fd00::2' });
    assert.equal(ipv6.httpAdapter?.baseUrl, 'http://[fd00::1]:18080');
    assert.deepEqual(ipv6.kafka?.bootstrapServers, ['[fd00::2]:9094']);
    assert.deepEqual(deviceEndpointFromConfig({ mqttAdapter: { host: 'fd00::1', port: 1883 } }, 'mqtt'), {
      endpoint: 'mqtt://[fd00::1]:1883',
      tls: undefined,
    });
  });

  it('says what is wrong without the value: the scheme when it is a known one, the port range', () => {
    assert.throws(() => new DittoClient({ baseUrl: 'ftp://ditto.test' }), /ftp:/);
    assert.throws(() => new DittoClient({ baseUrl: 'http://ditto.test:99999' }), /port/);
    assert.throws(
      () => createDeviceClient({ ...device, transport: 'mqtt', endpoint: 'http://adapter.test:8080' }),
      /mqtt:\/\/ or mqtts:\/\//,
    );
  });
});

describe('a server that echoes credentials back', () => {
  const PASSWORD = `${LEFT}/#@%: ${RIGHT}`;
  // The user name is no secret once it is given through an option: only the password forms must be masked.
  const SECRETS = forbidden(PASSWORD).filter((text) => text !== USER);
  let server: Server;
  let base: string;
  let calls = 0;
  let withPassword = 0;

  before(async () => {
    server = createServer((request, response) => {
      calls += 1;
      const authorization = request.headers.authorization ?? '';
      const decoded = Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString('utf8');
      if (decoded.includes(PASSWORD)) withPassword += 1;
      const [user = '', ...rest] = decoded.split(':');
      const url = new URL(`http://${request.headers.host}${request.url}`);
      url.username = user;
      url.password = rest.join(':');
      const body = JSON.stringify({
        error: 'echo:failure',
        message: `cannot serve ${url.href} for ${authorization} (password ${rest.join(':')})`,
        description: `also ${encodeURIComponent(rest.join(':'))}`,
        request: { url: url.href, authorization, password: rest.join(':') },
      });
      // The first answer of every call is a 503, so retrying clients log a warning with the echo in it.
      response.writeHead(calls % 2 === 1 ? 503 : 400, { 'content-type': 'application/json' });
      response.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const retry = { nextDelayMs: (attempt: number) => (attempt < 2 ? 1 : undefined) };
  const basic = { type: 'basic' as const, username: USER, password: PASSWORD };

  async function deviceTelemetry(options: { endpoint: string; authId: string; password: string; logger: Logger }): Promise<void> {
    const client = createDeviceClient({ tenant: 'org.acme', transport: 'http', retry: noRetry, ...options });
    await client.connect();
    try {
      await client.telemetry({ temperature: 21 }, { qos: 1 });
    } finally {
      await client.close();
    }
  }

  async function outcome(call: () => Promise<unknown>): Promise<unknown> {
    try {
      await call();
    } catch (error) {
      return error;
    }
    return undefined;
  }

  const inUrl: { name: string; call: (url: string, logger: Logger) => Promise<unknown> }[] = [
    { name: 'DittoClient', call: async (url, logger) => new DittoClient({ baseUrl: url, logger, retry }).things.get('org.acme:lamp-1') },
    {
      name: 'DeviceRegistry',
      call: async (url, logger) => new DeviceRegistry({ baseUrl: `${url}/v1`, logger, retry }).tenants.get('org.acme'),
    },
    {
      name: 'HttpClient',
      call: async (url, logger) => new HttpClient({ baseUrl: url, service: 'test', logger, retry }).request({ method: 'GET', path: '/x' }),
    },
    {
      name: 'HTTP device client',
      call: (url, logger) => deviceTelemetry({ endpoint: url, authId: 'lamp-1', password: 'device-secret-1', logger }),
    },
  ];

  for (const { name, call } of inUrl) {
    it(`${name}: credentials in the URL are refused before any request, so there is nothing to echo`, async () => {
      calls = 0;
      withPassword = 0;
      const logger = capturingLogger();
      const url = base.replace('//', `//${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@`);
      const thrown = await outcome(() => call(url, logger));
      assert.equal(withPassword, 0, 'the password never reached the server');
      assert.ok(thrown instanceof ValidationError, `expected a ValidationError, got ${inspect(thrown)}`);
      assert.equal(calls, 0);
      assertNoLeak(renderings(thrown), forbidden(PASSWORD), name);
      assertNoLeak({ 'logger lines': logger.lines.join('\n') }, forbidden(PASSWORD), name);
    });
  }

  const inOptions: { name: string; call: (logger: Logger) => Promise<unknown> }[] = [
    {
      name: 'DittoClient (credentials option)',
      call: (logger) => new DittoClient({ baseUrl: base, credentials: basic, logger, retry }).things.get('org.acme:lamp-1'),
    },
    {
      name: 'DeviceRegistry (credentials option)',
      call: (logger) => new DeviceRegistry({ baseUrl: `${base}/v1`, credentials: basic, logger, retry }).tenants.get('org.acme'),
    },
    {
      name: 'HTTP device client (authId and password)',
      call: (logger) => deviceTelemetry({ endpoint: base, authId: USER, password: PASSWORD, logger }),
    },
  ];

  for (const { name, call } of inOptions) {
    it(`${name}: credentials given as options stay masked in the error and the log lines when echoed`, async () => {
      calls = 0;
      withPassword = 0;
      const logger = capturingLogger();
      const thrown = await outcome(() => call(logger));
      assert.ok(thrown instanceof HttpError, `expected an HttpError, got ${inspect(thrown)}`);
      assert.ok(withPassword >= 1, 'the server saw the password and echoed it');
      assertNoLeak(renderings(thrown), SECRETS, name);
      assertNoLeak({ body: inspect(thrown.body, { depth: 10 }) }, SECRETS, name);
      assert.ok(logger.lines.length > 0, 'the client logged');
      assertNoLeak({ 'logger lines': logger.lines.join('\n') }, SECRETS, name);
    });
  }
});
