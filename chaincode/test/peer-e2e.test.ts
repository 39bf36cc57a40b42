/**
 * End to end over gRPC: `npm start` serves the chaincode (CCaaS) and a minimal stand-in for a peer talks
 * the chaincode protocol to it (REGISTER → REGISTERED/READY → TRANSACTION, answering GET_STATE / PUT_STATE /
 * PUT_STATE_METADATA, reading COMPLETED). This runs the real server process with the real dependency tree
 * (including the class-transformer pin) and signed-proposal decoding, which in-process tests cannot.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { testCertificate } from './fake-ledger';
import { modifyCommand, sha256 } from './helpers';
import { freePort, waitForPort } from './server-process';

// google-protobuf ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb') as {
  Timestamp: new () => { setSeconds(value: number): void; setNanos(value: number): void };
};

const root = join(__dirname, '..', '..');
const T = peer.ChaincodeMessage.Type;

interface Completed {
  status: number;
  message: string;
  payload: string;
  event?: { name: string; payload: string };
}

/** Just enough of a peer: world state in a Map, one transaction at a time. */
class FakePeer {
  readonly state = new Map<string, Buffer>();
  private readonly client: peer.ChaincodeClient;
  private readonly stream: grpc.ClientDuplexStream<peer.ChaincodeMessage, peer.ChaincodeMessage>;
  private readonly ready: Promise<void>;
  private pending: { resolve: (c: Completed) => void; reject: (e: Error) => void } | undefined;
  registeredAs = '';

  constructor(address: string) {
    this.client = new peer.ChaincodeClient(address, grpc.credentials.createInsecure());
    this.stream = this.client.connect();
    this.ready = new Promise((resolve, reject) => {
      this.stream.on('error', (error: Error) => {
        reject(error);
        this.pending?.reject(error);
      });
      this.stream.on('data', (message: peer.ChaincodeMessage) => {
        try {
          if (message.getType() === T.REGISTER) {
            this.registeredAs = peer.ChaincodeID.deserializeBinary(message.getPayload_asU8()).getName();
            this.send(T.REGISTERED, new Uint8Array(), message);
            this.send(T.READY, new Uint8Array(), message);
            resolve();
          } else {
            this.handle(message);
          }
        } catch (error) {
          this.pending?.reject(error as Error);
        }
      });
    });
  }

  private send(type: number, payload: Uint8Array, about: peer.ChaincodeMessage): void {
    const reply = new peer.ChaincodeMessage();
    reply.setType(type as peer.ChaincodeMessage.TypeMap[keyof peer.ChaincodeMessage.TypeMap]);
    reply.setPayload(payload);
    reply.setTxid(about.getTxid());
    reply.setChannelId(about.getChannelId());
    this.stream.write(reply);
  }

  private handle(message: peer.ChaincodeMessage): void {
    switch (message.getType()) {
      case T.GET_STATE: {
        const request = peer.GetState.deserializeBinary(message.getPayload_asU8());
        this.send(T.RESPONSE, this.state.get(request.getKey()) ?? new Uint8Array(), message);
        return;
      }
      case T.PUT_STATE: {
        const request = peer.PutState.deserializeBinary(message.getPayload_asU8());
        this.state.set(request.getKey(), Buffer.from(request.getValue_asU8()));
        this.send(T.RESPONSE, new Uint8Array(), message);
        return;
      }
      case T.PUT_STATE_METADATA:
        this.send(T.RESPONSE, new Uint8Array(), message);
        return;
      case T.COMPLETED: {
        const response = peer.Response.deserializeBinary(message.getPayload_asU8());
        const event = message.getChaincodeEvent();
        this.pending?.resolve({
          status: response.getStatus(),
          message: response.getMessage(),
          payload: Buffer.from(response.getPayload_asU8()).toString('utf8'),
          ...(event && event.getEventName()
            ? { event: { name: event.getEventName(), payload: Buffer.from(event.getPayload_asU8()).toString('utf8') } }
            : {}),
        });
        this.pending = undefined;
        return;
      }
      default:
        this.send(T.ERROR, Buffer.from(`fake peer cannot handle message type ${message.getType()}`), message);
    }
  }

