// cloud2edge-helm/kubo, offline: the Kubo add-on chart through `helm lint` and `helm template` (HELM_BIN, or helm on
// PATH). No cluster, no network.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import yaml from 'js-yaml';
import { skipUnlessAvailable } from '../support/services.js';
import { type Doc, at, helm, initSh, isMap, kuboChart, loadYaml, run, scratchDir, succeeded } from '../support/helm.js';

const scratch = scratchDir();

describe('the Kubo chart: helm lint and helm template', { skip: skipUnlessAvailable(helm.problem) }, () => {
  // Helm keeps its repositories, cache and plugins here, not in the user's home.
  const helmEnv = {
    ...process.env,
    HELM_CACHE_HOME: join(scratch, 'helm', 'cache'),
    HELM_CONFIG_HOME: join(scratch, 'helm', 'config'),
    HELM_DATA_HOME: join(scratch, 'helm', 'data'),
  };
  const helmRun = (...args: string[]) => {
    if (helm.problem !== undefined) throw new Error(helm.problem);
    return run(helm.bin!, args, { env: helmEnv });
  };
  const render = (...set: string[]): Doc[] => {
    const out = succeeded(helmRun('template', 'c2e-kubo', kuboChart, '--namespace', 'cloud2edge', ...set), 'helm template');
    return yaml.loadAll(out).filter(isMap);
  };
  const only = (docs: Doc[], kind: string): Doc => {
    const found = docs.filter((doc) => doc.kind === kind);
    assert.equal(found.length, 1, `one ${kind}, got ${found.length}`);
    return found[0]!;
  };
  const container = (docs: Doc[]): Doc => {
    const value = at(only(docs, 'Deployment'), 'spec', 'template', 'spec', 'containers', 0);
    assert.ok(isMap(value), 'the Deployment has a container');
    return value;
  };
  const env = (docs: Doc[]) =>
    new Map(((container(docs).env ?? []) as Array<{ name: string; value?: string }>).map((entry) => [entry.name, entry.value]));
  const secretAuth = ['--set', 'auth.enabled=true', '--set', 'auth.authSecret=bearer:test-token-not-a-secret'];

  it('passes helm lint --strict with the default values and with API.Authorizations on', () => {
    for (const set of [[], secretAuth]) {
      const out = succeeded(helmRun('lint', '--strict', kuboChart, ...set), `helm lint ${set.join(' ')}`);
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('renders Kubo 0.43.1 behind a ClusterIP API service, with a kept volume, offline, as a non-root user', () => {
    const docs = render();
    assert.deepEqual(docs.map((doc) => doc.kind).sort(), ['ConfigMap', 'Deployment', 'PersistentVolumeClaim', 'Service']);

    const chart = loadYaml(join(kuboChart, 'Chart.yaml'));
    assert.equal(at(chart, 'apiVersion'), 'v2');
    assert.equal(at(chart, 'appVersion'), '0.43.1');
    const kubo = container(docs);
    assert.equal(kubo.image, 'ipfs/kubo:v0.43.1');
    assert.deepEqual(kubo.args, ['daemon', '--migrate=true', '--offline', '--enable-gc']);
    assert.deepEqual(kubo.ports, [{ name: 'api', containerPort: 5001, protocol: 'TCP' }]);
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
      assert.deepEqual(at(kubo, probe, 'tcpSocket'), { port: 'api' });
    assert.ok(at(kubo, 'resources', 'requests', 'memory') && at(kubo, 'resources', 'limits', 'memory'), 'memory request and limit');
    assert.equal(at(kubo, 'securityContext', 'allowPrivilegeEscalation'), false);
    assert.equal(at(kubo, 'securityContext', 'readOnlyRootFilesystem'), true);
    assert.deepEqual(at(kubo, 'securityContext', 'capabilities', 'drop'), ['ALL']);
    const pod = at(only(docs, 'Deployment'), 'spec', 'template', 'spec');
    assert.equal(at(pod, 'securityContext', 'runAsNonRoot'), true);
    assert.equal(at(pod, 'securityContext', 'runAsUser'), 1000);
    assert.equal(at(pod, 'automountServiceAccountToken'), false);
    assert.equal(env(docs).has('KUBO_AUTH_SECRET_FILE'), false);

    const service = only(docs, 'Service');
    assert.equal(at(service, 'metadata', 'name'), 'c2e-kubo');
    assert.equal(at(service, 'spec', 'type'), 'ClusterIP');
    assert.deepEqual(at(service, 'spec', 'ports'), [{ name: 'api', port: 5001, targetPort: 'api', protocol: 'TCP' }]);
    assert.equal(at(service, 'metadata', 'annotations'), undefined);

    const claim = only(docs, 'PersistentVolumeClaim');
    assert.equal(at(claim, 'metadata', 'annotations', 'helm.sh/resource-policy'), 'keep');
    assert.equal(at(pod, 'volumes', 0, 'persistentVolumeClaim', 'claimName'), at(claim, 'metadata', 'name'));

    // The init hook is the script in files/ as it is (also checked by shellcheck below).
    assert.equal(at(only(docs, 'ConfigMap'), 'data', '001-twinledger.sh'), readFileSync(initSh, 'utf8'));
  });

  it('with auth on: a Secret for API.Authorizations mounted into the pod, named on the service, still ClusterIP', () => {
    const docs = render(...secretAuth);
    assert.deepEqual(docs.map((doc) => doc.kind).sort(), ['ConfigMap', 'Deployment', 'PersistentVolumeClaim', 'Secret', 'Service']);
    const secret = only(docs, 'Secret');
    assert.equal(at(secret, 'metadata', 'name'), 'c2e-kubo-api-auth');
    assert.deepEqual(at(secret, 'stringData'), { 'auth-secret': 'bearer:test-token-not-a-secret' });
    assert.equal(env(docs).get('KUBO_AUTH_SECRET_FILE'), '/var/run/kubo-auth/auth-secret');
    const volumes = at(only(docs, 'Deployment'), 'spec', 'template', 'spec', 'volumes') as Doc[];
    assert.equal(
      at(
        volumes.find((volume) => volume.name === 'auth'),
        'secret',
        'secretName',
      ),
      'c2e-kubo-api-auth',
    );
    const service = only(docs, 'Service');
    assert.equal(at(service, 'spec', 'type'), 'ClusterIP');
    assert.equal(at(service, 'metadata', 'annotations', 'twinledger-api-auth-secret'), 'c2e-kubo-api-auth');

    const existing = render('--set', 'auth.enabled=true', '--set', 'auth.existingSecret=kubo-credentials');
    assert.equal(
      existing.some((doc) => doc.kind === 'Secret'),
      false,
      'no Secret of its own',
    );
    const existingVolumes = at(only(existing, 'Deployment'), 'spec', 'template', 'spec', 'volumes') as Doc[];
    assert.equal(
      at(
        existingVolumes.find((volume) => volume.name === 'auth'),
        'secret',
        'secretName',
      ),
      'kubo-credentials',
    );
  });

  it('refuses auth without a secret, and an AuthSecret that is not bearer:… or basic:…:…', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--set', 'auth.enabled=true'], /auth\.enabled needs auth\.existingSecret/],
      [['--set', 'auth.enabled=true', '--set', 'auth.authSecret=token-only'], /must be bearer:<token> or basic:<user>:<password>/],
      [['--set', 'auth.enabled=true', '--set', 'auth.authSecret=basic:user-only'], /must be bearer:<token> or basic:<user>:<password>/],
      [['--set', 'auth.enabled=true', '--set-string', 'auth.authSecret=bearer:a"b'], /must be bearer:<token> or basic:<user>:<password>/],
    ];
    for (const [set, message] of cases) {
      const result = helmRun('template', 'c2e-kubo', kuboChart, ...set);
      assert.notEqual(result.status, 0, set.join(' '));
      assert.match(result.stderr, message);
    }
  });

  it('the gateway and the NetworkPolicy stay inside the cluster too; online mode opens only the container swarm port', () => {
    const docs = render('--set', 'gateway.enabled=true', '--set', 'networkPolicy.enabled=true', '--set', 'offline=false');
    const service = only(docs, 'Service');
    assert.equal(at(service, 'spec', 'type'), 'ClusterIP');
    assert.deepEqual(
      (at(service, 'spec', 'ports') as Doc[]).map((port) => [port.name, port.port, port.nodePort]),
      [
        ['api', 5001, undefined],
        ['gateway', 8080, undefined],
      ],
    );
    assert.deepEqual(at(only(docs, 'NetworkPolicy'), 'spec', 'ingress', 0, 'ports'), [
      { port: 'api', protocol: 'TCP' },
      { port: 'gateway', protocol: 'TCP' },
    ]);
    const kubo = container(docs);
    assert.equal((kubo.args as string[]).includes('--offline'), false);
    assert.deepEqual(
      (kubo.ports as Doc[]).map((port) => port.name),
      ['api', 'gateway', 'swarm', 'swarm-udp'],
    );
    assert.equal(
      docs.some((doc) => doc.kind === 'Service' && at(doc, 'spec', 'type') !== 'ClusterIP'),
      false,
    );
  });
});
