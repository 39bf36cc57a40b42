// A value import on purpose: emitDecoratorMetadata records `Context` as the first parameter type, and
// fabric-contract-api recognises the context parameter by it (eslint.config.js tells ESLint about the metadata).
import { Context, Contract, Info, Param, Returns, Transaction } from 'fabric-contract-api';
import * as anchors from './anchors';
import * as devices from './devices';
import * as hashes from './hashes';
import { canonicalJson } from './json';
import * as telemetry from './telemetry';

/**
 * The TwinLedger contract. Every argument is a string (optional ones are passed as `''`), every result
 * is deterministic JSON text (sorted keys) so that all endorsers return identical bytes; errors start
 * with a code such as `INVALID_ARGUMENT:` or `NOT_FOUND:`.
 */
@Info({
  title: 'TwinLedger',
  version: '0.1.0',
  description:
    'Digital-twin ledger for Eclipse Cloud2Edge: device registry with private credentials, telemetry publishing through an off-chain relay, PoC 1 hash registry, Merkle batch anchoring',
})
export class TwinLedgerContract extends Contract {
  constructor() {
    super('twinledger');
  }

  // ---- device registry -------------------------------------------------------------------------------

  /** Registers a device for the calling organisation (idempotent for the same organisation). */
  @Transaction()
  @Returns('string')
  @Param('tenant', 'string', 'Hono tenant ID, e.g. org.acme')
  @Param('deviceId', 'string', 'Hono device ID (= Ditto thing ID on Cloud2Edge), e.g. org.acme:lamp-1')
  async RegisterDevice(ctx: Context, tenant: string, deviceId: string): Promise<string> {
    return canonicalJson(await devices.registerDevice(ctx, tenant, deviceId));
  }

  @Transaction(false)
  @Returns('string')
  @Param('tenant', 'string', 'Hono tenant ID, e.g. org.acme')
  @Param('deviceId', 'string', 'Hono device ID (= Ditto thing ID on Cloud2Edge), e.g. org.acme:lamp-1')
  async GetDevice(ctx: Context, tenant: string, deviceId: string): Promise<string> {
    return canonicalJson(await devices.getDevice(ctx, tenant, deviceId));
  }

  /**
   * Stores the device's Hono credentials (transient `authId`, `password` and a random hex `salt`, which is required) in the owner's
   * private data collection; public state gets only a salted commitment. Endorse on the owner's peers only.
   */
  @Transaction()
  @Returns('string')
  @Param('tenant', 'string', 'Hono tenant ID, e.g. org.acme')
  @Param('deviceId', 'string', 'Hono device ID (= Ditto thing ID on Cloud2Edge), e.g. org.acme:lamp-1')
  async SetCredentials(ctx: Context, tenant: string, deviceId: string): Promise<string> {
    return canonicalJson(await devices.setCredentials(ctx, tenant, deviceId));
  }

  /** The device's credentials from the private collection; owner organisation only. Never submit it. */
  @Transaction(false)
  @Returns('string')
  @Param('tenant', 'string', 'Hono tenant ID, e.g. org.acme')
  @Param('deviceId', 'string', 'Hono device ID (= Ditto thing ID on Cloud2Edge), e.g. org.acme:lamp-1')
  async GetCredentials(ctx: Context, tenant: string, deviceId: string): Promise<string> {
    return canonicalJson(await devices.getCredentials(ctx, tenant, deviceId));
  }

  // ---- telemetry -------------------------------------------------------------------------------------

  /**
   * Records the SHA-256 of a Ditto Protocol twin command and emits `TelemetryPublishRequested` for the
   * off-chain relay, which posts it to the Hono HTTP adapter once. Returns the SHA-256 (hex).
   */
  @Transaction()
  @Returns('string')
  @Param('tenant', 'string', 'Hono tenant ID, e.g. org.acme')
  @Param('thingId', 'string', 'Ditto thing ID namespace:name (= Hono device ID), e.g. org.acme:lamp-1')
  @Param(
    'dittoCommandJson',
    'string',
    'Ditto Protocol twin command addressed to thingId (topic ns/name/things/twin/commands/modify|merge|create|delete)',
  )
  @Param('ttd', 'string', 'hono-ttd in seconds (1-60) to wait for a command, or empty')
  async PublishTelemetryData(ctx: Context, tenant: string, thingId: string, dittoCommandJson: string, ttd: string): Promise<string> {
    return telemetry.publishTelemetryData(ctx, tenant, thingId, dittoCommandJson, ttd);
  }

