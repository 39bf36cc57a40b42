import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { replaceFile } from '../core/files.js';
import { RelayStateError } from './errors.js';

/**
 * A small durable set of transaction IDs (what the relay has delivered), kept as an append-only log
 * of one ID per line. `add()` appends and fsyncs, so an ID is durable before it returns; a line torn by
 * a crash has no newline and is ignored on load (that delivery then counts as not recorded). When the log
 * holds twice `capacity` lines it is compacted to the newest `capacity` IDs through a temporary file,
 * fsync and rename, so the file on disk is always either the old or the new version.
 */
export class DeliveredStore {
  private readonly ids = new Set<string>();
  private readonly order: string[] = [];
  private handle: FileHandle | undefined;
  private lines = 0;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    readonly capacity: number,
  ) {}

  static async open(path: string, options: { capacity?: number } = {}): Promise<DeliveredStore> {
    const store = new DeliveredStore(path, options.capacity ?? 100_000);
    await mkdir(dirname(path), { recursive: true });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
    for (const line of complete.split('\n')) {
      const id = line.trim();
      if (id !== '') store.remember(id);
    }
    store.lines = store.order.length;
    // Rewrite when a torn tail was dropped, so the next append starts on a fresh line.
    if (complete.length !== text.length) await store.compact();
    store.handle = await open(path, 'a');
    return store;
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Records `id` durably. Concurrent calls are serialised. */
  add(id: string): Promise<void> {
    if (/\s/.test(id) || id === '') {
      return Promise.reject(
        new ValidationError('transactionId', `${JSON.stringify(id)} is not a transaction ID (empty or with white space)`),
      );
    }
    const run = this.queue.then(() => this.append(id));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle?.close();
    this.handle = undefined;
  }

  private remember(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    this.order.push(id);
    while (this.order.length > this.capacity) this.ids.delete(this.order.shift() as string);
  }

  private async append(id: string): Promise<void> {
    if (!this.handle) throw new RelayStateError('DeliveredStore is closed');
    if (this.ids.has(id)) return;
    await this.handle.appendFile(`${id}\n`, 'utf8');
    await this.handle.sync();
    this.remember(id);
    this.lines += 1;
    if (this.lines >= 2 * this.capacity) {
      await this.handle.close();
      await this.compact();
      this.handle = await open(this.path, 'a');
    }
  }

  private async compact(): Promise<void> {
    await replaceFile(this.path, this.order.map((id) => `${id}\n`).join(''));
    this.lines = this.order.length;
  }
}
