/**
 * The sandbox's state: named collections of JSON values, read from memory and, with a data directory, written
 * through to one LMDB environment (`sandbox.mdb`) so that a restarted sandbox finds everything again. Sandbox data
 * is small (a registry, some twins): every collection is loaded whole on open.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';

/** One collection: a map of keys to JSON values. Reads are synchronous; writes resolve once stored (durable with a data directory). */
export class Collection<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly db: Database<V, string> | undefined) {
    if (db !== undefined) for (const { key, value } of db.getRange()) this.entries.set(key, value);
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Entries whose key starts with `prefix`, in key order. */
  *entriesWith(prefix = ''): Iterable<[string, V]> {
    const keys = [...this.entries.keys()].filter((key) => key.startsWith(prefix)).sort();
    for (const key of keys) yield [key, this.entries.get(key)!];
  }

  get size(): number {
    return this.entries.size;
  }

  async put(key: string, value: V): Promise<void> {
    this.entries.set(key, value);
    await this.db?.put(key, value);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
    await this.db?.remove(key);
  }
}

export class SandboxState {
  private readonly collections = new Map<string, Collection<unknown>>();

  private constructor(private readonly root: RootDatabase | undefined) {}

  /** In memory without `dataDir`; otherwise in `<dataDir>/sandbox.mdb` (created when missing). */
  static async open(dataDir: string | undefined): Promise<SandboxState> {
    if (dataDir === undefined) return new SandboxState(undefined);
    await mkdir(dataDir, { recursive: true });
    const { open } = await import('lmdb');
    return new SandboxState(open({ path: join(dataDir, 'sandbox.mdb'), maxDbs: 32, overlappingSync: false, noSync: false }));
  }

  get persistent(): boolean {
    return this.root !== undefined;
  }

  collection<V>(name: string): Collection<V> {
    let collection = this.collections.get(name) as Collection<V> | undefined;
    if (collection === undefined) {
      collection = new Collection<V>(this.root?.openDB<V, string>(name, {}));
      this.collections.set(name, collection as Collection<unknown>);
    }
    return collection;
  }

  async close(): Promise<void> {
    await this.root?.close();
  }
}