  @Transaction(false)
  @Returns('string')
  @Param('tenant', 'string', 'Hono tenant ID, e.g. org.acme')
  @Param('thingId', 'string', 'Ditto thing ID namespace:name (= Hono device ID), e.g. org.acme:lamp-1')
  @Param('txId', 'string', 'transaction ID of the PublishTelemetryData transaction')
  async GetTelemetry(ctx: Context, tenant: string, thingId: string, txId: string): Promise<string> {
    return canonicalJson(await telemetry.getTelemetry(ctx, tenant, thingId, txId));
  }

  // ---- PoC 1 hash registry ---------------------------------------------------------------------------

  @Transaction()
  @Returns('string')
  @Param('key', 'string', 'record key: letters, digits and . _ ~ : @ / + = -')
  async InitHash(ctx: Context, key: string): Promise<string> {
    return canonicalJson(await hashes.initHash(ctx, key));
  }

  @Transaction()
  @Returns('string')
  @Param('key', 'string', 'record key: letters, digits and . _ ~ : @ / + = -')
  @Param('sha256', 'string', 'SHA-256 digest, 64 lower-case hex characters')
  @Param('cid', 'string', 'IPFS CID (CIDv0 Qm... or base32 CIDv1 b...), or empty')
  async UpdateHash(ctx: Context, key: string, sha256: string, cid: string): Promise<string> {
    return canonicalJson(await hashes.updateHash(ctx, key, sha256, cid));
  }

  @Transaction(false)
  @Returns('string')
  @Param('key', 'string', 'record key: letters, digits and . _ ~ : @ / + = -')
  async QueryHash(ctx: Context, key: string): Promise<string> {
    return canonicalJson(await hashes.queryHash(ctx, key));
  }

  @Transaction(false)
  @Returns('string')
  @Param('key', 'string', 'record key: letters, digits and . _ ~ : @ / + = -')
  async GetHashHistory(ctx: Context, key: string): Promise<string> {
    return canonicalJson(await hashes.getHashHistory(ctx, key));
  }

  // ---- anchoring -------------------------------------------------------------------------------------

  /**
   * Anchors a Merkle batch: `prevRoot` must be the stream's current head root (64 zeros for the first
   * batch). The same batch again returns the stored record; the same ID with other content is a conflict.
   */
  @Transaction()
  @Returns('string')
  @Param('stream', 'string', 'batch stream ID, e.g. org.acme/telemetry')
  @Param('batchId', 'string', 'batch ID, unique within the stream (derived from the batch content)')
  @Param('root', 'string', 'RFC 6962 Merkle tree head of the batch, 64 lower-case hex characters')
  @Param('treeSize', 'string', 'number of leaves in the batch (decimal)')
  @Param('prevRoot', 'string', 'root of the stream head this batch follows; 64 zeros for the first batch')
  @Param('metaJson', 'string', 'JSON object with extra information (at most 8 KiB), or empty')
  async AnchorBatch(
    ctx: Context,
    stream: string,
    batchId: string,
    root: string,
    treeSize: string,
    prevRoot: string,
    metaJson: string,
  ): Promise<string> {
    return canonicalJson(await anchors.anchorBatch(ctx, stream, batchId, root, treeSize, prevRoot, metaJson));
  }

  @Transaction(false)
  @Returns('string')
  @Param('stream', 'string', 'batch stream ID, e.g. org.acme/telemetry')
  @Param('batchId', 'string', 'batch ID, unique within the stream (derived from the batch content)')
  async GetBatch(ctx: Context, stream: string, batchId: string): Promise<string> {
    return canonicalJson(await anchors.getBatch(ctx, stream, batchId));
  }

  @Transaction(false)
  @Returns('string')
  @Param('stream', 'string', 'batch stream ID, e.g. org.acme/telemetry')
  async GetHead(ctx: Context, stream: string): Promise<string> {
    return canonicalJson(await anchors.getHead(ctx, stream));
  }

  /** Anchors one high-value record (write-once; the same content again returns the stored record). */
  @Transaction()
  @Returns('string')
  @Param('key', 'string', 'record key: letters, digits and . _ ~ : @ / + = -')
  @Param('sha256', 'string', 'SHA-256 digest, 64 lower-case hex characters')
  @Param('cid', 'string', 'IPFS CID (CIDv0 Qm... or base32 CIDv1 b...), or empty')
  @Param('metaJson', 'string', 'JSON object with extra information (at most 8 KiB), or empty')
  async AnchorRecord(ctx: Context, key: string, sha256: string, cid: string, metaJson: string): Promise<string> {
    return canonicalJson(await anchors.anchorRecord(ctx, key, sha256, cid, metaJson));
  }

  @Transaction(false)
  @Returns('string')
  @Param('key', 'string', 'record key: letters, digits and . _ ~ : @ / + = -')
  async GetRecord(ctx: Context, key: string): Promise<string> {
    return canonicalJson(await anchors.getRecord(ctx, key));
  }
}
