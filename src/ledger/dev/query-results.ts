/**
 * Query results in the shapes fabric-shim hands to a chaincode: state query iterators (a promise of an iterator that is
 * also async-iterable), history entries with a `Long`-like timestamp, pages with their metadata.
 */

export interface KV {
  namespace: string;
  key: string;
  value: Uint8Array;
}

export interface KeyModification {
  isDelete: boolean;
  value: Uint8Array;
  timestamp: { seconds: LongLike; nanos: number };
  txId: string;
}

/** What fabric-shim hands out for seconds (a `Long`): enough of it for `toString()` / `toNumber()`. */
export class LongLike {
  readonly low: number;
  readonly high: number;
  readonly unsigned = true;

  constructor(private readonly value: number) {
    this.low = (value % 2 ** 32) | 0;
    this.high = Math.floor(value / 2 ** 32) | 0;
  }
  toNumber(): number {
    return this.value;
  }
  toString(): string {
    return String(this.value);
  }
}

export interface Page {
  iterator: QueryResult<KV>;
  metadata: { fetchedRecordsCount: number; bookmark: string };
}

export interface Iterator<T> {
  next(): Promise<{ value: T; done: boolean }>;
  close(): Promise<void>;
}

/** A promise of an iterator that is also async-iterable, as the shim's query methods return. */
export type QueryResult<T> = Promise<Iterator<T>> & AsyncIterable<T>;

/**
 * The result of a query the stub ran at once (`load`). A failed query rejects the promise and throws from the async
 * iteration; a chaincode that only iterates never awaits the promise, so its rejection is marked handled.
 */
export function queryResult<T>(load: () => T[]): QueryResult<T> {
  let items: T[];
  let failure: unknown;
  try {
    items = load();
  } catch (error) {
    items = [];
    failure = error;
  }
  let index = 0;
  const iterator: Iterator<T> = {
    next: async () => (index < items.length ? { value: items[index++] as T, done: false } : { value: undefined as T, done: true }),
    close: async () => undefined,
  };
  const promise = (failure === undefined ? Promise.resolve(iterator) : Promise.reject(failure)) as QueryResult<T>;
  promise.catch(() => undefined);
  promise[Symbol.asyncIterator] = async function* () {
    if (failure !== undefined) throw failure;
    yield* items;
  };
  return promise;
}
