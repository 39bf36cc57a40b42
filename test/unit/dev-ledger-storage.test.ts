/**
 * DevLedger's folder: what survives a restart (state, history, the block chain, event checkpoints), what it keeps out
 * of its blocks and of the block log's file (passwords), that it refuses a folder whose block, state row or private row
 * was changed outside it, what a failed commit leaves, and its lock file.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RootDatabase, open } from 'lmdb';
import { ClientClosedError, ValidationError } from '../../src/core/index.js';
import { CommitError, type LedgerEvent } from '../../src/ledger/index.js';
import { DevLedger, DevLedgerError, GENESIS_ROOT, LedgerLockedError, LedgerTamperedError } from '../../src/ledger/dev/index.js';
import { buildBlock } from '../../src/ledger/dev/block-log.js';
import { DevNode } from '../../src/ledger/dev/node.js';
import { TENANT, hex, rejection, twinCommand, unique } from '../support/ledger-suite.js';

const dirs: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'twinledger-dev-'));
  dirs.push(dir);
  return join(dir, 'ledger');
}

/** Replaces every occurrence of `needle` in `file` (LMDB may keep stale copies of a page): a byte changed on disk. */
function changeBytes(file: string, needle: string, replacement: string): number {
  assert.equal(Buffer.byteLength(needle), Buffer.byteLength(replacement));
  const bytes = readFileSync(file);
  let count = 0;
  for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) {
    bytes.write(replacement, at);
    count += 1;
  }
  writeFileSync(file, bytes);
  return count;
}

