#!/usr/bin/env node
// Builds a chaincode-as-a-service package, as `peer lifecycle chaincode install` expects it:
//   <label>.tar.gz = metadata.json {"type":"ccaas","label":…} + code.tar.gz (connection.json)
// and prints the package ID (label:sha256 of the tarball), which is what
// `peer lifecycle chaincode calculatepackageid` prints for the same file.
// The archives are byte-for-byte reproducible (fixed order, mtime 0, uid/gid 0), so the package ID is too.
//
// Usage: npm run package -- [--label twinledger_0.1.0] [--address host:port] [--out dir]
//                           [--tls-root-cert ca.pem] [--client-cert c.pem --client-key k.pem]
// The package ID alone goes to stdout; everything else to stderr.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const { values } = parseArgs({
  options: {
    label: { type: 'string', default: process.env.CHAINCODE_LABEL ?? `twinledger_${pkg.version}` },
    // A literal host:port works on any peer. Go templates such as {{.peername}} are filled in by the peer's ccaas
    // builder from the peer's CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG (JSON); without it the install fails.
    address: { type: 'string', default: process.env.CHAINCODE_CONNECTION_ADDRESS ?? '127.0.0.1:9999' },
    'dial-timeout': { type: 'string', default: '10s' },
    out: { type: 'string', default: join(root, 'pkg') },
    'tls-root-cert': { type: 'string' },
    'client-cert': { type: 'string' },
    'client-key': { type: 'string' },
  },
});

function fail(message) {
  console.error(`package-ccaas: ${message}`);
  process.exit(2);
}

// Fabric's rule for package labels.
if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(values.label)) {
  fail(`label ${JSON.stringify(values.label)} must start with a letter or digit and contain only letters, digits, _ . + -`);
}
// host:port, where host and port may be Go templates ({{.peername}}, {{.ccport}}) that the ccaas builder fills in.
const TEMPLATE = /\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const untemplated = values.address.replace(TEMPLATE, '0');
if (!/^[^\s:{}]+:[0-9]+$/.test(untemplated) && !/^\[[0-9a-fA-F:.]+\]:[0-9]+$/.test(untemplated)) {
  fail(`address ${JSON.stringify(values.address)} must be host:port (Go templates like {{.peername}} allowed)`);
}
const templateKeys = [...new Set([...values.address.matchAll(TEMPLATE)].map((match) => match[1]))];
if (Boolean(values['client-cert']) !== Boolean(values['client-key'])) fail('--client-cert and --client-key go together');

const connection = { address: values.address, dial_timeout: values['dial-timeout'], tls_required: false };
if (values['tls-root-cert']) {
  connection.tls_required = true;
  connection.root_cert = readFileSync(values['tls-root-cert'], 'utf8');
  if (values['client-cert']) {
    connection.client_auth_required = true;
    connection.client_cert = readFileSync(values['client-cert'], 'utf8');
    connection.client_key = readFileSync(values['client-key'], 'utf8');
  }
}

/** A POSIX ustar archive of regular files, mode 0644, owner 0:0, mtime 0. */
function tar(files) {
  const blocks = [];
  for (const [name, content] of files) {
    const header = Buffer.alloc(512);
    const field = (offset, length, value) => header.write(value, offset, length, 'ascii');
    const octal = (offset, length, value) => field(offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
    field(0, 100, name);
    octal(100, 8, 0o644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, content.length);
    octal(136, 12, 0);
    header.fill(' ', 148, 156);
    field(156, 1, '0');
    field(257, 6, 'ustar\0');
    field(263, 2, '00');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    blocks.push(header, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const gzip = (data) => gzipSync(data, { level: 9 });
const json = (value) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');

const code = gzip(tar([['connection.json', json(connection)]]));
const packageBytes = gzip(
  tar([
    ['metadata.json', json({ type: 'ccaas', label: values.label })],
    ['code.tar.gz', code],
  ]),
);
const packageId = `${values.label}:${createHash('sha256').update(packageBytes).digest('hex')}`;

const outDir = resolve(values.out);
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `${values.label}.tar.gz`);
writeFileSync(file, packageBytes);
writeFileSync(join(outDir, `${values.label}.id`), `${packageId}\n`);
console.error(`package: ${file}`);
console.error(`connection address: ${values.address}${connection.tls_required ? ' (TLS)' : ''}`);
if (templateKeys.length > 0) {
  const example = Object.fromEntries(templateKeys.map((key) => [key, key === 'peername' ? 'peer0org1' : '...']));
  console.error(
    `the address is a template: every peer that installs this package needs CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG='${JSON.stringify(example)}' ` +
      'in its environment (and the variable in propagateEnvironment of its ccaas builder in core.yaml), or the install fails with "map has no entry for key"',
  );
}
const port = /:([0-9]+)$/.exec(values.address)?.[1] ?? '<port>';
console.error(
  `start the server with: CHAINCODE_ID=${packageId} CHAINCODE_SERVER_ADDRESS=0.0.0.0:${port} CORE_PEER_LOCALMSPID=<your MSP ID> npm start`,
);
console.log(packageId);
