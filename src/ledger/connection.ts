import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { type Gateway, connect, hash, signers } from '@hyperledger/fabric-gateway';
import { ValidationError } from '../core/errors.js';

/** How to reach a Fabric gateway peer and who to be. PEM values may be given inline or as files. */
export interface FabricConnectionOptions {
  /** Gateway peer, `host:port`, e.g. `localhost:7051`. */
  peerEndpoint: string;
  /** CA certificate(s) that signed the peer's TLS certificate (PEM). */
  tlsRootCert?: string;
  tlsRootCertFile?: string;
  /**
   * Name the peer's TLS certificate was issued for, when it differs from the host in `peerEndpoint`
   * (e.g. `peer0.org1.example.com` reached as `localhost`). The chain is still verified.
   */
  hostAlias?: string;
  /** Client certificate and key for mutual TLS with the peer, when the peer requires it. */
  tlsClientCert?: string;
  tlsClientCertFile?: string;
  tlsClientKey?: string;
  tlsClientKeyFile?: string;
  /** MSP ID of the client identity, e.g. `Org1MSP`. */
  mspId: string;
  /** The identity's X.509 certificate (PEM), e.g. from `msp/signcerts/cert.pem`. */
  certificate?: string;
  certificateFile?: string;
  /** The identity's private key (PEM), e.g. from `msp/keystore/…_sk`. */
  privateKey?: string;
  privateKeyFile?: string;
}

function pem(field: string, inline: string | undefined, file: string | undefined, required: true): string;
function pem(field: string, inline: string | undefined, file: string | undefined, required: false): string | undefined;
function pem(field: string, inline: string | undefined, file: string | undefined, required: boolean): string | undefined {
  if (inline !== undefined && file !== undefined) throw new ValidationError(field, `give either ${field} or ${field}File, not both`);
  if (inline !== undefined) {
    if (!inline.includes('-----BEGIN')) throw new ValidationError(field, 'is not PEM text (no "-----BEGIN" line)');
    return inline;
  }
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ValidationError(`${field}File`, `cannot read ${JSON.stringify(file)}: ${(error as Error).message}`);
    }
  }
  if (required) throw new ValidationError(field, `is required (PEM text in ${field} or a path in ${field}File)`);
  return undefined;
}

export interface FabricConnection {
  gateway: Gateway;
  client: grpc.Client;
}

/** Opens the gRPC channel and the gateway. Validates everything first; key material never appears in errors. */
export function openConnection(options: FabricConnectionOptions): FabricConnection {
  if (typeof options.peerEndpoint !== 'string' || !/^[^\s/:]+:\d+$/.test(options.peerEndpoint)) {
    throw new ValidationError('peerEndpoint', `must be host:port, got ${JSON.stringify(options.peerEndpoint)}`);
  }
  if (typeof options.mspId !== 'string' || options.mspId === '') throw new ValidationError('mspId', 'is required, e.g. "Org1MSP"');
  const rootCert = pem('tlsRootCert', options.tlsRootCert, options.tlsRootCertFile, true);
  const clientCert = pem('tlsClientCert', options.tlsClientCert, options.tlsClientCertFile, false);
  const clientKey = pem('tlsClientKey', options.tlsClientKey, options.tlsClientKeyFile, false);
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new ValidationError(
      clientCert === undefined ? 'tlsClientCert' : 'tlsClientKey',
      'a TLS client certificate and its key go together',
    );
  }
  const certificate = pem('certificate', options.certificate, options.certificateFile, true);
  const keyPem = pem('privateKey', options.privateKey, options.privateKeyFile, true);
  let privateKey;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch {
    throw new ValidationError('privateKey', 'is not a readable PEM private key', 'Use the unencrypted key from the MSP keystore folder.');
  }
  let tlsClientCertificateHash: Uint8Array | undefined;
  try {
    new X509Certificate(certificate);
    if (clientCert) tlsClientCertificateHash = createHash('sha256').update(new X509Certificate(clientCert).raw).digest();
  } catch (error) {
    throw new ValidationError(
      clientCert ? 'tlsClientCert' : 'certificate',
      `is not a readable X.509 certificate: ${(error as Error).message}`,
    );
  }

  const credentials = clientCert
    ? grpc.credentials.createSsl(Buffer.from(rootCert), Buffer.from(clientKey as string), Buffer.from(clientCert))
    : grpc.credentials.createSsl(Buffer.from(rootCert));
  const channelOptions: grpc.ChannelOptions = options.hostAlias ? { 'grpc.ssl_target_name_override': options.hostAlias } : {};
  const client = new grpc.Client(options.peerEndpoint, credentials, channelOptions);
  const gateway = connect({
    client,
    identity: { mspId: options.mspId, credentials: Buffer.from(certificate) },
    signer: signers.newPrivateKeySigner(privateKey),
    hash: hash.sha256,
    ...(tlsClientCertificateHash ? { tlsClientCertificateHash } : {}),
  });
  return { gateway, client };
}
