import { readFileSync } from 'node:fs';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { ValidationError } from './errors.js';

/**
 * TLS settings. Certificate verification is always on; there is deliberately no "insecure" switch.
 * For Cloud2Edge's example certificates (issued for the in-cluster service names, reached through a
 * NodePort IP), set `serverName` to the name the certificate was issued for: the certificate chain is
 * still verified against `ca`, only the expected host name changes.
 */
export interface TlsOptions {
  /** Trusted CA certificate(s), PEM text. They replace the system's roots for this connection (Node's `ca`). */
  ca?: string | string[];
  /** Path to a PEM file with trusted CA certificate(s). */
  caFile?: string;
  /** Client certificate (PEM) for mutual TLS / X.509 device authentication. */
  cert?: string;
  certFile?: string;
  /** Client private key (PEM). */
  key?: string;
  keyFile?: string;
  /** Passphrase for an encrypted `key`. */
  passphrase?: string;
  /** Verify the server certificate against this host name instead of the one in the URL. */
  serverName?: string;
}

/** What Node's `https.Agent`, `tls.connect` and mqtt.js accept. */
export interface NodeTlsSettings {
  ca?: string[];
  cert?: string;
  key?: string;
  passphrase?: string;
  servername?: string;
  rejectUnauthorized: true;
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

function readPem(field: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ValidationError(field, `cannot read ${JSON.stringify(file)}: ${(error as Error).message}`);
  }
}

/** Resolves files and builds the Node TLS options. Throws `ValidationError` for unreadable files or half pairs. */
export function resolveTls(options: TlsOptions = {}): NodeTlsSettings {
  const settings: NodeTlsSettings = { rejectUnauthorized: true };
  const ca = [
    ...(options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca]),
    ...(options.caFile ? [readPem('tls.caFile', options.caFile)] : []),
  ];
  if (ca.length > 0) settings.ca = ca;
  const cert = options.cert ?? (options.certFile ? readPem('tls.certFile', options.certFile) : undefined);
  const key = options.key ?? (options.keyFile ? readPem('tls.keyFile', options.keyFile) : undefined);
  if ((cert === undefined) !== (key === undefined)) {
    throw new ValidationError(
      cert === undefined ? 'tls.cert' : 'tls.key',
      'a client certificate and its private key must be given together',
    );
  }
  if (cert !== undefined && key !== undefined) {
    settings.cert = cert;
    settings.key = key;
  }
  if (options.passphrase !== undefined) settings.passphrase = options.passphrase;
  if (options.serverName !== undefined) {
    const expected = options.serverName;
    settings.servername = expected;
    settings.checkServerIdentity = (_host, peer) => checkServerIdentity(expected, peer);
  }
  return settings;
}
