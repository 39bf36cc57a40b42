import { createHash } from 'node:crypto';
import type { CollectionRWSet, RangeEntry, RWSet, Version } from './block-log.js';
import { compareKeys } from './state-store.js';

/**
 * What one simulation (endorsement) of a transaction produces, recorded as a Fabric peer's transaction simulator
 * records it, with the simulator's rules on what one transaction may combine:
 *
 * - public reads with the version seen (the first read of a key counts), range queries with what they returned,
 *   private reads as key hashes with versions;
 * - writes, deletes, key-level policies (validation parameters) and private writes, one per key: the last one counts;
 * - paginated queries and range queries on private data only in a read-only transaction: after a write they are
 *   refused, and so is a write after them;
 * - one chaincode event: the last `setEvent`.
 *
 * The stub (stub.ts) records into it; validation (validation.ts) reads it; the block gets `rwset()`.
 */

const hash = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/** Entries sorted by key in Fabric's order (the UTF-8 bytes), as a peer's read/write set builder sorts them. */
const sorted = <T>(map: ReadonlyMap<string, T>): Array<[string, T]> => [...map].sort(([a], [b]) => compareKeys(a, b));

export class Simulation {
  private readonly reads = new Map<string, Version | null>();
  private readonly ranges: RangeEntry[] = [];
  private readonly writes = new Map<string, Buffer | null>();
  private readonly metadataWrites = new Map<string, Buffer | null>();
  private readonly privateReads = new Map<string, Map<string, Version | null>>();
  private readonly privateWrites = new Map<string, Map<string, Buffer | null>>();
  private event: { name: string; payload: Buffer } | undefined;
  private writePerformed = false;
  private paginatedQueryPerformed = false;
  private privateQueryPerformed = false;

  constructor(
    private readonly txId: string,
    /** The error the chaincode gets when the simulator refuses a call. */
    private readonly refuse: (message: string) => Error,
  ) {}

  // ---- recording ------------------------------------------------------------------------------------

  read(key: string, version: Version | null): void {
    if (!this.reads.has(key)) this.reads.set(key, version);
  }

  privateRead(collection: string, key: string, version: Version | null): void {
    const reads = this.privateReads.get(collection) ?? new Map<string, Version | null>();
    if (!reads.has(key)) reads.set(key, version);
    this.privateReads.set(collection, reads);
  }

  range(entry: RangeEntry): void {
    this.ranges.push(entry);
  }

  /** A write (`null`: a delete). */
  write(key: string, value: Buffer | null): void {
    this.beforeWrite();
    this.writes.set(key, value);
  }

  /** A key-level policy (`null`: removed). */
  validationParameter(key: string, parameter: Buffer | null): void {
    this.beforeWrite();
    this.metadataWrites.set(key, parameter);
  }

  privateWrite(collection: string, key: string, value: Buffer | null): void {
    this.beforeWrite();
    const writes = this.privateWrites.get(collection) ?? new Map<string, Buffer | null>();
    writes.set(key, value);
    this.privateWrites.set(collection, writes);
  }

  setEvent(name: string, payload: Buffer): void {
    this.event = { name, payload };
  }

  beforePaginatedQuery(): void {
    if (this.writePerformed) {
      throw this.refuse(`txid [${this.txId}]: unsuppored transaction. Paginated queries are supported only in a read-only transaction`);
    }
    this.paginatedQueryPerformed = true;
  }

  beforePrivateQuery(): void {
    if (this.writePerformed) {
      throw this.refuse(`txid [${this.txId}]: unsuppored transaction. Queries on pvt data is supported only in a read-only transaction`);
    }
    this.privateQueryPerformed = true;
  }

  private beforeWrite(): void {
    if (this.paginatedQueryPerformed) {
      throw this.refuse(
        `txid [${this.txId}]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed`,
      );
    }
    if (this.privateQueryPerformed) {
      throw this.refuse(
        `txid [${this.txId}]: unsuppored transaction. Transaction has already performed queries on pvt data. Writes are not allowed`,
      );
    }
    this.writePerformed = true;
  }

  // ---- results --------------------------------------------------------------------------------------

  /** The read/write set, keys sorted as Fabric sorts them, for the block: private data as hashes only. */
  rwset(): RWSet {
    const collections: CollectionRWSet[] = [...new Set([...this.privateReads.keys(), ...this.privateWrites.keys()])]
      .sort(compareKeys)
      .map((collection) => ({
        collection,
        reads: sorted(this.privateReads.get(collection) ?? new Map<string, Version | null>()).map(([key, version]) => ({
          keyHash: hash(key),
          version,
        })),
        writes: sorted(this.privateWrites.get(collection) ?? new Map<string, Buffer | null>()).map(([key, value]) => ({
          keyHash: hash(key),
          valueHash: value === null ? null : hash(value),
        })),
      }));
    return {
      reads: sorted(this.reads).map(([key, version]) => ({ key, version })),
      ranges: this.ranges,
      writes: sorted(this.writes).map(([key, value]) =>
        value === null ? { key, isDelete: true } : { key, value: value.toString('base64'), isDelete: false },
      ),
      metadataWrites: sorted(this.metadataWrites).map(([key, ep]) => ({ key, validationParameter: ep ? ep.toString('base64') : null })),
      collections,
    };
  }

  /** Public reads: key → the version seen (null = absent). */
  publicReads(): ReadonlyMap<string, Version | null> {
    return this.reads;
  }

  rangeQueries(): readonly RangeEntry[] {
    return this.ranges;
  }

  /** Public writes with their values (the block carries them in base64; the committer needs the bytes). */
  publicWrites(): ReadonlyMap<string, Buffer | null> {
    return this.writes;
  }

  policyWrites(): ReadonlyMap<string, Buffer | null> {
    return this.metadataWrites;
  }

  privateReadVersions(): ReadonlyMap<string, ReadonlyMap<string, Version | null>> {
    return this.privateReads;
  }

  /** Private writes with their values: they go to the private store, only their hashes into the block. */
  privateValues(): ReadonlyMap<string, ReadonlyMap<string, Buffer | null>> {
    return this.privateWrites;
  }

  chaincodeEvent(): { name: string; payload: Buffer } | undefined {
    return this.event;
  }
}
