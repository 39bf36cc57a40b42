import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ExponentialBackoff, ValidationError } from '../../src/core/index.js';
import { EvaluationError, FabricLedger, type FabricLedgerConnectOptions } from '../../src/ledger/index.js';
import { type TestPki, createTestPki } from '../support/certs.js';
import { freePort } from '../support/services.js';

describe('FabricLedger.connect', () => {
  let pki: TestPki;
  let base: FabricLedgerConnectOptions;
  before(() => {
    pki = createTestPki('peer0.org1.example.com');
    base = {
      peerEndpoint: '127.0.0.1:7051',
      tlsRootCertFile: pki.caFile,
      hostAlias: pki.serverName,
      mspId: 'Org1MSP',
      certificateFile: pki.clientCertFile,
      privateKeyFile: pki.clientKeyFile,
      channel: 'mychannel',
      chaincode: 'twinledger',
    };
  });
  after(() => rmSync(pki.dir, { recursive: true, force: true }));

  it('validates the connection options without echoing key material', () => {
    const cases: Array<[Partial<FabricLedgerConnectOptions>, string, RegExp]> = [
      [{ peerEndpoint: 'grpcs://peer:7051' }, 'peerEndpoint', /must be host:port/],
      [{ mspId: '' }, 'mspId', /is required/],
      [{ tlsRootCertFile: undefined }, 'tlsRootCert', /is required/],
      [{ tlsRootCertFile: '/nonexistent/ca.pem' }, 'tlsRootCertFile', /cannot read/],
      [{ certificate: 'x' }, 'certificate', /either certificate or certificateFile/],
      [{ certificateFile: undefined, certificate: 'not pem' }, 'certificate', /not PEM text/],
      [
        { privateKeyFile: undefined, privateKey: '-----BEGIN PRIVATE KEY-----\nAAAAsecretAAAA\n-----END PRIVATE KEY-----\n' },
        'privateKey',
        /not a readable PEM private key/,
      ],
      [{ tlsClientCertFile: pki.clientCertFile }, 'tlsClientKey', /go together/],
      [{ channel: '' }, 'channel', /is required/],
    ];
    for (const [override, field, pattern] of cases) {
      assert.throws(
        () => FabricLedger.connect({ ...base, ...override }),
        (error: unknown) => {
          assert.ok(error instanceof ValidationError, String(error));
          assert.equal(error.field, field);
          assert.match(error.message, pattern);
          assert.ok(!error.message.includes('secret'));
          return true;
        },
      );
    }
  });

  it('reaches the gateway over TLS and reports an unreachable peer as UNAVAILABLE after retrying', async () => {
    const port = await freePort();
    const ledger = FabricLedger.connect({
      ...base,
      peerEndpoint: `127.0.0.1:${port}`,
      tlsClientCertFile: pki.clientCertFile,
      tlsClientKeyFile: pki.clientKeyFile,
      deadlines: { evaluateMs: 3_000 },
      retry: new ExponentialBackoff({ maxAttempts: 2, initialDelayMs: 10, jitter: 'none' }),
    });
    try {
      await assert.rejects(ledger.getHead('org.acme/telemetry'), (error: unknown) => {
        assert.ok(error instanceof EvaluationError, String(error));
        assert.ok(error.grpcCode === 14 || error.grpcCode === 4, `gRPC code ${error.grpcCode}`);
        assert.equal(error.transaction, 'GetHead');
        assert.equal(error.retryable, true);
        assert.ok(error.hint);
        return true;
      });
    } finally {
      await ledger.close();
    }
  });
});
