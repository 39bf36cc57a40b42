import { raceAbort } from '../core/abort.js';
import { ValidationError, asError } from '../core/errors.js';
import { PayloadSourceError } from './errors.js';
import type { PayloadSource } from './types.js';

/** Checks what was passed to `put()` before anything is stored. */
export function checkSource(value: unknown): PayloadSource {
  if (value instanceof Uint8Array) return value;
  if (
    typeof value === 'object' &&
    value !== null &&
    (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' ||
      typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function')
  ) {
    return value as PayloadSource;
  }
  throw new ValidationError(
    'payload',
    'must be a Uint8Array (or Buffer), or an iterable or async iterable of them (e.g. a file read stream)',
    typeof value === 'string' ? 'Encode text first, e.g. new TextEncoder().encode(text).' : undefined,
  );
}

/** How far reading a payload got: bytes so far, and the source's own failure, if any. */
export interface SourceProgress {
  bytes: number;
  failure: PayloadSourceError | ValidationError | undefined;
}

/**
 * The payload's bytes chunk by chunk, counted; stops at the signal. A failure of the source is recorded (libraries
 * downstream may replace it by their own error) and thrown as a `PayloadSourceError`.
 */
export async function* readSource(source: PayloadSource, progress: SourceProgress, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    progress.bytes = source.byteLength;
    yield source;
    return;
  }
  const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<Uint8Array>)[Symbol.iterator]();
  let finished = false;
  try {
    for (;;) {
      signal.throwIfAborted();
      let next: IteratorResult<Uint8Array>;
      try {
        // A source that never yields must not hold the call (or close()) past its signal.
        next = await raceAbort(Promise.resolve(iterator.next()), signal, () => asError(signal.reason));
      } catch (error) {
        if (signal.aborted) throw error;
        finished = true;
        progress.failure = new PayloadSourceError(error instanceof Error ? error.message : String(error), error);
        throw progress.failure;
      }
      if (next.done === true) {
        finished = true;
        return;
      }
      const chunk: unknown = next.value;
      if (!(chunk instanceof Uint8Array)) {
        progress.failure = new ValidationError(
          'payload',
          `chunk ${progress.bytes === 0 ? 'at the start' : `after ${progress.bytes} bytes`} is not a Uint8Array`,
          typeof chunk === 'string' ? 'Read streams without an encoding, so that they yield Buffers.' : undefined,
        );
        throw progress.failure;
      }
      progress.bytes += chunk.byteLength;
      if (chunk.byteLength > 0) yield chunk;
    }
  } finally {
    // Ends the source when reading stopped early (a stream is destroyed). Not awaited: a generator that is stuck
    // would only finish its return() after its pending step, which may never come.
    if (!finished) Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
