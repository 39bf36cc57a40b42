import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { replaceFile } from '../core/files.js';
import type { EventCheckpointer } from './types.js';

function damaged(path: string, what: string): ValidationError {
  return new ValidationError(
    'checkpoint',
    `the checkpoint file ${JSON.stringify(path)} ${what}`,
    "The file is damaged (e.g. by a disk failure or an outside edit): delete it and set startBlock to replay from a known block (the relay's delivered log keeps a replay from posting anything twice).",
  );
}

/**
 * A durable event checkpoint in a JSON file, in the format of fabric-gateway's `checkpointers.file`
 * (`{"blockNumber":"12","transactionId":"…"}`), so existing files keep working. Unlike that one, every write
 * goes to a temporary file that is fsynced and renamed over the old one, so a crash leaves the old or the new
 * position, never an empty or half-written file; and an empty or unreadable file is reported as damage
 * (a `ValidationError` naming the file) instead of silently starting over.
 */
export class FileCheckpointer implements EventCheckpointer {
  private blockNumber: bigint | undefined;
  private transactionId: string | undefined;
  private queue: Promise<void> = Promise.resolve();

  private constructor(readonly path: string) {}

  /** Reads the file; a missing file means "no position yet" and is created on the first checkpoint. */
  static async open(path: string): Promise<FileCheckpointer> {
    const checkpointer = new FileCheckpointer(path);
    await mkdir(dirname(path), { recursive: true });
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return checkpointer;
      throw new ValidationError(
        'checkpoint',
        `cannot read the checkpoint file ${JSON.stringify(path)}: ${(error as Error).message}`,
        "Check the file's permissions and that it is a regular file.",
      );
    }
    if (text.trim() === '') throw damaged(path, 'is empty');
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch (error) {
      throw damaged(path, `is not valid JSON (${(error as Error).message})`);
    }
    if (typeof state !== 'object' || state === null || Array.isArray(state)) throw damaged(path, 'does not hold a JSON object');
    const { blockNumber, transactionId } = state as { blockNumber?: unknown; transactionId?: unknown };
    if (blockNumber !== undefined && (typeof blockNumber !== 'string' || !/^\d+$/.test(blockNumber))) {
      throw damaged(path, `has an invalid blockNumber ${JSON.stringify(blockNumber)}`);
    }
    if (transactionId !== undefined && (typeof transactionId !== 'string' || blockNumber === undefined)) {
      throw damaged(path, `has an invalid transactionId ${JSON.stringify(transactionId)}`);
    }
    checkpointer.blockNumber = blockNumber === undefined ? undefined : BigInt(blockNumber);
    checkpointer.transactionId = transactionId;
    return checkpointer;
  }

  getBlockNumber(): bigint | undefined {
    return this.blockNumber;
  }

  getTransactionId(): string | undefined {
    return this.transactionId;
  }

  /** Everything up to and including `transactionId` of block `blockNumber` is done. */
  checkpointTransaction(blockNumber: bigint, transactionId: string): Promise<void> {
    return this.save(blockNumber, transactionId);
  }

  /** Block `blockNumber` is done: resume at the next block (fabric-gateway's `Checkpointer.checkpointBlock`). */
  checkpointBlock(blockNumber: bigint): Promise<void> {
    return this.save(blockNumber + 1n, undefined);
  }

  private save(blockNumber: bigint, transactionId: string | undefined): Promise<void> {
    const text = JSON.stringify({ blockNumber: blockNumber.toString(), transactionId });
    const run = this.queue.then(async () => {
      // A rename lost in a crash only means an older position: replayed events are skipped by the relay's
      // fsynced delivered log. So one fsync per event (the file's) instead of two.
      await replaceFile(this.path, text, { syncFolder: false });
      this.blockNumber = blockNumber;
      this.transactionId = transactionId;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