  async invoke(options: { mspId: string; certificate: string; args: string[]; txId?: string }): Promise<Completed> {
    await this.ready;
    const txId = options.txId ?? randomBytes(32).toString('hex');
    const identity = new msp.SerializedIdentity();
    identity.setMspid(options.mspId);
    identity.setIdBytes(Buffer.from(options.certificate));
    const signatureHeader = new common.SignatureHeader();
    signatureHeader.setCreator(identity.serializeBinary());
    signatureHeader.setNonce(randomBytes(24));
    const timestamp = new Timestamp();
    timestamp.setSeconds(1_714_557_600);
    timestamp.setNanos(5);
    const channelHeader = new common.ChannelHeader();
    channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
    channelHeader.setChannelId('mychannel');
    channelHeader.setTxId(txId);
    channelHeader.setTimestamp(timestamp as unknown as Parameters<common.ChannelHeader['setTimestamp']>[0]);
    const header = new common.Header();
    header.setChannelHeader(channelHeader.serializeBinary());
    header.setSignatureHeader(signatureHeader.serializeBinary());
    const input = new peer.ChaincodeInput();
    input.setArgsList(options.args.map((arg) => Buffer.from(arg)));
    const payload = new peer.ChaincodeProposalPayload();
    payload.setInput(input.serializeBinary());
    const proposal = new peer.Proposal();
    proposal.setHeader(header.serializeBinary());
    proposal.setPayload(payload.serializeBinary());
    const signed = new peer.SignedProposal();
    signed.setProposalBytes(proposal.serializeBinary());
    signed.setSignature(new Uint8Array());

    const message = new peer.ChaincodeMessage();
    message.setType(T.TRANSACTION);
    message.setPayload(input.serializeBinary());
    message.setTxid(txId);
    message.setChannelId('mychannel');
    message.setProposal(signed);
    const done = new Promise<Completed>((resolve, reject) => (this.pending = { resolve, reject }));
    this.stream.write(message);
    return done;
  }

  close(): void {
    this.stream.end();
    this.client.close();
  }
}

describe('chaincode server end to end (fake peer over gRPC)', () => {
  const temp = mkdtempSync(join(tmpdir(), 'twinledger-e2e-'));
  let server: ChildProcess;
  let fakePeer: FakePeer;
  let packageId: string;
  let certificate: string;
  let stderr = '';

  before(async () => {
    const port = await freePort();
    packageId = execFileSync(
      process.execPath,
      [join(root, 'scripts', 'package-ccaas.mjs'), '--out', temp, '--address', `127.0.0.1:${port}`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    ).trim();
    server = spawn(process.execPath, [join(root, 'scripts', 'start-server.mjs')], {
      env: {
        ...process.env,
        CHAINCODE_ID: packageId,
        CHAINCODE_SERVER_ADDRESS: `127.0.0.1:${port}`,
        CORE_PEER_LOCALMSPID: 'Org1MSP',
        CORE_CHAINCODE_LOGGING_LEVEL: 'CRITICAL',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitForPort(port, server);
    fakePeer = new FakePeer(`127.0.0.1:${port}`);
    certificate = testCertificate('user1.org1');
  });

  after(async () => {
    fakePeer?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(temp, { recursive: true, force: true });
  });

  it('registers with its package ID and runs transactions the peer sends', async () => {
    const registered = await fakePeer.invoke({ mspId: 'Org1MSP', certificate, args: ['RegisterDevice', 'org.acme', 'org.acme:lamp-1'] });
    assert.equal(fakePeer.registeredAs, packageId);
    assert.equal(registered.status, 200, `${registered.message}\n${stderr}`);
    const device = JSON.parse(registered.payload) as { owner: string; timestamp: string };
    assert.equal(device.owner, 'Org1MSP', 'the owner comes from the creator in the signed proposal');
    assert.equal(device.timestamp, '2024-05-01T10:00:00.000000005Z', 'the timestamp comes from the channel header');
    assert.equal(registered.event?.name, 'DeviceRegistered');

    const command = modifyCommand();
    const txId = 'ab'.repeat(32);
    const published = await fakePeer.invoke({
      mspId: 'Org1MSP',
      certificate,
      args: ['PublishTelemetryData', 'org.acme', 'org.acme:lamp-1', command, '5'],
      txId,
    });
    assert.equal(published.status, 200, published.message);
    assert.equal(published.payload, sha256(command));
    assert.equal(published.event?.name, 'TelemetryPublishRequested');
    const event = JSON.parse(published.event?.payload ?? '{}') as { txId: string; command: string; ttd: number };
    assert.deepEqual([event.txId, event.command, event.ttd], [txId, command, 5]);
  });

  it('answers a refused transaction with status 500 and the coded message', async () => {
    const refused = await fakePeer.invoke({
      mspId: 'Org2MSP',
      certificate,
      args: ['PublishTelemetryData', 'org.acme', 'org.acme:lamp-1', modifyCommand(), ''],
    });
    assert.equal(refused.status, 500);
    assert.match(
      refused.message,
      /^FORBIDDEN: device "org.acme:lamp-1" of tenant "org.acme" belongs to Org1MSP; Org2MSP may not publish telemetry/,
    );
    assert.equal(refused.event, undefined);
  });
});
