/** Defaults and limits shared by both stores. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** `get()` refuses larger payloads unless told otherwise: 64 MiB. */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/** The largest `maxBytes`: `get()` returns one buffer. */
export const MAX_BYTES_LIMIT = 2 ** 31 - 1;
