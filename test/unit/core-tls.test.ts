// TLS against a real HTTPS server on loopback with a throw-away CA (openssl CLI).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { NetworkError, ValidationError, noRetry } from '../../src/core/index.js';
import { HttpClient } from '../../src/core/http.js';
import { resolveTls } from '../../src/core/tls.js';
import { type TestPki, createTestPki } from '../support/certs.js';

describe('TLS', () => {
  let pki: TestPki;
  let server: Server;
  let base: string;
  let lastClientCn: string | undefined;

  before(async () => {
    pki = createTestPki();
    server = createServer(
      { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        lastClientCn = socket.authorized && peer.subject ? String(peer.subject.CN) : undefined;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const http = (tls: ConstructorParameters<typeof HttpClient>[0]['tls']) =>
    new HttpClient({ baseUrl: base, service: 'tls-test', tls, retry: noRetry, timeoutMs: 5000 });

  it('refuses a server whose CA is not trusted', async () => {
    await assert.rejects(http({}).request({ method: 'GET', path: '/' }), NetworkError);
  });

  it('refuses a trusted certificate issued for another host name', async () => {
    const error = await http({ caFile: pki.caFile })
      .request({ method: 'GET', path: '/' })
      .catch((e: unknown) => e);
    assert.ok(error instanceof NetworkError);
    assert.match(error.message, /ERR_TLS_CERT_ALTNAME_INVALID|altnames|Hostname/i);
  });

  it('accepts it when serverName names the host the certificate was issued for', async () => {
    const response = await http({ caFile: pki.caFile, serverName: pki.serverName }).request({ method: 'GET', path: '/' });
    assert.deepEqual(response.data, { ok: true });
  });

  it('still checks the name against serverName', async () => {
    await assert.rejects(http({ ca: pki.caCert, serverName: 'some-other-name' }).request({ method: 'GET', path: '/' }), NetworkError);
  });

  it('presents a client certificate for mutual TLS', async () => {
    lastClientCn = undefined;
    await http({
      ca: pki.caCert,
      serverName: pki.serverName,
      certFile: pki.clientCertFile,
      keyFile: pki.clientKeyFile,
    }).request({ method: 'GET', path: '/' });
    assert.equal(lastClientCn, 'lamp-1');
  });

  it('rejects a certificate without its key and unreadable files', () => {
    assert.throws(() => resolveTls({ cert: pki.clientCert }), ValidationError);
    assert.throws(() => resolveTls({ caFile: '/nonexistent/ca.pem' }), /tls\.caFile: cannot read/);
    assert.equal(resolveTls({}).rejectUnauthorized, true);
  });
});