describe('DevLedger storage', () => {
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps state, history and the block chain across a restart, and no password in any block', async () => {
    const directory = folder();
    const password = `pw-${randomBytes(12).toString('base64url')}`;
    const key = `Org1MSP/ids/${unique('kept')}`;
    const deviceId = `${TENANT}:${unique('kept')}`;
    const first = await DevLedger.open({ directory });
    assert.equal(first.verification.height, 1n, 'a new ledger has its configuration block');
    await first.registerDevice({ tenant: TENANT, deviceId });
    await first.setCredentials({ tenant: TENANT, deviceId, authId: 'kept-1', password });
    await first.initHash(key);
    await first.updateHash({ key, sha256: hex('v1') });
    const head = await first.anchorBatch({ stream: 'Org1MSP/kept', batchId: 'b1', root: hex('kept'), treeSize: 3, prevRoot: GENESIS_ROOT });
    const history = await first.getHashHistory(key);
    const before = await first.verify();
    assert.equal(before.height, 6n);
    assert.equal(before.validTransactions, 5);
    const blocks = await Promise.all([0n, 1n, 2n, 3n, 4n, 5n].map((n) => first.getBlock(n)));
    assert.equal(await first.getBlock(6n), undefined);
    assert.deepEqual(
      blocks.slice(1).map((block) => block?.transactions.map((tx) => [tx.function, tx.status])),
      [
        [['RegisterDevice', 'VALID']],
        [['SetCredentials', 'VALID']],
        [['InitHash', 'VALID']],
        [['UpdateHash', 'VALID']],
        [['AnchorBatch', 'VALID']],
      ],
    );
    for (const [index, block] of blocks.entries()) {
      assert.equal(block?.number, BigInt(index));
      if (index > 0) assert.equal(block?.previousHash, blocks[index - 1]?.hash, 'each block names the hash of the one before');
    }
    assert.equal(blocks[5]?.hash, before.lastBlockHash);
    const credentials = blocks[2]?.transactions[0];
    assert.deepEqual(credentials?.args, [TENANT, deviceId], 'the credentials travel in the transient map, not the arguments');
    assert.equal(credentials?.privateWrites.length, 1, 'the block holds the private write as hashes');
    const blockText = JSON.stringify(blocks, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value,
    );
    assert.ok(!blockText.includes(password), 'the password is in no block');
    await first.close();

    const second = await DevLedger.open({ directory });
    assert.deepEqual(second.verification, before, 'the same chain, transactions and rows after the restart');
    assert.deepEqual(await second.getHashHistory(key), history);
    const { block, ...stored } = head;
    assert.deepEqual(await second.getBatch('Org1MSP/kept', 'b1'), stored);
    const holding = await second.getBlock(BigInt(block ?? -1));
    assert.ok(
      holding?.transactions.some((tx) => tx.transactionId === head.txId),
      `block ${block}, as anchorBatch reported it, holds the transaction`,
    );
    assert.equal((await second.getCredentials(TENANT, deviceId))?.password, password);
    assert.equal((await second.getBlock(5n))?.hash, before.lastBlockHash);
    assert.equal((await second.updateHash({ key, sha256: hex('v2') })).version, 2, 'and it goes on from there');
    await second.close();
    assert.equal((await DevLedger.verify(directory)).height, 7n);
  });

  it('resumes chaincode events from a file checkpoint across a restart of the ledger', async () => {
    const directory = folder();
    const checkpoint = join(directory, '..', 'events.json');
    const key = `Org1MSP/events/${unique('key')}`;
    const version = (event: LedgerEvent) => (JSON.parse(Buffer.from(event.payload).toString()) as { version: number }).version;
    const first = await DevLedger.open({ directory });
    await first.initHash(key);
    for (let v = 1; v <= 3; v += 1) await first.updateHash({ key, sha256: hex(`v${v}`) });
    const seen: number[] = [];
    for await (const event of first.events({ checkpoint, startBlock: 0n, names: ['HashUpdated'] })) {
      seen.push(version(event));
      if (seen.length === 2) break; // not checkpointed: its loop body did not finish
    }
    await first.close();
    assert.deepEqual(seen, [1, 2]);

    const second = await DevLedger.open({ directory });
    for (let v = 4; v <= 5; v += 1) await second.updateHash({ key, sha256: hex(`v${v}`) });
    const resumed: number[] = [];
    for await (const event of second.events({ checkpoint, names: ['HashUpdated'] })) {
      resumed.push(version(event));
      if (resumed.length === 4) break;
    }
    assert.deepEqual(resumed, [2, 3, 4, 5], 'the unfinished event again, then the rest, nothing twice');

    // A stream waiting for the next block ends when the ledger closes.
    const waiting = (async () => {
      const events: LedgerEvent[] = [];
      for await (const event of second.events({ checkpoint })) events.push(event);
      return events;
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await second.close();
    assert.deepEqual((await waiting).map(version), [5], 'the unfinished event once more, then the loop ended');
    assert.ok((await rejection(second.queryHash(key))) instanceof ClientClosedError);
  });

  it('refuses a ledger whose stored block was changed by a byte, naming the block', async () => {
    const directory = folder();
    const deviceId = `${TENANT}:${unique('tamper')}`;
    const ledger = await DevLedger.open({ directory });
    await ledger.registerDevice({ tenant: TENANT, deviceId });
    // The command travels as an argument: in the block's bytes, and nowhere else.
    const published = await ledger.publishTelemetry({ tenant: TENANT, thingId: deviceId, command: twinCommand(deviceId, 4242.125) });
    await ledger.initHash(`Org1MSP/${unique('after')}`);
    const block = (await ledger.getBlock(2n))?.transactions[0];
    assert.equal(block?.transactionId, published.transactionId);
    await ledger.close();

    assert.ok(changeBytes(join(directory, 'ledger.mdb'), '4242.125', '4242.126') > 0, 'the block bytes were found in the file');
    for (const attempt of [() => DevLedger.open({ directory }), () => DevLedger.verify(directory)]) {
      const error = await rejection(attempt());
      assert.ok(error instanceof LedgerTamperedError, String(error));
      assert.equal(error.blockNumber, 2n);
      assert.equal(error.code, 'ledger.dev.tampered');
      assert.match(error.message, /block 2 is damaged: its data does not hash to the dataHash in its header/);
    }
  });

  it('refuses a ledger whose state row was changed, naming the key and the block that wrote it', async () => {
    const directory = folder();
    const key = `Org1MSP/ids/${unique('row')}`;
    const ledger = await DevLedger.open({ directory });
    await ledger.initHash(key);
    await ledger.updateHash({ key, sha256: hex('honest') });
    await ledger.close();

    const root = open({ path: join(directory, 'ledger.mdb') });
    const state = root.openDB<Buffer, Buffer>('state', { encoding: 'binary', keyEncoding: 'binary' });
    const rowKey = Buffer.from(`\u0000twinledger.hash\u0000${key}\u0000`);
    const row = Buffer.from(state.get(rowKey) as Buffer);
    const at = row.indexOf(hex('honest'));
    assert.ok(at > 0);
    row.write('0', at); // one hex digit of the stored sha256
    await state.put(rowKey, row);
    await root.close();

    const error = await rejection(DevLedger.open({ directory }));
    assert.ok(error instanceof LedgerTamperedError, String(error));
    assert.equal(error.key, rowKey.toString());
    assert.equal(error.blockNumber, 2n);
    assert.match(error.message, /state row .* is not what block 2 transaction 0 wrote/);
  });

  describe('refuses rows and blocks it cannot decode with LedgerTamperedError, never a raw RangeError or TypeError', () => {
    // One ledger: block 1 registers a device, block 2 sets its credentials (a private row), block 3 creates a hash key.
    const deviceId = `${TENANT}:${unique('malformed')}`;
    const hashKey = `Org1MSP/ids/${unique('malformed')}`;
    const stateKey = `\u0000twinledger.hash\u0000${hashKey}\u0000`;
    const privateName = `Org1MSPPrivateCollection/\u0000twinledger.credentials\u0000${TENANT}\u0000${deviceId}\u0000`;
    let pristine: Promise<{ directory: string; txId: string; block2Hash: string }> | undefined;
    const made = () =>
      (pristine ??= (async () => {
        const directory = folder();
        const ledger = await DevLedger.open({ directory });
        await ledger.registerDevice({ tenant: TENANT, deviceId });
        await ledger.setCredentials({ tenant: TENANT, deviceId, authId: 'malformed-1', password: 'malformed-password' });
        await ledger.initHash(hashKey);
        const txId = (await ledger.getBlock(3n))?.transactions[0]?.transactionId as string;
        const block2Hash = (await ledger.getBlock(2n))?.hash as string;
        await ledger.close();
        return { directory, txId, block2Hash };
      })());

    /** A copy of the ledger, changed with LMDB directly (`file` `ledger.mdb` or `private.mdb`). */
    async function altered(file: 'ledger.mdb' | 'private.mdb', change: (root: RootDatabase) => Promise<unknown>): Promise<string> {
      const source = await made();
      const directory = folder();
      cpSync(source.directory, directory, { recursive: true, filter: (path) => !path.endsWith('-lock') });
      const root = open({ path: join(directory, file), maxDbs: 8 });
      try {
        await change(root);
      } finally {
        await root.close();
      }
      return directory;
    }

    async function refused(directory: string, expected: { message: RegExp; blockNumber?: bigint; key?: string }): Promise<void> {
      for (const attempt of [() => DevLedger.open({ directory }), () => DevLedger.verify(directory)]) {
        const error = await rejection(attempt());
        assert.ok(error instanceof LedgerTamperedError, String(error));
        assert.equal(error.code, 'ledger.dev.tampered');
        assert.match(error.message, expected.message);
        assert.equal(error.blockNumber, expected.blockNumber);
        assert.equal(error.key, expected.key);
      }
    }

    const binary = (root: RootDatabase, name: string) => root.openDB<Buffer, Buffer>(name, { encoding: 'binary', keyEncoding: 'binary' });
    const historyKeyOf = (root: RootDatabase): Buffer => {
      for (const key of binary(root, 'history').getKeys()) if (key.includes(Buffer.from(stateKey))) return Buffer.from(key);
      throw new Error('no history entry of the key');
    };

    it('a state row shorter than its 12-byte header', async () => {
      const directory = await altered('ledger.mdb', (root) =>
        binary(root, 'state').put(Buffer.from(stateKey), Buffer.from([0, 0, 0, 3, 0])),
      );
      await refused(directory, {
        message: /state row .* is damaged: it is 5 bytes, shorter than its 12-byte header/,
        blockNumber: 3n,
        key: stateKey,
      });
    });

    it('a state row whose policy length runs past its end', async () => {
      const directory = await altered('ledger.mdb', async (root) => {
        const state = binary(root, 'state');
        const row = Buffer.from(state.get(Buffer.from(stateKey)) as Buffer);
        row.writeUInt32BE(0xffff_ffff, 8);
        await state.put(Buffer.from(stateKey), row);
      });
      await refused(directory, {
        message: /state row .* is damaged: its policy length 4294967295 runs past its end/,
        blockNumber: 3n,
        key: stateKey,
      });
    });

    it('a history row shorter than its header length, and one whose header is not JSON', async () => {
      for (const [bytes, message] of [
        [Buffer.from([0, 1]), /the history entry of .* at block 3 transaction 0 is damaged: it is 2 bytes/],
        [
          Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x}value')]),
          /at block 3 transaction 0 is damaged: its header is not JSON/,
        ],
      ] as const) {
        const directory = await altered('ledger.mdb', async (root) => binary(root, 'history').put(historyKeyOf(root), bytes));
        await refused(directory, { message, blockNumber: 3n, key: stateKey });
      }
    });

    it('a history row whose key is cut short', async () => {
      const directory = await altered('ledger.mdb', async (root) => {
        const history = binary(root, 'history');
        const key = historyKeyOf(root);
        const value = history.get(key) as Buffer;
        await history.remove(key);
        await history.put(key.subarray(0, key.length - 3), value);
      });
      await refused(directory, { message: /the key of a history entry \([0-9a-f]+\) is damaged: its key names a key of/ });
    });

    it('a transaction index entry shorter than 9 bytes', async () => {
      const { txId } = await made();
      const directory = await altered('ledger.mdb', (root) =>
        root.openDB<Buffer, string>('transactions', { encoding: 'binary' }).put(txId, Buffer.from([0, 0, 0, 3])),
      );
      await refused(directory, {
        message: new RegExp(`the index entry of transaction ${txId} is damaged: it is 4 bytes, not 9`),
        blockNumber: 3n,
      });
    });

    it('a private row shorter than its version, and a private row key without its 0x00', async () => {
      const truncated = await altered('private.mdb', async (root) => {
        const rows = binary(root, 'rows');
        const [key] = [...rows.getKeys()] as Buffer[];
        await rows.put(key as Buffer, Buffer.from([0, 0, 2]));
      });
      await refused(truncated, {
        message: /private row .* is damaged: it is 3 bytes, shorter than its 8-byte version/,
        blockNumber: 2n,
        key: privateName,
      });
      const keyless = await altered('private.mdb', (root) => binary(root, 'rows').put(Buffer.from('no-separator'), Buffer.alloc(12)));
      await refused(keyless, { message: /the key of a private row \(6e6f2d/ });
    });

    it("the private undo record of a block not in the log, and the undo record's block number", async () => {
      // Block 4 (the height) committed its private writes and never made it into the log; its undo record is garbled.
      const undo = await altered('private.mdb', async (root) => {
        const [key] = [...binary(root, 'rows').getKeys()] as Buffer[];
        await root.openDB<number, string>({ name: 'meta' }).put('undoBlock', 4);
        await binary(root, 'undo').put(key as Buffer, Buffer.from([7, 1, 2]));
      });
      await refused(undo, {
        message: /the private undo record of block 4 \(key [0-9a-f]+\) is damaged: it is neither 0x00/,
        blockNumber: 4n,
      });
      const meta = await altered('private.mdb', (root) =>
        root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' }).put('undoBlock', Buffer.from([0xd9, 0x20])),
      );
      await refused(meta, { message: /the block number of the private undo record is damaged/ });
    });

    it('a block whose header or transactions are not in the form DevLedger writes, even with matching hashes', async () => {
      const { block2Hash } = await made();
      for (const [bytes, message] of [
        [Buffer.from('null\n{}'), /block 3 is damaged: its header is not in the form DevLedger writes/],
        [buildBlock(3, block2Hash, ['null'], [0]).bytes, /block 3 is damaged: transaction 0 is not a JSON object/],
        [buildBlock(3, block2Hash, ['{"txId":7}'], [0]).bytes, /block 3 is damaged: the field txId of transaction 0 is not in the form/],
        [
          buildBlock(3, block2Hash, [], [], { format: 2 } as never).bytes,
          /block 3 is damaged: its channel configuration is not in the form/,
        ],
      ] as const) {
        const directory = await altered('ledger.mdb', (root) =>
          root.openDB<Buffer, number>('blocks', { encoding: 'binary', keyEncoding: 'uint32' }).put(3, Buffer.from(bytes)),
        );
        await refused(directory, { message, blockNumber: 3n });
      }
    });
  });

  it("keeps private data out of the block log's file: the password is in ledger.mdb in no form, only in private.mdb", async () => {
    const directory = folder();
    const password = `pw-${randomBytes(12).toString('base64url')}`;
    const deviceId = `${TENANT}:${unique('file')}`;
    const ledger = await DevLedger.open({ directory });
    await ledger.registerDevice({ tenant: TENANT, deviceId });
    await ledger.setCredentials({ tenant: TENANT, deviceId, authId: 'file-1', password });
    assert.equal((await ledger.getCredentials(TENANT, deviceId))?.password, password);
    await ledger.close();
    const blockLogFile = readFileSync(join(directory, 'ledger.mdb'));
    for (const form of [password, Buffer.from(password).toString('base64'), Buffer.from(password).toString('hex')]) {
      assert.ok(!blockLogFile.includes(form), `the password (${form}) is not in the file of the block log`);
    }
    assert.ok(readFileSync(join(directory, 'private.mdb')).includes(password), 'the private data store holds it');
  });

  it('refuses a ledger whose private row was changed, naming the collection, key and block', async () => {
    const directory = folder();
    const password = `pw-${randomBytes(12).toString('base64url')}`;
    const deviceId = `${TENANT}:${unique('private')}`;
    const ledger = await DevLedger.open({ directory });
    await ledger.registerDevice({ tenant: TENANT, deviceId });
    await ledger.setCredentials({ tenant: TENANT, deviceId, authId: 'private-1', password });
    await ledger.close();
    assert.ok(changeBytes(join(directory, 'private.mdb'), password, `X${password.slice(1)}`) > 0);
    const error = await rejection(DevLedger.open({ directory }));
    assert.ok(error instanceof LedgerTamperedError, String(error));
    assert.equal(error.blockNumber, 2n);
    assert.equal(error.key, `Org1MSPPrivateCollection/\u0000twinledger.credentials\u0000${TENANT}\u0000${deviceId}\u0000`);
    assert.match(error.message, /private row .* does not match the hash block 2 transaction 0 recorded/);
  });

  it('a commit that fails after the private writes undoes them on the next open; the acknowledged credentials stay', async () => {
    const directory = folder();
    const deviceId = `${TENANT}:${unique('crash')}`;
    const ledger = await DevLedger.open({ directory });
    await ledger.registerDevice({ tenant: TENANT, deviceId });
    const acknowledged = await ledger.setCredentials({ tenant: TENANT, deviceId, authId: 'crash-1', password: 'acknowledged-password' });
    const height = await ledger.getChainHeight();
    // The block log's commit fails (a full disk, a crash) after the private data store committed the block's private writes.
    const node = DevNode.prototype as unknown as { commitLog: (...args: unknown[]) => Promise<void> };
    const commitLog = node.commitLog;
    node.commitLog = () => Promise.reject(new Error('no space left on device'));
    try {
      const error = await rejection(ledger.setCredentials({ tenant: TENANT, deviceId, authId: 'crash-2', password: 'lost-password' }));
      assert.ok(error instanceof DevLedgerError && error.code === 'ledger.dev.commit', String(error));
    } finally {
      node.commitLog = commitLog;
    }
    await assert.rejects(ledger.getDevice(TENANT, deviceId), { code: 'ledger.dev.commit' }, 'the node stopped');
    await ledger.close();

    // As the failure left it: read-only verification reads the private rows as the block log says they are.
    assert.equal((await DevLedger.verify(directory)).height, height);
    const reopened = await DevLedger.open({ directory });
    try {
      assert.equal(reopened.verification.height, height);
      assert.equal((await reopened.getCredentials(TENANT, deviceId))?.password, 'acknowledged-password');
      assert.deepEqual((await reopened.getDevice(TENANT, deviceId))?.credentials, acknowledged);
      assert.equal(
        (await reopened.setCredentials({ tenant: TENANT, deviceId, authId: 'crash-3', password: 'next' })).collection,
        acknowledged.collection,
      );
    } finally {
      await reopened.close();
    }
  });

  it('delivers no event of an invalid transaction (as a Fabric gateway): its block keeps it, marked invalid', async () => {
    const directory = folder();
    const key = `Org1MSP/ids/${unique('events')}`;
    const ledger = await DevLedger.open({ directory, organizations: ['Org1MSP', 'Org2MSP'] });
    try {
      await ledger.initHash(key);
      const startBlock = await ledger.getChainHeight();
      await ledger.updateHash({ key, sha256: hex('v1') });
      const forged = await rejection(
        ledger.as('Org1MSP', { endorsingOrganizations: ['Org2MSP'] }).updateHash({ key, sha256: hex('forged') }),
      );
      assert.ok(forged instanceof CommitError && forged.statusName === 'ENDORSEMENT_POLICY_FAILURE', String(forged));
      const invalid = (await ledger.getBlock(forged.blockNumber as bigint))?.transactions[0];
      assert.deepEqual([invalid?.status, invalid?.event?.name], ['ENDORSEMENT_POLICY_FAILURE', 'HashUpdated'], 'the block holds its event');
      await ledger.updateHash({ key, sha256: hex('v2') });
      const delivered: string[] = [];
      for await (const event of ledger.events({ startBlock })) {
        delivered.push((JSON.parse(Buffer.from(event.payload).toString()) as { sha256: string }).sha256);
        if (delivered.length === 2) break;
      }
      assert.deepEqual(delivered, [hex('v1'), hex('v2')]);
    } finally {
      await ledger.close();
    }
  });

  it('takes over a lock file left by a process that is gone, and refuses one whose process runs', async () => {
    const directory = folder();
    const lock = join(directory, 'devledger.lock');
    mkdirSync(directory, { recursive: true });
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(lock, `${gone}\nleft-behind\n`);
    const ledger = await DevLedger.open({ directory });
    assert.match(readFileSync(lock, 'utf8'), new RegExp(`^${process.pid}\n`), 'the stale lock is ours now');
    await ledger.close();
    assert.equal(existsSync(lock), false, 'released on close');

    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lock, `${holder.pid}\nheld\n`);
      const error = await rejection(DevLedger.open({ directory }));
      assert.ok(error instanceof LedgerLockedError, String(error));
      assert.equal(error.pid, holder.pid);
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
    await (await DevLedger.open({ directory })).close();
  });

  it('refuses a folder of another folder format with its own error, not as an altered ledger', async () => {
    const directory = folder();
    await (await DevLedger.open({ directory })).close();
    // Block 0 as the previous format wrote it (format 1: private data inside ledger.mdb).
    const root = open({ path: join(directory, 'ledger.mdb') });
    const blocks = root.openDB<Buffer, number>('blocks', { encoding: 'binary', keyEncoding: 'uint32' });
    const config = { format: 1, channel: 'twinledger', chaincode: 'twinledger', createdAt: new Date().toISOString() };
    await blocks.put(0, buildBlock(0, '0'.repeat(64), [], [], config).bytes);
    await root.close();
    for (const attempt of [() => DevLedger.open({ directory }), () => DevLedger.verify(directory)]) {
      const error = await rejection(attempt());
      assert.ok(error instanceof DevLedgerError && !(error instanceof LedgerTamperedError), String(error));
      assert.equal(error.code, 'ledger.dev.format');
      assert.match(error.message, /has folder format 1; this DevLedger reads format 2/);
    }
  });

  it('has one writer: a second open of the folder in this process is refused until the first is closed', async () => {
    const directory = folder();
    const ledger = await DevLedger.open({ directory });
    const error = await rejection(DevLedger.open({ directory }));
    assert.ok(error instanceof LedgerLockedError, String(error));
    assert.equal(error.pid, process.pid);
    assert.match(error.message, /is open in another DevLedger of this process/);
    // Reading it meanwhile is fine, and leaves it usable.
    assert.equal((await DevLedger.verify(directory)).height, 1n);
    assert.equal((await ledger.initHash(`Org1MSP/${unique('still')}`)).version, 0);
    await ledger.close();
    await assert.rejects(DevLedger.verify(join(directory, 'nothing')), { code: 'ledger.dev.missing' });
    await (await DevLedger.open({ directory })).close();
  });

  it('checks its options and identities before anything is opened', async () => {
    await assert.rejects(DevLedger.open({ directory: '' }), (e: unknown) => e instanceof ValidationError && e.field === 'directory');
    await assert.rejects(
      DevLedger.open({ directory: folder(), mspId: 'Org 1' }),
      (e: unknown) => e instanceof ValidationError && e.field === 'mspId',
    );
    await assert.rejects(
      DevLedger.open({ directory: folder(), mspId: 'Org1MSP', organizations: ['Org2MSP'] }),
      (e: unknown) => e instanceof ValidationError && e.field === 'organizations',
    );
    await assert.rejects(
      DevLedger.open({ directory: folder(), blockTimeoutMs: -1 }),
      (e: unknown) => e instanceof ValidationError && e.field === 'blockTimeoutMs',
    );
    const directory = folder();
    await (await DevLedger.open({ directory })).close();
    await assert.rejects(
      DevLedger.open({ directory, channel: 'other' }),
      (e: unknown) => e instanceof ValidationError && e.field === 'channel' && /holds channel "twinledger"/.test(e.message),
    );
    const ledger = await DevLedger.open({ directory });
    assert.throws(
      () => ledger.as('Org2MSP'),
      (e: unknown) => e instanceof ValidationError && /not one of the ledger's organizations/.test(e.message),
    );
    await assert.rejects(ledger.getBlock(1 as unknown as bigint), ValidationError);
    await ledger.close();
    await ledger.close();
    assert.throws(() => ledger.as('Org1MSP'), ClientClosedError);
  });
});
