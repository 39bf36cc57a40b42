// cloud2edge-helm/scripts, offline: bash -n and shellcheck (SHELLCHECK_BIN or PATH, when present); install.sh
// --dry-run; twinledger-env.sh against a fake kubectl that answers from Service, Secret and ConfigMap fixtures.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { configFromEnv } from '../../src/core/index.js';
import { envSh, initSh, installSh, kuboChart, openssl, run, scratchDir, shellcheck, succeeded, valuesDir } from '../support/helm.js';

const scratch = scratchDir();

describe('the scripts', () => {
  const bin = join(scratch, 'bin');
  mkdirSync(bin, { recursive: true });

  it('parse (bash -n, sh -n)', () => {
    for (const script of [installSh, envSh]) succeeded(run('bash', ['-n', script]), `bash -n ${script}`);
    succeeded(run('sh', ['-n', initSh]), `sh -n ${initSh}`);
  });

  it('pass shellcheck', { skip: shellcheck.problem && `${shellcheck.problem}; bash -n only` }, () => {
    succeeded(run(shellcheck.bin!, ['-f', 'gcc', installSh, envSh]), 'shellcheck');
    succeeded(run(shellcheck.bin!, ['-f', 'gcc', '-s', 'sh', initSh]), 'shellcheck -s sh');
  });

  describe('install.sh --dry-run', () => {
    // A helm that records being called: --dry-run must not call it.
    const helmCalls = join(scratch, 'helm-calls');
    const fakeHelmDir = join(scratch, 'fake-helm');
    mkdirSync(fakeHelmDir, { recursive: true });
    writeFileSync(join(fakeHelmDir, 'helm'), `#!/bin/sh\necho "$@" >> '${helmCalls}'\nexit 1\n`);
    chmodSync(join(fakeHelmDir, 'helm'), 0o755);
    const install = (...args: string[]) =>
      run('bash', [installSh, ...args], { env: { ...process.env, PATH: `${fakeHelmDir}${delimiter}${process.env.PATH ?? ''}` } });
    const repoLines = ['helm repo add eclipse-iot https://eclipse.org/packages/charts --force-update', 'helm repo update eclipse-iot'];
    const c2e =
      'helm upgrade --install c2e eclipse-iot/cloud2edge --version 0.9.2 --namespace cloud2edge --create-namespace --wait --timeout 20m';
    const overlay = (file: string) => `-f ${join(valuesDir, file)}`;

    it('default: Kafka, NodePort, TwinLedger’s overlay', () => {
      const out = succeeded(install('--dry-run'), 'install.sh --dry-run');
      assert.deepEqual(out.trimEnd().split('\n'), [...repoLines, `${c2e} ${overlay('twinledger.yaml')} ${overlay('nodeport.yaml')}`]);
      assert.equal(existsSync(helmCalls), false, 'helm was not called');
    });

    it('--amqp --service-type LoadBalancer --payload-size 8192 --kubo', () => {
      const out = succeeded(
        install('--amqp', '--service-type', 'LoadBalancer', '--payload-size', '8192', '--kubo', '--dry-run'),
        'install.sh --dry-run with options',
      );
      const sizes = [
        '--set hono.adapters.http.hono.http.maxPayloadSize=8192',
        '--set hono.adapters.mqtt.hono.mqtt.maxPayloadSize=8192',
        '--set-string hono.adapters.http.pod.annotations.twinledger-max-payload-size=8192',
        '--set-string hono.adapters.mqtt.pod.annotations.twinledger-max-payload-size=8192',
      ].join(' ');
      assert.deepEqual(out.trimEnd().split('\n'), [
        ...repoLines,
        `${c2e} ${overlay('twinledger.yaml')} ${overlay('amqp-messaging.yaml')} ${overlay('loadbalancer.yaml')} ${overlay('payload-size.yaml')} ${sizes}`,
        `helm upgrade --install c2e-kubo ${kuboChart} --namespace cloud2edge --wait --timeout 10m`,
      ]);
      assert.equal(existsSync(helmCalls), false, 'helm was not called');
    });

    it('another release and namespace', () => {
      const out = succeeded(install('--release', 'twin', '--namespace', 'iot', '--kubo', '--dry-run'), 'install.sh');
      assert.match(out, /^helm upgrade --install twin eclipse-iot\/cloud2edge --version 0\.9\.2 --namespace iot /m);
      assert.match(out, /^helm upgrade --install twin-kubo \S+ --namespace iot /m);
    });

    it('refuses bad options before doing anything', () => {
      const cases: Array<[string[], RegExp]> = [
        [['--service-type', 'ClusterIP'], /--service-type must be NodePort or LoadBalancer/],
        [['--payload-size', '0'], /--payload-size must be a number of bytes from 1 to 1048576/],
        [['--payload-size', '8k'], /--payload-size must be a number of bytes/],
        [['--release', 'C2E'], /--release must be lower-case/],
        [['--values', join(scratch, 'missing.yaml')], /is not readable/],
        [['--release'], /--release needs a value/],
        [['--bogus'], /unknown argument: --bogus/],
      ];
      for (const [args, message] of cases) {
        const result = install('--dry-run', ...args);
        assert.equal(result.status, 2, args.join(' '));
        assert.match(result.stderr, message);
        assert.equal(result.stdout.includes('helm upgrade'), false, args.join(' '));
      }
    });
  });

  describe('twinledger-env.sh with a fake kubectl', () => {
    // What `kubectl get service -o jsonpath=<the script's query>` prints for a Service (checked against kubectl 1.32
    // when the script was written): type, load-balancer IPs, host names, the Kubo chart's annotation, then the ports.
    const SERVICE_QUERY =
      'jsonpath={.spec.type}{"\\n"}{.status.loadBalancer.ingress[*].ip}{"\\n"}{.status.loadBalancer.ingress[*].hostname}{"\\n"}{.metadata.annotations.twinledger-api-auth-secret}{"\\n"}{range .spec.ports[*]}{.name}{" "}{.port}{" "}{.nodePort}{"\\n"}{end}';
    const NODE_QUERY = (type: string) => `jsonpath={.items[0].status.addresses[?(@.type=="${type}")].address}`;

    interface Service {
      type: 'NodePort' | 'LoadBalancer' | 'ClusterIP';
      ports: Array<{ name: string; port: number; nodePort?: number }>;
      ingress?: Array<{ ip?: string; hostname?: string }>;
      annotations?: Record<string, string>;
    }
    const printed = (service: Service) =>
      [
        service.type,
        (service.ingress ?? []).flatMap((entry) => (entry.ip ? [entry.ip] : [])).join(' '),
        (service.ingress ?? []).flatMap((entry) => (entry.hostname ? [entry.hostname] : [])).join(' '),
        service.annotations?.['twinledger-api-auth-secret'] ?? '',
        ...service.ports.map((port) => `${port.name} ${port.port} ${port.nodePort ?? ''}`),
      ].join('\n') + '\n';

    type Answer = { stdout?: string; stderr?: string; status?: number };
    const notFound = (what: string): Answer => ({ stderr: `Error from server (NotFound): ${what} not found\n`, status: 1 });
    const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

    /** Secrets a careless script might print; the fake answers them, the script must never ask. */
    const KUBO_TOKEN = 'bearer:kubo-token-must-not-leak';
    const KAFKA_PASSWORD = 'kafka-password-must-not-leak';
    const CA = '-----BEGIN CERTIFICATE-----\nMIIBexampleCA\n-----END CERTIFICATE-----';
    const DEVOPS_PASSWORD = `d'ev$(touch ${join(scratch, 'pwned')})ops`;

    interface Cluster {
      namespace: string;
      services: Record<string, Service | undefined>;
      /** Answers to the ExternalIP and the InternalIP query of the nodes. */
      nodes?: Answer[];
      ca?: string;
    }

    function fakeKubectl(name: string, { namespace, services, nodes = [], ca = CA }: Cluster) {
      const answers: Record<string, Answer> = {};
      const key = (...argv: string[]) => JSON.stringify(argv);
      for (const [service, definition] of Object.entries(services)) {
        answers[key('get', 'service', service, '--namespace', namespace, '-o', SERVICE_QUERY)] = definition
          ? { stdout: printed(definition) }
          : notFound(`services "${service}"`);
      }
      answers[key('get', 'nodes', '-o', NODE_QUERY('ExternalIP'))] = nodes[0] ?? { stdout: '' };
      answers[key('get', 'nodes', '-o', NODE_QUERY('InternalIP'))] = nodes[1] ?? { stdout: '' };
      answers[key('get', 'secret', 'c2e-ditto-gateway-secret', '--namespace', namespace, '-o', 'jsonpath={.data.devops-password}')] = {
        stdout: base64(DEVOPS_PASSWORD),
      };
      answers[key('get', 'configmap', 'c2e-hono-example-trust-store', '--namespace', namespace, '-o', 'jsonpath={.data.ca\\.crt}')] = {
        stdout: ca,
      };
      for (const [secret, field, value] of [
        ['c2e-kubo-api-auth', 'auth-secret', KUBO_TOKEN],
        ['c2e-kafka-user-passwords', 'client-passwords', KAFKA_PASSWORD],
      ]) {
        answers[key('get', 'secret', secret!, '--namespace', namespace, '-o', `jsonpath={.data.${field}}`)] = { stdout: base64(value!) };
        answers[key('get', 'secret', secret!, '--namespace', namespace, '-o', 'json')] = {
          stdout: JSON.stringify({ data: { [field!]: base64(value!) } }),
        };
      }
      const dir = join(scratch, name);
      mkdirSync(dir, { recursive: true });
      const answersFile = join(dir, 'answers.json');
      const log = join(dir, 'calls.log');
      writeFileSync(answersFile, JSON.stringify(answers));
      writeFileSync(
        join(dir, 'kubectl'),
        `#!${process.execPath}
const fs = require('node:fs');
const argv = process.argv.slice(2);
const answer = JSON.parse(fs.readFileSync(${JSON.stringify(answersFile)}, 'utf8'))[JSON.stringify(argv)];
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ argv, known: answer !== undefined }) + '\\n');
if (answer === undefined) {
  process.stderr.write('fake kubectl: unexpected call ' + JSON.stringify(argv) + '\\n');
  process.exit(3);
}
process.stdout.write(answer.stdout ?? '');
process.stderr.write(answer.stderr ?? '');
process.exit(answer.status ?? 0);
`,
      );
      chmodSync(join(dir, 'kubectl'), 0o755);
      const calls = () =>
        readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { argv: string[]; known: boolean });
      const envScript = (...args: string[]) =>
        run('bash', [envSh, ...args], { cwd: dir, env: { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` } });
      return { dir, calls, envScript, log };
    }

    const exports = (out: string) => out.split('\n').filter((line) => line.startsWith('export '));

    /** The variables the output sets when a shell evaluates it. */
    function evaluated(out: string, dir: string): Record<string, string> {
      const script = join(dir, 'out.sh');
      writeFileSync(script, out);
      const dump = succeeded(run('env', ['-i', 'bash', '-c', '. "$1" && env -0', '_', script]), 'eval of the output');
      return Object.fromEntries(
        dump
          .split('\0')
          .filter(Boolean)
          .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
      );
    }

    const assertNoOtherSecret = (calls: Array<{ argv: string[] }>, out: string) => {
      assert.deepEqual(
        calls.filter((call) => call.argv[1] === 'secret' || call.argv[1] === 'secrets').map((call) => call.argv[2]),
        ['c2e-ditto-gateway-secret'],
        'the only Secret read is Ditto’s devops password',
      );
      for (const secret of [KUBO_TOKEN, 'kubo-token-must-not-leak', KAFKA_PASSWORD, 'PRIVATE KEY'])
        assert.equal(out.includes(secret), false);
    };

    /** A Kafka installation with NodePorts and the Kubo add-on with API.Authorizations. */
    const nodePortServices: Record<string, Service | undefined> = {
      'c2e-hono-service-device-registry-ext': { type: 'NodePort', ports: [{ name: 'https', port: 28443, nodePort: 31443 }] },
      'c2e-hono-adapter-http': { type: 'NodePort', ports: [{ name: 'https', port: 8443, nodePort: 30443 }] },
      'c2e-hono-adapter-mqtt': { type: 'NodePort', ports: [{ name: 'secure-mqtt', port: 8883, nodePort: 30883 }] },
      'c2e-ditto-nginx': { type: 'NodePort', ports: [{ name: 'http', port: 8080, nodePort: 31234 }] },
      'c2e-kafka-controller-0-external': { type: 'NodePort', ports: [{ name: 'tcp-kafka', port: 9094, nodePort: 30094 }] },
      'c2e-kubo': {
        type: 'ClusterIP',
        ports: [{ name: 'api', port: 5001 }],
        annotations: { 'twinledger-api-auth-secret': 'c2e-kubo-api-auth' },
      },
    };

    it('Kafka, NodePort, Kubo with API.Authorizations, Fabric: the exact export lines, and configFromEnv reads them', () => {
      const { dir, calls, envScript } = fakeKubectl('kafka-nodeport', {
        namespace: 'cloud2edge',
        services: nodePortServices,
        nodes: [{ stdout: '' }, { stdout: '192.0.2.10' }],
      });
      const fabricDir = join(dir, 'org1');
      mkdirSync(fabricDir);
      for (const file of ['ca.crt', 'cert.pem', 'priv_sk']) writeFileSync(join(fabricDir, file), `-----BEGIN PRIVATE KEY-----\n${file}\n`);
      const result = envScript(
        'c2e',
        'cloud2edge',
        'hono-ca.pem',
        '--fabric-peer',
        '127.0.0.1:7051',
        '--fabric-host-alias',
        'peer0.org1.example.com',
        '--fabric-tls-ca',
        'org1/ca.crt',
        '--fabric-msp-id',
        'Org1MSP',
        '--fabric-cert',
        'org1/cert.pem',
        '--fabric-key',
        'org1/priv_sk',
      );
      const out = succeeded(result, 'twinledger-env.sh');
      assert.doesNotMatch(result.stderr, /has expired/, 'no warning for a CA that is no certificate openssl can read');
      assert.deepEqual(exports(out), [
        "export REGISTRY_IP='192.0.2.10'",
        "export REGISTRY_PORT_HTTPS='31443'",
        "export REGISTRY_BASE_URL='https://192.0.2.10:31443'",
        "export HTTP_ADAPTER_IP='192.0.2.10'",
        "export HTTP_ADAPTER_PORT_HTTPS='30443'",
        "export HTTP_ADAPTER_BASE_URL='https://192.0.2.10:30443'",
        "export MQTT_ADAPTER_IP='192.0.2.10'",
        "export MQTT_ADAPTER_PORT_MQTTS='30883'",
        "export DITTO_API_IP='192.0.2.10'",
        "export DITTO_API_PORT_HTTP='31234'",
        "export DITTO_API_BASE_URL='http://192.0.2.10:31234'",
        "export KAFKA_IP='192.0.2.10'",
        "export KAFKA_PORT_TCP_KAFKA='30094'",
        "export TWINLEDGER_MESSAGING='kafka'",
        `export DITTO_DEVOPS_PWD='d'\\''ev$(touch ${join(scratch, 'pwned')})ops'`,
        `export TWINLEDGER_CA_FILE='${join(dir, 'hono-ca.pem')}'`,
        "export TWINLEDGER_TLS_SERVER_NAME='localhost'",
        "export TWINLEDGER_KUBO_URL='http://127.0.0.1:5001'",
        "export TWINLEDGER_FABRIC_PEER='127.0.0.1:7051'",
        `export TWINLEDGER_FABRIC_TLS_CA_FILE='${join(fabricDir, 'ca.crt')}'`,
        "export TWINLEDGER_FABRIC_HOST_ALIAS='peer0.org1.example.com'",
        "export TWINLEDGER_FABRIC_MSP_ID='Org1MSP'",
        `export TWINLEDGER_FABRIC_CERT_FILE='${join(fabricDir, 'cert.pem')}'`,
        `export TWINLEDGER_FABRIC_KEY_FILE='${join(fabricDir, 'priv_sk')}'`,
        "export TWINLEDGER_FABRIC_CHANNEL='mychannel'",
        "export TWINLEDGER_FABRIC_CHAINCODE='twinledger'",
      ]);
      assert.match(out, /^# {3}kubectl port-forward --namespace cloud2edge service\/c2e-kubo 5001:5001$/m);
      assert.match(out, /TWINLEDGER_KUBO_TOKEN, or TWINLEDGER_KUBO_USERNAME and[\s\S]*secret c2e-kubo-api-auth/);
      assert.equal(readFileSync(join(dir, 'hono-ca.pem'), 'utf8'), `${CA}\n`);
      assert.equal(
        calls().every((call) => call.known),
        true,
        `only the queries the fake knows: ${JSON.stringify(calls().filter((call) => !call.known))}`,
      );
      assertNoOtherSecret(calls(), out);

      const variables = evaluated(out, dir);
      assert.equal(variables.DITTO_DEVOPS_PWD, DEVOPS_PASSWORD, 'the password survives eval as it is');
      assert.equal(existsSync(join(scratch, 'pwned')), false, 'eval ran nothing from a value');
      const config = configFromEnv(variables);
      assert.equal(config.registry?.baseUrl, 'https://192.0.2.10:31443/v1');
      assert.equal(config.httpAdapter?.baseUrl, 'https://192.0.2.10:30443');
      assert.deepEqual(config.mqttAdapter, { host: '192.0.2.10', port: 30883, tlsPort: 30883 });
      assert.equal(config.ditto?.baseUrl, 'http://192.0.2.10:31234');
      assert.equal(config.ditto?.devopsPassword, DEVOPS_PASSWORD);
      assert.deepEqual(config.kafka, { bootstrapServers: ['192.0.2.10:30094'] });
      assert.equal(config.messaging, 'kafka');
      assert.deepEqual(config.tls, { caFile: join(dir, 'hono-ca.pem'), serverName: 'localhost' });
      assert.equal(config.kubo?.url, 'http://127.0.0.1:5001');
      assert.equal(config.fabric?.peerEndpoint, '127.0.0.1:7051');
      assert.equal(config.fabric?.hostAlias, 'peer0.org1.example.com');
      assert.equal(config.fabric?.privateKeyFile, join(fabricDir, 'priv_sk'));
    });

    it('AMQP profile behind load balancers: host names, a pending address, no node lookup, no Kubo', () => {
      const { calls, envScript } = fakeKubectl('amqp-loadbalancer', {
        namespace: 'iot',
        services: {
          'c2e-hono-service-device-registry-ext': {
            type: 'LoadBalancer',
            ports: [{ name: 'https', port: 28443, nodePort: 32001 }],
            ingress: [{ hostname: 'registry.elb.example.com' }],
          },
          'c2e-hono-adapter-http': { type: 'LoadBalancer', ports: [{ name: 'https', port: 443 }], ingress: [{ ip: '203.0.113.5' }] },
          'c2e-hono-adapter-mqtt': { type: 'LoadBalancer', ports: [{ name: 'secure-mqtt', port: 8883 }], ingress: [] },
          'c2e-ditto-nginx': { type: 'LoadBalancer', ports: [{ name: 'http', port: 8080 }], ingress: [{ ip: '2001:db8::7' }] },
          'c2e-kafka-controller-0-external': undefined,
          'c2e-kafka-0-external': undefined,
          'c2e-hono-dispatch-router-ext': {
            type: 'LoadBalancer',
            ports: [
              { name: 'amqps', port: 15671 },
              { name: 'amqp', port: 15672 },
            ],
            ingress: [{ ip: '203.0.113.9' }],
          },
          'c2e-kubo': undefined,
        },
      });
      const result = envScript('c2e', 'iot', 'ca.pem');
      const out = succeeded(result, 'twinledger-env.sh');
      assert.deepEqual(exports(out), [
        "export REGISTRY_IP='registry.elb.example.com'",
        "export REGISTRY_PORT_HTTPS='28443'",
        "export REGISTRY_BASE_URL='https://registry.elb.example.com:28443'",
        "export HTTP_ADAPTER_IP='203.0.113.5'",
        "export HTTP_ADAPTER_PORT_HTTPS='443'",
        "export HTTP_ADAPTER_BASE_URL='https://203.0.113.5'",
        "export DITTO_API_IP='2001:db8::7'",
        "export DITTO_API_PORT_HTTP='8080'",
        "export DITTO_API_BASE_URL='http://[2001:db8::7]:8080'",
        "export AMQP_NETWORK_IP='203.0.113.9'",
        "export AMQP_NETWORK_PORT_AMQP='15672'",
        "export AMQP_NETWORK_PORT_AMQPS='15671'",
        "export TWINLEDGER_MESSAGING='amqp'",
        `export DITTO_DEVOPS_PWD='d'\\''ev$(touch ${join(scratch, 'pwned')})ops'`,
        `export TWINLEDGER_CA_FILE='${join(scratch, 'amqp-loadbalancer', 'ca.pem')}'`,
        "export TWINLEDGER_TLS_SERVER_NAME='localhost'",
      ]);
      assert.match(result.stderr, /has no load-balancer address yet: nothing for MQTT_ADAPTER_\*/);
      assert.equal(
        calls().some((call) => call.argv[1] === 'nodes'),
        false,
        'no node address needed',
      );
      assert.equal(
        calls().every((call) => call.known),
        true,
      );
      assertNoOtherSecret(calls(), out);
      const config = configFromEnv(evaluated(out, scratch));
      assert.deepEqual(config.amqpNetwork, { host: '203.0.113.9', port: 15672, tlsPort: 15671 });
      assert.equal(config.messaging, 'amqp');
      assert.equal(config.kubo, undefined);
    });

    it('warns when Hono’s example CA has expired, and still prints the environment', { skip: !openssl && 'openssl not found' }, () => {
      const pki = join(scratch, 'expired-ca');
      mkdirSync(pki);
      writeFileSync(join(pki, 'index.txt'), '');
      writeFileSync(join(pki, 'serial'), '01\n');
      writeFileSync(
        join(pki, 'ca.cnf'),
        '[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\ndefault_days = 30\nunique_subject = no\npolicy = p\n[p]\ncommonName = supplied\n',
      );
      const ossl = (...args: string[]) => succeeded(run(openssl!, args, { cwd: pki }), `openssl ${args[0]}`);
      ossl(
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.csr',
        '-subj',
        '/CN=ca',
      );
      ossl('ca', '-batch', '-selfsign', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-in', 'ca.csr', '-out', 'ca.pem', '-notext');
      ossl(
        'ca',
        '-batch',
        '-selfsign',
        '-config',
        'ca.cnf',
        '-keyfile',
        'ca.key',
        '-in',
        'ca.csr',
        '-out',
        'expired.pem',
        '-notext',
        '-startdate',
        '20200101000000Z',
        '-enddate',
        '20200102000000Z',
      );

      for (const [file, expired] of [
        ['expired.pem', true],
        ['ca.pem', false],
      ] as const) {
        const { envScript } = fakeKubectl(`ca-${file}`, {
          namespace: 'cloud2edge',
          services: nodePortServices,
          nodes: [{ stdout: '192.0.2.20' }],
          ca: readFileSync(join(pki, file), 'utf8').trim(),
        });
        const result = envScript('c2e', 'cloud2edge', 'hono-ca.pem');
        const out = succeeded(result, 'twinledger-env.sh');
        assert.match(out, /^export TWINLEDGER_CA_FILE=/m);
        assert.match(out, /^export REGISTRY_BASE_URL='https:\/\/192\.0\.2\.20:31443'$/m);
        assert.equal(
          /the CA certificate in \S+ has expired \(notAfter=Jan {2}2 00:00:00 2020 GMT\)/.test(result.stderr),
          expired,
          result.stderr,
        );
      }
    });

    it('refuses incomplete Fabric options before it asks the cluster or prints anything', () => {
      const { dir, envScript, log } = fakeKubectl('fabric-options', { namespace: 'cloud2edge', services: nodePortServices });
      writeFileSync(join(dir, 'ca.crt'), 'not a secret');
      const cases: Array<[string[], RegExp]> = [
        [['--fabric-msp-id', 'Org1MSP'], /the --fabric-\* options need --fabric-peer/],
        [['--fabric-peer', 'peer0:7051', '--fabric-tls-ca', 'ca.crt'], /--fabric-peer needs --fabric-msp-id too/],
        [['--fabric-peer', 'grpcs://peer0:7051'], /--fabric-peer must be host:port/],
        [
          [
            '--fabric-peer',
            'peer0:7051',
            '--fabric-tls-ca',
            'ca.crt',
            '--fabric-msp-id',
            'Org1MSP',
            '--fabric-cert',
            'ca.crt',
            '--fabric-key',
            'nope',
          ],
          /--fabric-key: nope is not a readable file/,
        ],
      ];
      for (const [args, message] of cases) {
        const result = envScript(...args);
        assert.equal(result.status, 2, args.join(' '));
        assert.equal(result.stdout, '', args.join(' '));
        assert.match(result.stderr, message);
      }
      assert.equal(existsSync(log), false, 'kubectl was not called');
    });

    it('fails with a clear message when the release is not there', () => {
      const missing = ['c2e-hono-service-device-registry-ext', 'c2e-hono-adapter-http', 'c2e-hono-adapter-mqtt', 'c2e-ditto-nginx'];
      const { envScript } = fakeKubectl('missing', {
        namespace: 'cloud2edge',
        services: Object.fromEntries(missing.map((name) => [name, undefined])),
      });
      const result = envScript();
      assert.equal(result.status, 2);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /found neither Hono's device registry nor Ditto of release c2e in namespace cloud2edge/);
    });
  });
});
