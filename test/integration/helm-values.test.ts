// cloud2edge-helm/ YAML, offline: yamllint (YAMLLINT_BIN, or yamllint on PATH) over the overlays, the chart values and
// the Fabric manifest, and every key of the values overlays against the upstream Cloud2Edge 0.9.2 and Hono 2.6.6 chart
// values copied in test/specs/cloud2edge.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { skipUnlessAvailable } from '../support/services.js';
import { at, helmDir, isMap, loadYaml, repo, run, scratchDir, specs, succeeded, valuesDir, yamllint } from '../support/helm.js';

const scratch = scratchDir();

describe('yamllint of the overlays, the chart values and the Fabric manifest', { skip: skipUnlessAvailable(yamllint.problem) }, () => {
  const lint = (...args: string[]) => {
    if (yamllint.problem !== undefined) throw new Error(yamllint.problem);
    return run(yamllint.bin!, ['-c', join(helmDir, '.yamllint'), ...args], { cwd: repo });
  };

  it('lints every YAML file but the Helm templates, without warnings', () => {
    const listed = succeeded(lint('--list-files', 'cloud2edge-helm'), 'yamllint --list-files').split('\n').filter(Boolean).sort();
    const overlays = readdirSync(valuesDir).map((file) => `cloud2edge-helm/values/${file}`);
    assert.deepEqual(
      listed,
      [
        'cloud2edge-helm/.yamllint',
        'cloud2edge-helm/fabric/chaincode-server.yaml',
        'cloud2edge-helm/kubo/Chart.yaml',
        'cloud2edge-helm/kubo/values.yaml',
        ...overlays,
      ].sort(),
    );
    succeeded(lint('--strict', '-f', 'parsable', 'cloud2edge-helm'), 'yamllint --strict');
  });

  it('the configuration catches problems (duplicate keys, yes/no, long lines)', () => {
    const bad = join(scratch, 'bad.yaml');
    writeFileSync(bad, `---\nhono:\n  useLoadBalancer: yes\nhono:\n  x: ${'y'.repeat(130)}\n`);
    const result = lint('-f', 'parsable', bad);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout, /\[error\] duplication of key "hono"/);
    assert.match(result.stdout, /truthy value should be one of/);
    assert.match(result.stdout, /line too long \(\d+ > 120 characters\)/);
  });
});

