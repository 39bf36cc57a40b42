import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  caFile: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** The DNS name in the server certificate (like Cloud2Edge's in-cluster service names). */
  serverName: string;
  /** Deletes the folder with the private keys now (it is deleted when the process exits anyway). */
  remove(): void;
}

// Private keys never outlive the test process, whether or not its tests remember to clean up (or fail first).
const pkiDirs = new Set<string>();
function removePkiDirs(): void {
  for (const dir of pkiDirs) rmSync(dir, { recursive: true, force: true });
  pkiDirs.clear();
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A throw-away CA with a server and a client certificate, made with the openssl CLI. */
export function createTestPki(serverName = 'c2e-hono-service-device-registry-ext'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'twinledger-pki-'));
  if (pkiDirs.size === 0) process.once('exit', removePkiDirs);
  pkiDirs.add(dir);
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=TwinLedger Test CA',
  ]);
  for (const [name, subject] of [
    ['server', `/CN=${serverName}`],
    ['client', '/CN=lamp-1/O=org.acme'],
  ] as const) {
    openssl(dir, [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ]);
    const ext = name === 'server' ? `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\n` : 'extendedKeyUsage=clientAuth\n';
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ]);
  }
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    caCert: read('ca.crt'),
    caFile: join(dir, 'ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    clientCertFile: join(dir, 'client.crt'),
    clientKeyFile: join(dir, 'client.key'),
    serverName,
    remove() {
      rmSync(dir, { recursive: true, force: true });
      pkiDirs.delete(dir);
    },
  };
}
