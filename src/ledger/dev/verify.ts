import { createHash } from 'node:crypto';
import { type BlockLog, type ChannelConfig, FORMAT, type StoredBlock, type Version, ZERO_HASH, decodeBlock } from './block-log.js';
import { DevLedgerError, LedgerTamperedError } from './errors.js';
import type { PrivateStore } from './private-store.js';
import { type StateStore, decodeHistoryKey, decodeHistoryRow, decodeLocation, decodeStateRow, decodeStored } from './state-store.js';

/** What `DevLedger.verify()` found: a ledger whose block chain and stored rows agree. */
export interface DevLedgerVerification {
  directory: string;
  /** Number of blocks, block 0 (the channel configuration) included. */
  height: bigint;
  /** SHA-256 (hex) of the newest block's header: pins the whole chain. */
  lastBlockHash: string;
  transactions: number;
  validTransactions: number;
  /** Public keys in world state. */
  stateKeys: number;
  /** Keys in the private collections. */
  privateKeys: number;
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');
const sameVersion = (a: Version, b: Version) => a.block === b.block && a.tx === b.tx;
const where = (version: Version) => `block ${version.block} transaction ${version.tx}`;

interface Expected {
  version: Version;
  /** SHA-256 of the value's base64, as the block holds it. */
  valueDigest: string;
}

/**
 * Re-verifies a ledger folder from its block log: the chain (every block's data hash, header form, number and link to
 * the block before), then every stored row against what the valid transactions of the log wrote — world state with
 * key-level policies, private data (against the hashes in the blocks), key history and the transaction index. Any
 * difference, and any block or row that cannot be decoded, is a `LedgerTamperedError` naming the block (and the key).
 * Reads the whole log: O(ledger size).
 */
export function verifyLedger(
  directory: string,
  log: BlockLog,
  store: StateStore,
  privateStore: PrivateStore,
): { summary: DevLedgerVerification; config: ChannelConfig; last: StoredBlock } {
  const tampered = (message: string, info: { blockNumber?: number; key?: string; cause?: unknown } = {}) =>
    new LedgerTamperedError(directory, message, {
      key: info.key,
      cause: info.cause,
      blockNumber: info.blockNumber === undefined ? undefined : BigInt(info.blockNumber),
    });

  const state = new Map<string, Expected & { policy: string | null }>();
  const privateRows = new Map<string, Expected>();
  const history = new Map<string, { txId: string; seconds: number; nanos: number; isDelete: boolean; valueDigest: string }>();
  const transactions = new Map<string, { block: number; index: number; code: number }>();
  let previous: StoredBlock | undefined;
  let config: ChannelConfig | undefined;
  let count = 0;
  let valid = 0;

  for (const { number, bytes } of log.entries()) {
    const expected = previous ? previous.header.number + 1 : 0;
    if (number !== expected) throw tampered(`block ${expected} is missing (the next stored block is ${number})`, { blockNumber: expected });
    const block = decodeBlock(bytes, number, directory);
    const link = previous ? previous.hash : ZERO_HASH;
    if (block.header.previousHash !== link) {
      throw tampered(`block ${number} does not follow block ${number - 1}: its previousHash ${block.header.previousHash} is not ${link}`, {
        blockNumber: number,
      });
    }
    if (number === 0) {
      if (!block.data.config || typeof block.data.config.format !== 'number') {
        throw tampered('block 0 does not hold a DevLedger channel configuration', { blockNumber: 0 });
      }
      config = block.data.config;
    }
    block.data.transactions.forEach((envelope, index) => {
      const code = block.data.validationCodes[index] ?? -1;
      count += 1;
      transactions.set(envelope.txId, { block: number, index, code });
      if (code !== 0) return;
      valid += 1;
      const version = { block: number, tx: index };
      const policies = new Map(envelope.rwset.metadataWrites.map((write) => [write.key, write.validationParameter]));
      for (const write of envelope.rwset.writes) {
        history.set(`${number}:${index}:${write.key}`, {
          txId: envelope.txId,
          seconds: envelope.timestamp.seconds,
          nanos: envelope.timestamp.nanos,
          isDelete: write.isDelete,
          valueDigest: digest(write.value ?? ''),
        });
        if (write.isDelete) state.delete(write.key);
        else {
          const policy = policies.has(write.key) ? (policies.get(write.key) ?? null) : (state.get(write.key)?.policy ?? null);
          state.set(write.key, { version, valueDigest: digest(write.value ?? ''), policy });
        }
      }
      for (const [key, policy] of policies) {
        const current = state.get(key);
        if (current && !envelope.rwset.writes.some((write) => write.key === key)) state.set(key, { ...current, version, policy });
      }
      for (const collection of envelope.rwset.collections) {
        for (const write of collection.writes) {
          const id = `${collection.collection}\u0000${write.keyHash}`;
          if (write.valueHash === null) privateRows.delete(id);
          else privateRows.set(id, { version, valueDigest: write.valueHash });
        }
      }
    });
    previous = block;
  }
  if (!previous || !config) throw tampered('block 0 (the channel configuration) is missing', { blockNumber: 0 });
  // Checked once the chain is: a folder of another version, not an altered one.
  if (config.format !== FORMAT) {
    throw new DevLedgerError(`the dev ledger in ${directory} has folder format ${config.format}; this DevLedger reads format ${FORMAT}`, {
      code: 'ledger.dev.format',
      hint:
        'It was written by another version of DevLedger (format 2 keeps private data in private.mdb, apart from the block log): ' +
        'open it with that version, or delete the folder to start an empty ledger.',
    });
  }

  let stateKeys = 0;
  for (const { key: keyBytes, value } of store.state.getRange()) {
    const key = keyBytes.toString('utf8');
    const expected = state.get(key);
    const row = decodeStored(
      () => decodeStateRow(value),
      (problem, cause) =>
        tampered(`state row ${JSON.stringify(key)} is damaged: ${problem}`, { key, blockNumber: expected?.version.block, cause }),
    );
    if (!expected) throw tampered(`state row ${JSON.stringify(key)} was written by no valid transaction of the log`, { key });
    const policy = row.validationParameter ? row.validationParameter.toString('base64') : null;
    if (
      !sameVersion(row.version, expected.version) ||
      digest(row.value.toString('base64')) !== expected.valueDigest ||
      policy !== expected.policy
    ) {
      throw tampered(`state row ${JSON.stringify(key)} is not what ${where(expected.version)} wrote`, {
        blockNumber: expected.version.block,
        key,
      });
    }
    state.delete(key);
    stateKeys += 1;
  }
  for (const [key, expected] of state) {
    throw tampered(`state row ${JSON.stringify(key)}, written by ${where(expected.version)}, is missing`, {
      blockNumber: expected.version.block,
      key,
    });
  }

  let privateKeys = 0;
  for (const { id: rowId, bytes } of privateStore.entries(previous.header.number + 1)) {
    const { collection, key } = privateStore.split(rowId);
    const id = `${collection}\u0000${createHash('sha256').update(key).digest('hex')}`;
    const expected = privateRows.get(id);
    const name = `${collection}/${key}`;
    const row = privateStore.row(name, bytes, expected?.version.block);
    if (!expected) throw tampered(`private row ${JSON.stringify(name)} was written by no valid transaction of the log`, { key: name });
    if (!sameVersion(row.version, expected.version) || createHash('sha256').update(row.value).digest('hex') !== expected.valueDigest) {
      throw tampered(`private row ${JSON.stringify(name)} does not match the hash ${where(expected.version)} recorded`, {
        blockNumber: expected.version.block,
        key: name,
      });
    }
    privateRows.delete(id);
    privateKeys += 1;
  }
  for (const [id, expected] of privateRows) {
    throw tampered(`a private row of ${id.split('\u0000')[0]}, written by ${where(expected.version)}, is missing`, {
      blockNumber: expected.version.block,
    });
  }

  for (const { key: keyBytes, value } of store.history.getRange()) {
    const { key, version } = decodeStored(
      () => decodeHistoryKey(keyBytes),
      (problem, cause) => tampered(`the key of a history entry (${keyBytes.toString('hex')}) is damaged: ${problem}`, { cause }),
    );
    const row = decodeStored(
      () => decodeHistoryRow(value, version),
      (problem, cause) =>
        tampered(`the history entry of ${JSON.stringify(key)} at ${where(version)} is damaged: ${problem}`, {
          blockNumber: version.block,
          key,
          cause,
        }),
    );
    const id = `${row.version.block}:${row.version.tx}:${key}`;
    const expected = history.get(id);
    if (
      !expected ||
      expected.txId !== row.txId ||
      expected.seconds !== row.timestamp.seconds ||
      expected.nanos !== row.timestamp.nanos ||
      expected.isDelete !== row.isDelete ||
      expected.valueDigest !== digest(row.isDelete ? '' : row.value.toString('base64'))
    ) {
      throw tampered(`the history entry of ${JSON.stringify(key)} at ${where(row.version)} is not what that transaction wrote`, {
        blockNumber: row.version.block,
        key,
      });
    }
    history.delete(id);
  }
  for (const [id] of history) {
    const [block = '0', tx = '0'] = id.split(':');
    throw tampered(`a history entry of block ${block} transaction ${tx} is missing`, { blockNumber: Number(block) });
  }

  for (const { key: txId, value } of store.transactions.getRange()) {
    const expected = transactions.get(txId);
    const location = decodeStored(
      () => decodeLocation(value),
      (problem, cause) =>
        tampered(`the index entry of transaction ${txId} is damaged: ${problem}`, { blockNumber: expected?.block, cause }),
    );
    if (!expected || expected.block !== location.block || expected.index !== location.index || expected.code !== location.validationCode) {
      throw tampered(`the index entry of transaction ${txId} does not match the log`, { blockNumber: location.block });
    }
    transactions.delete(txId);
  }
  for (const [txId, expected] of transactions) {
    throw tampered(`transaction ${txId} of block ${expected.block} is missing from the transaction index`, { blockNumber: expected.block });
  }

  return {
    config,
    last: previous,
    summary: {
      directory,
      height: BigInt(previous.header.number + 1),
      lastBlockHash: previous.hash,
      transactions: count,
      validTransactions: valid,
      stateKeys,
      privateKeys,
    },
  };
}
