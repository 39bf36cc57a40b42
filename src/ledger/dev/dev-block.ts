import type { StoredBlock } from './block-log.js';
import { statusName } from './validation.js';

/** Blocks as `DevLedger.getBlock()` returns them: the stored block log entry, with bytes and bigints for the JSON. */

/** A key's version: the transaction that last wrote it. */
export interface DevVersion {
  blockNumber: bigint;
  transactionIndex: number;
}

/** One transaction of a block, as the dev ledger recorded it. */
export interface DevTransaction {
  transactionId: string;
  /** The client's timestamp, RFC 3339 with nanoseconds. */
  timestamp: string;
  /** MSP ID of the client. */
  creator: string;
  /** MSP IDs of the endorsing peers. */
  endorsers: string[];
  function: string;
  args: string[];
  /** Fabric validation code: 0 VALID, 10 ENDORSEMENT_POLICY_FAILURE, 11 MVCC_READ_CONFLICT, ... */
  validationCode: number;
  status: string;
  reads: Array<{ key: string; version: DevVersion | null }>;
  /** `value` null: a delete. */
  writes: Array<{ key: string; value: Uint8Array | null }>;
  /** Key-level endorsement policies set (`value` null: removed). */
  validationParameters: Array<{ key: string; value: Uint8Array | null }>;
  /** Private writes as the block holds them: SHA-256 (hex) of key and value (`valueHash` null: a delete). */
  privateWrites: Array<{ collection: string; keyHash: string; valueHash: string | null }>;
  event: { name: string; payload: Uint8Array } | null;
}

export interface DevBlock {
  number: bigint;
  /** SHA-256 (hex) of the block's header. */
  hash: string;
  previousHash: string;
  dataHash: string;
  transactions: DevTransaction[];
}

function timestamp(seconds: number, nanos: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
}

/** The public view of a stored block. */
export function toDevBlock(block: StoredBlock): DevBlock {
  const version = (v: { block: number; tx: number } | null): DevVersion | null =>
    v === null ? null : { blockNumber: BigInt(v.block), transactionIndex: v.tx };
  const bytes = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));
  return {
    number: BigInt(block.header.number),
    hash: block.hash,
    previousHash: block.header.previousHash,
    dataHash: block.header.dataHash,
    transactions: block.data.transactions.map((tx, index) => {
      const code = block.data.validationCodes[index] ?? -1;
      return {
        transactionId: tx.txId,
        timestamp: timestamp(tx.timestamp.seconds, tx.timestamp.nanos),
        creator: tx.creator,
        endorsers: tx.endorsers,
        function: tx.function,
        args: tx.args,
        validationCode: code,
        status: statusName(code),
        reads: tx.rwset.reads.map((read) => ({ key: read.key, version: version(read.version) })),
        writes: tx.rwset.writes.map((write) => ({ key: write.key, value: write.isDelete ? null : bytes(write.value ?? '') })),
        validationParameters: tx.rwset.metadataWrites.map((write) => ({
          key: write.key,
          value: write.validationParameter === null ? null : bytes(write.validationParameter),
        })),
        privateWrites: tx.rwset.collections.flatMap((collection) =>
          collection.writes.map((write) => ({ collection: collection.collection, keyHash: write.keyHash, valueHash: write.valueHash })),
        ),
        event: tx.event ? { name: tx.event.name, payload: bytes(tx.event.payload) } : null,
      };
    }),
  };
}
