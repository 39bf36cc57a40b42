#!/usr/bin/env node
// Serves the chaincode as a service (CCaaS): the peer connects to us, not the other way round.
//   CHAINCODE_ID               package ID printed by `npm run package` (required)
//   CHAINCODE_SERVER_ADDRESS   address to listen on (default 0.0.0.0:9999)
//   CHAINCODE_TLS_CERT_FILE, CHAINCODE_TLS_KEY_FILE [, CHAINCODE_TLS_CLIENT_CACERT_FILE]   TLS (optional)
//   CORE_PEER_LOCALMSPID       MSP ID of the peer this server belongs to (SetCredentials/GetCredentials need it)
//   CHAINCODE_MODULE_PATH      folder of the chaincode package to serve (default: this package)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const env = process.env;

if (!env.CHAINCODE_ID) {
  console.error('start-server: set CHAINCODE_ID to the package ID that `npm run package` printed (label:sha256)');
  process.exit(2);
}
const modulePath = env.CHAINCODE_MODULE_PATH ? resolve(env.CHAINCODE_MODULE_PATH) : root;
if (modulePath === root && !existsSync(join(root, 'dist', 'src', 'index.js'))) {
  console.error('start-server: dist/src/index.js is missing; run `npm run build` first');
  process.exit(2);
}
if (!env.CORE_PEER_LOCALMSPID) {
  console.error('start-server: warning: CORE_PEER_LOCALMSPID is unset; SetCredentials and GetCredentials will refuse to run');
}

const args = [
  require.resolve('fabric-shim/cli.js'),
  'server',
  `--chaincode-address=${env.CHAINCODE_SERVER_ADDRESS ?? '0.0.0.0:9999'}`,
  `--chaincode-id=${env.CHAINCODE_ID}`,
  `--module-path=${modulePath}`,
];
if (env.CHAINCODE_TLS_CERT_FILE || env.CHAINCODE_TLS_KEY_FILE) {
  args.push(
    `--chaincode-tls-cert-file=${env.CHAINCODE_TLS_CERT_FILE ?? ''}`,
    `--chaincode-tls-key-file=${env.CHAINCODE_TLS_KEY_FILE ?? ''}`,
  );
  if (env.CHAINCODE_TLS_CLIENT_CACERT_FILE) args.push(`--chaincode-tls-client-cacert-file=${env.CHAINCODE_TLS_CLIENT_CACERT_FILE}`);
}

const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: root });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