describe('values overlays against the upstream chart values', () => {
  const c2eValues = loadYaml(join(specs, 'values.yaml'));
  const honoValues = loadYaml(join(specs, 'hono-chart-values.yaml'));
  const overlays = readdirSync(valuesDir)
    .filter((file) => file.endsWith('.yaml'))
    .sort();

  /** Every leaf path of a YAML mapping; lists are leaves. */
  function leafPaths(node: unknown, prefix: string[] = []): string[][] {
    if (!isMap(node) || Object.keys(node).length === 0) return [prefix];
    return Object.entries(node).flatMap(([key, value]) => leafPaths(value, [...prefix, key]));
  }

  /**
   * Whether `path` exists in `upstream`. Below an empty mapping (`http: {}`, `annotations: {}`) anything goes: the
   * charts copy such maps as they are (into the adapter's application.yml, onto the pod). A mapping may not replace
   * a scalar and a scalar may not replace a non-empty mapping.
   */
  function existsIn(upstream: unknown, path: string[], leaf: unknown): boolean {
    let node = upstream;
    for (const key of path) {
      if (!isMap(node)) return false;
      if (Object.keys(node).length === 0) return true;
      if (!Object.hasOwn(node, key)) return false;
      node = node[key];
    }
    return !(isMap(node) && Object.keys(node).length > 0 && !isMap(leaf));
  }

  /** The overlay's paths that are neither in the Cloud2Edge values nor (under `hono:`) in the Hono chart's. */
  function unknownKeys(overlay: unknown): string[] {
    return leafPaths(overlay)
      .filter((path) => {
        const leaf = at(overlay, ...path);
        if (existsIn(c2eValues, path, leaf)) return false;
        return !(path[0] === 'hono' && existsIn(honoValues, path.slice(1), leaf));
      })
      .map((path) => path.join('.'));
  }

  it('finds the overlays', () => {
    assert.deepEqual(overlays, ['amqp-messaging.yaml', 'loadbalancer.yaml', 'nodeport.yaml', 'payload-size.yaml', 'twinledger.yaml']);
  });

  for (const file of overlays) {
    it(`${file}: every key exists upstream`, () => {
      const overlay = loadYaml(join(valuesDir, file));
      assert.ok(isMap(overlay) && Object.keys(overlay).length > 0, 'a non-empty mapping');
      assert.deepEqual(unknownKeys(overlay), []);
    });
  }

  it('the check reports keys that are not where the chart reads them', () => {
    assert.deepEqual(
      unknownKeys({
        hono: { adapters: { http: { maxPayloadSize: 8192, hono: { maxPayloadSize: 8192 } } }, useLoadBalancr: true },
        ditto: { nginx: { service: { typ: 'NodePort' } } },
        demoDevice: { tenant: { name: 'x' } },
      }),
      [
        'hono.adapters.http.maxPayloadSize',
        'hono.adapters.http.hono.maxPayloadSize',
        'hono.useLoadBalancr',
        'ditto.nginx.service.typ',
        'demoDevice.tenant.name',
      ],
    );
    assert.deepEqual(
      unknownKeys({ hono: { adapters: { http: { hono: { http: { maxPayloadSize: 1 } }, pod: { annotations: { a: 'b' } } } } } }),
      [],
    );
  });

  it('amqp-messaging.yaml is the chart’s profileAmqpMessaging-values.yaml', () => {
    assert.deepEqual(loadYaml(join(valuesDir, 'amqp-messaging.yaml')), loadYaml(join(specs, 'profileAmqpMessaging-values.yaml')));
  });

  it('payload-size.yaml: the same larger size for both adapters, the pod annotation, and the chart’s other defaults', () => {
    const overlay = loadYaml(join(valuesDir, 'payload-size.yaml'));
    const tenantIdleTimeout = at(honoValues, 'adapters', 'defaultTenantIdleTimeout');
    assert.equal(tenantIdleTimeout, '1h');
    for (const adapter of ['http', 'mqtt']) {
      assert.deepEqual(at(honoValues, 'adapters', adapter, 'hono', adapter), {}, `the chart's own ${adapter} config is empty`);
      const config = at(overlay, 'hono', 'adapters', adapter, 'hono', adapter);
      assert.deepEqual(config, {
        maxPayloadSize: 8192,
        bindAddress: '0.0.0.0',
        insecurePortEnabled: false,
        keyPath: '/opt/hono/tls/tls.key',
        certPath: '/opt/hono/tls/tls.crt',
        tenantIdleTimeout,
      });
      assert.equal(at(overlay, 'hono', 'adapters', adapter, 'pod', 'annotations', 'twinledger-max-payload-size'), '8192');
    }
  });

  it('nodeport.yaml and loadbalancer.yaml set every externally used service to their type', () => {
    for (const [file, type, useLoadBalancer] of [
      ['nodeport.yaml', 'NodePort', false],
      ['loadbalancer.yaml', 'LoadBalancer', true],
    ] as const) {
      const overlay = loadYaml(join(valuesDir, file));
      assert.equal(at(overlay, 'hono', 'useLoadBalancer'), useLoadBalancer, file);
      assert.equal(at(overlay, 'hono', 'serviceType'), undefined, `${file}: serviceType would pin the node ports`);
      assert.equal(at(overlay, 'ditto', 'nginx', 'service', 'type'), type, file);
      for (const role of ['broker', 'controller'])
        assert.equal(at(overlay, 'hono', 'kafka', 'externalAccess', role, 'service', 'type'), type, file);
    }
    // Cloud2Edge's own defaults are the NodePort overlay's.
    assert.equal(at(c2eValues, 'hono', 'useLoadBalancer'), false);
    assert.equal(at(c2eValues, 'ditto', 'nginx', 'service', 'type'), 'NodePort');
  });
});
