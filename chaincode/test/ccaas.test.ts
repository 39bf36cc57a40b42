/**
 * Chaincode-as-a-service packaging (`npm run package`) and serving (`npm start`).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { collectionFor } from '../src/keys';
import { freePort, waitForPort } from './server-process';

const root = join(__dirname, '..', '..');
const temp = mkdtempSync(join(tmpdir(), 'twinledger-ccaas-'));
after(() => rmSync(temp, { recursive: true, force: true }));

function packageInto(out: string, ...extra: string[]): string {
  return execFileSync(process.execPath, [join(root, 'scripts', 'package-ccaas.mjs'), '--out', out, ...extra], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

function untar(archive: string, into: string): void {
  execFileSync('tar', ['-xzf', archive, '-C', into]);
}

describe('npm run package', () => {
  it('builds metadata.json + code.tar.gz(connection.json) and prints label:sha256 of the tarball', () => {
    const out = join(temp, 'a');
    const id = packageInto(out, '--label', 'twinledger_1.0', '--address', 'peer0org1_twinledger_ccaas:9999');
    const file = join(out, 'twinledger_1.0.tar.gz');
    const bytes = readFileSync(file);
    assert.equal(id, `twinledger_1.0:${createHash('sha256').update(bytes).digest('hex')}`);
    assert.equal(readFileSync(join(out, 'twinledger_1.0.id'), 'utf8').trim(), id);

    // GNU tar reads what we wrote.
    const listing = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(listing, ['metadata.json', 'code.tar.gz']);
    const outer = join(temp, 'outer');
    const inner = join(temp, 'inner');
    execFileSync('mkdir', ['-p', outer, inner]);
    untar(file, outer);
    assert.deepEqual(JSON.parse(readFileSync(join(outer, 'metadata.json'), 'utf8')), { type: 'ccaas', label: 'twinledger_1.0' });
    untar(join(outer, 'code.tar.gz'), inner);
    assert.deepEqual(JSON.parse(readFileSync(join(inner, 'connection.json'), 'utf8')), {
      address: 'peer0org1_twinledger_ccaas:9999',
      dial_timeout: '10s',
      tls_required: false,
    });
  });

  it('is reproducible: the same inputs give the same package ID', () => {
    const a = packageInto(join(temp, 'r1'), '--label', 'cc_1');
    const b = packageInto(join(temp, 'r2'), '--label', 'cc_1');
    assert.equal(a, b);
    assert.notEqual(packageInto(join(temp, 'r3'), '--label', 'cc_1', '--address', 'other:1'), a);
  });

  it('defaults to 127.0.0.1:9999, which a peer needs no builder configuration for', () => {
    const out = join(temp, 'default');
    packageInto(out, '--label', 'cc_default');
    const inner = join(temp, 'default-inner');
    execFileSync('mkdir', ['-p', inner]);
    untar(join(out, 'cc_default.tar.gz'), inner);
    untar(join(inner, 'code.tar.gz'), inner);
    assert.equal((JSON.parse(readFileSync(join(inner, 'connection.json'), 'utf8')) as { address: string }).address, '127.0.0.1:9999');
  });

  it('accepts Go templates in the address and names the builder configuration every peer then needs', () => {
    const script = join(root, 'scripts', 'package-ccaas.mjs');
    for (const address of ['{{.peername}}_twinledger:9999', '127.0.0.1:{{.ccport}}', '{{ .host }}:{{.port}}']) {
      const result = spawnSync(process.execPath, [script, '--out', join(temp, 'tpl'), '--label', 'cc_tpl', '--address', address], {
        encoding: 'utf8',
      });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /needs CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG='\{"/);
    }
    const peername = spawnSync(
      process.execPath,
      [script, '--out', join(temp, 'tpl'), '--label', 'cc_tpl', '--address', '{{.peername}}_cc:9999'],
      { encoding: 'utf8' },
    );
    assert.match(peername.stderr, /CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG='\{"peername":"peer0org1"\}'/);
    for (const address of ['no-port', 'host:', '{{.x}}', 'a b:1', '{{.peername}_cc:9999']) {
      const result = spawnSync(process.execPath, [script, '--out', join(temp, 'tpl'), '--label', 'cc_tpl', '--address', address], {
        encoding: 'utf8',
      });
      assert.equal(result.status, 2, `${address} is refused`);
      assert.match(result.stderr, /must be host:port/);
    }
  });

  it('rejects labels Fabric would refuse', () => {
    const result = spawnSync(process.execPath, [join(root, 'scripts', 'package-ccaas.mjs'), '--out', temp, '--label', 'bad label'], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /label "bad label" must start with a letter or digit/);
  });
});

describe('collections_config.json', () => {
  it('defines <MSP ID>PrivateCollection per organisation, as the chaincode expects, and matches scripts/collections.mjs', () => {
    const shipped = JSON.parse(readFileSync(join(root, 'collections_config.json'), 'utf8')) as Array<Record<string, unknown>>;
    const generated = JSON.parse(
      execFileSync(process.execPath, [join(root, 'scripts', 'collections.mjs'), 'Org1MSP', 'Org2MSP'], { encoding: 'utf8' }),
    ) as unknown;
    assert.deepEqual(shipped, generated);
    assert.deepEqual(
      shipped.map((c) => c.name),
      [collectionFor('Org1MSP'), collectionFor('Org2MSP')],
    );
    for (const c of shipped) {
      assert.equal(c.memberOnlyRead, true);
      assert.equal(c.memberOnlyWrite, true);
    }
  });
});

describe('npm start', () => {
  it('refuses to start without CHAINCODE_ID and says where to get it', () => {
    const env = { ...process.env };
    delete env.CHAINCODE_ID;
    const result = spawnSync(process.execPath, [join(root, 'scripts', 'start-server.mjs')], { encoding: 'utf8', env });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /set CHAINCODE_ID to the package ID that `npm run package` printed/);
  });

  it('serves the chaincode on CHAINCODE_SERVER_ADDRESS', async () => {
    const port = await freePort();
    const id = packageInto(join(temp, 'srv'), '--address', `127.0.0.1:${port}`);
    const child = spawn(process.execPath, [join(root, 'scripts', 'start-server.mjs')], {
      env: { ...process.env, CHAINCODE_ID: id, CHAINCODE_SERVER_ADDRESS: `127.0.0.1:${port}`, CORE_PEER_LOCALMSPID: 'Org1MSP' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await waitForPort(port, child);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${stderr}`);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
