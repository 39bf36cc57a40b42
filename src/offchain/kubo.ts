/**
 * `KuboStore`: payloads on a Kubo (go-ipfs) node, through its RPC API with kubo-rpc-client.
 *
 * kubo-rpc-client's own `timeout` has no effect on the client side and its error classes are not exported, so each
 * call gets its signal from `CallScope` and errors are recognised by `name`, `response.status` and Kubo's message.
 * Reads go block by block (`block/get`), each block checked against its CID here: the bytes `get()` returns are
 * right even when the node (or anything between) is not trusted.
 */
import type { CID } from 'multiformats/cid';
import type { KuboRPCClient } from 'kubo-rpc-client';
import { TwinLedgerError, ValidationError } from '../core/errors.js';
import { checkedHttpBaseUrl } from '../core/endpoint.js';
import type { Credentials } from '../core/http.js';
import { type Logger, redactingLogger, silentLogger } from '../core/logger.js';
import { type CallOptions, durationMs, integerOption, showValue } from '../core/options.js';
import { Redactor } from '../core/redact.js';
import { CallScope } from './call.js';
import { cidText, parseCid, resolveCidOptions, validateCidOptions } from './cid.js';
import { type FetchBlock, payloadSize, readCheckedPayload } from './dag.js';
import { DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS, MAX_BYTES_LIMIT } from './defaults.js';
import { PayloadNotFoundError, StoreRequestError, StoreUnavailableError } from './errors.js';
import { loadKuboClient } from './modules.js';
import { checkSource, readSource, type SourceProgress } from './source.js';
import type { CidOptions, PayloadGetOptions, PayloadSource, PayloadStat, PayloadStore, PayloadPutOptions, StoredPayload } from './types.js';

export interface KuboStoreOptions {
  /** Kubo's RPC API (its `Addresses.API`), e.g. `http://127.0.0.1:5001`; `/api/v0` is added. Not the gateway. */
  url: string;
  /** For a node with `API.Authorizations`: sent as the `Authorization` header, masked in logs and errors. */
  credentials?: Credentials;
  /** How payloads become CIDs; default Kubo's `ipfs add` defaults. Always sent explicitly, whatever the node's `Import.*` says. */
  cid?: CidOptions;
  /** Default deadline of each call. Default 30 000 ms. */
  timeoutMs?: number;
  /** Default size limit of `get()`. Default 67 108 864 (64 MiB). */
  maxBytes?: number;
  /**
   * Only use blocks the node has: a missing payload is a `PayloadNotFoundError` at once. Default false: the node
   * looks for missing blocks in the IPFS network until the call's deadline (`TimeoutError`).
   */
  offline?: boolean;
  logger?: Logger;
  /** Shared with the rest of the SDK so that secrets given anywhere are masked everywhere. */
  redactor?: Redactor;
}

export interface ImportCarOptions extends CallOptions {
  /** Pin the CAR's roots (recursively). Default true, as `ipfs dag import`. */
  pin?: boolean;
}

const NOT_FOUND = /not found|could not find|no such/i;
const NOT_PINNED = /not pinned/i;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
]);

/** The fields kubo-rpc-client's errors carry (its classes are not exported). */
interface RpcError {
  name?: string;
  message?: string;
  response?: { status?: number };
  cause?: { code?: string; message?: string };
}

/** Options kubo-rpc-client passes on as query parameters, for Kubo flags its types do not list. */
type RpcOptions = { signal: AbortSignal } & Record<string, string | number | boolean | AbortSignal | undefined>;

function authorization(credentials: unknown, redactor: Redactor): string | undefined {
  if (credentials === undefined) return undefined;
  const wrong = () =>
    new ValidationError('credentials', 'must be { type: "basic", username, password } or { type: "bearer", token } with non-empty strings');
  if (typeof credentials !== 'object' || credentials === null) throw wrong();
  const given = credentials as Credentials;
  if (given.type === 'basic') {
    if (typeof given.username !== 'string' || typeof given.password !== 'string' || given.username === '') throw wrong();
    redactor.addSecret(given.password);
    const token = Buffer.from(`${given.username}:${given.password}`, 'utf8').toString('base64');
    redactor.addSecret(token);
    return `Basic ${token}`;
  }
  if (given.type === 'bearer') {
    if (typeof given.token !== 'string' || given.token === '') throw wrong();
    redactor.addSecret(given.token);
    return `Bearer ${given.token}`;
  }
  throw wrong();
}

/**
 * Payloads on a Kubo node. `put` adds with pinning and with the CID options spelled out (`--cid-version`,
 * `--raw-leaves`, `--chunker=size-N`, `--max-file-links`, sha2-256, balanced layout), so the CIDs equal those of
 * `EmbeddedStore` and `ipfs add` whatever the node's `Import.*` configuration. No connection is held: `close()` ends
 * the calls in progress and is final.
 */
export class KuboStore implements PayloadStore {
  /** The RPC API address, normalised. */
  readonly url: string;
  private readonly cid: CidOptions;
  private readonly maxBytes: number;
  private readonly offline: boolean;
  private readonly logger: Logger;
  private readonly redactor: Redactor;
  private readonly headers: Record<string, string>;
  private readonly scope: CallScope;
  private client: Promise<KuboRPCClient> | undefined;

  constructor(options: KuboStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'must be an object with url');
    this.url = checkedHttpBaseUrl('url', options.url, {
      example: 'http://127.0.0.1:5001',
      credentialsIn: 'the `credentials` option',
    });
    this.redactor = options.redactor ?? new Redactor();
    const auth = authorization(options.credentials, this.redactor);
    this.headers = auth === undefined ? {} : { authorization: auth };
    this.cid = validateCidOptions('cid', options.cid);
    this.maxBytes = integerOption('maxBytes', options.maxBytes, { min: 0, max: MAX_BYTES_LIMIT }, DEFAULT_MAX_BYTES);
    if (options.offline !== undefined && typeof options.offline !== 'boolean') {
      throw new ValidationError('offline', `must be a boolean, got ${showValue(options.offline)}`);
    }
    this.offline = options.offline ?? false;
    this.logger = redactingLogger(options.logger ?? silentLogger, this.redactor);
    this.scope = new CallScope('KuboStore', durationMs('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS));
  }

  async put(payload: PayloadSource, options?: PayloadPutOptions): Promise<StoredPayload> {
    const source = checkSource(payload);
    const cid = resolveCidOptions(this.cid, validateCidOptions('options.cid', options?.cid));
    if (options?.pin !== undefined && typeof options.pin !== 'boolean') throw new ValidationError('options.pin', 'must be a boolean');
    return this.scope.run('put', options, async (signal) => {
      const client = await this.rpc();
      const started = performance.now();
      const progress: SourceProgress = { bytes: 0, failure: undefined };
      let root: CID;
      try {
        const added = await client.add(readSource(source, progress, signal), {
          cidVersion: cid.version,
          rawLeaves: cid.rawLeaves,
          chunker: `size-${cid.chunkSize}`,
          hashAlg: 'sha2-256',
          trickle: false,
          wrapWithDirectory: false,
          pin: options?.pin ?? true,
          ...this.flags(signal, { maxFileLinks: cid.maxLinks }),
        });
        root = added.cid;
      } catch (error) {
        if (progress.failure !== undefined) throw progress.failure;
        throw this.failure('put', error, signal);
      }
      const result = { cid: cidText(root), size: progress.bytes };
      this.logger.debug('offchain put', { store: 'kubo', ...result, ms: Math.round(performance.now() - started) });
      return result;
    });
  }

  async get(cid: string, options?: PayloadGetOptions): Promise<Uint8Array> {
    const root = parseCid('cid', cid);
    const maxBytes = integerOption('options.maxBytes', options?.maxBytes, { min: 0, max: MAX_BYTES_LIMIT }, this.maxBytes);
    return this.scope.run(`get ${cidText(root)}`, options, async (signal) => {
      const client = await this.rpc();
      return readCheckedPayload(root, this.fetcher(client), 'kubo', maxBytes, signal, this.logger);
    });
  }

  /** Whether the node has the payload's root block itself (never asks the network). */
  async has(cid: string, options?: CallOptions): Promise<boolean> {
    const root = parseCid('cid', cid);
    return this.scope.run(`has ${cidText(root)}`, options, async (signal) => {
      const client = await this.rpc();
      try {
        await client.block.stat(root, this.flags(signal, { offline: true }));
        return true;
      } catch (error) {
        if (!signal.aborted && notFound(error)) return false;
        throw this.failure(`has ${cidText(root)}`, error, signal);
      }
    });
  }

  async pin(cid: string, options?: CallOptions): Promise<void> {
    const root = parseCid('cid', cid);
    const what = `pin ${cidText(root)}`;
    await this.scope.run(what, options, async (signal) => {
      const client = await this.rpc();
      try {
        await client.pin.add(root, { recursive: true, ...this.flags(signal, this.offline ? { offline: true } : {}) });
      } catch (error) {
        if (!signal.aborted && notFound(error)) throw new PayloadNotFoundError(cidText(root), 'kubo');
        throw this.failure(what, error, signal);
      }
    });
  }

  async unpin(cid: string, options?: CallOptions): Promise<void> {
    const root = parseCid('cid', cid);
    const what = `unpin ${cidText(root)}`;
    await this.scope.run(what, options, async (signal) => {
      const client = await this.rpc();
      try {
        await client.pin.rm(root, { recursive: true, ...this.flags(signal) });
      } catch (error) {
        if (!signal.aborted && NOT_PINNED.test((error as RpcError).message ?? '')) return;
        throw this.failure(what, error, signal);
      }
    });
  }

  async stat(cid: string, options?: CallOptions): Promise<PayloadStat> {
    const root = parseCid('cid', cid);
    const what = `stat ${cidText(root)}`;
    return this.scope.run(what, options, async (signal) => {
      const client = await this.rpc();
      const size = await payloadSize(root, this.fetcher(client), 'kubo', signal);
      let pinned = false;
      try {
        for await (const found of client.pin.ls({ paths: root, type: 'recursive', ...this.flags(signal) })) {
          if (found.cid.equals(root)) pinned = true;
        }
      } catch (error) {
        if (signal.aborted || !NOT_PINNED.test((error as RpcError).message ?? '')) throw this.failure(what, error, signal);
      }
      return { cid: cidText(root), size, pinned };
    });
  }

  /**
   * Imports a CAR file (e.g. from `EmbeddedStore.exportCar()`) as `ipfs dag import` does; resolves with the roots
   * Kubo pinned (none with `pin: false`).
   */
  async importCar(car: PayloadSource, options?: ImportCarOptions): Promise<string[]> {
    const source = checkSource(car);
    if (options?.pin !== undefined && typeof options.pin !== 'boolean') throw new ValidationError('options.pin', 'must be a boolean');
    return this.scope.run('importCar', options, async (signal) => {
      const client = await this.rpc();
      const progress: SourceProgress = { bytes: 0, failure: undefined };
      const roots: string[] = [];
      try {
        for await (const { root } of client.dag.import(readSource(source, progress, signal), {
          pinRoots: options?.pin ?? true,
          ...this.flags(signal),
        })) {
          if (root.pinErrorMsg) throw new StoreRequestError(`importCar: pinning ${cidText(root.cid)}`, 200, root.pinErrorMsg);
          roots.push(cidText(root.cid));
        }
      } catch (error) {
        if (progress.failure !== undefined) throw progress.failure;
        throw this.failure('importCar', error, signal);
      }
      this.logger.debug('offchain importCar', { store: 'kubo', roots, bytes: progress.bytes });
      return roots;
    });
  }

  /** Ends the calls in progress (`ClientClosedError`). Final. */
  async close(): Promise<void> {
    this.scope.close();
    await this.scope.settled();
  }

  private rpc(): Promise<KuboRPCClient> {
    this.client ??= loadKuboClient().then(({ create }) => create({ url: this.url, headers: this.headers }));
    return this.client;
  }

  private flags(signal: AbortSignal, extra: Record<string, string | number | boolean> = {}): RpcOptions {
    return { signal, ...extra };
  }

  private fetcher(client: KuboRPCClient): FetchBlock {
    return async (cid, signal) => {
      try {
        return await client.block.get(cid, this.flags(signal, this.offline ? { offline: true } : {}));
      } catch (error) {
        if (!signal.aborted && notFound(error)) return undefined;
        throw this.failure(`block/get ${cidText(cid)}`, error, signal);
      }
    };
  }

  /** kubo-rpc-client's and fetch's errors as the store's typed errors. */
  private failure(what: string, error: unknown, signal: AbortSignal): Error {
    if (error instanceof TwinLedgerError || signal.aborted)
      return error instanceof Error ? error : new StoreRequestError(what, undefined, String(error));
    const rpc = (error ?? {}) as RpcError;
    const message = this.redactor.redactText(rpc.message ?? String(error)).trim();
    if (rpc.name === 'HTTPError') {
      const status = rpc.response?.status;
      const hint =
        status === 401 || status === 403
          ? 'Kubo refused the credentials: check the credentials option against the node’s API.Authorizations.'
          : status === 404 || status === 405
            ? `Check url: it must be Kubo's RPC API (Addresses.API, e.g. http://127.0.0.1:5001), not its gateway.`
            : undefined;
      return new StoreRequestError(what, status, message, hint);
    }
    const code = rpc.cause?.code;
    if ((rpc.name === 'TypeError' && message === 'fetch failed') || (code !== undefined && NETWORK_CODES.has(code))) {
      const why = code ?? rpc.cause?.message;
      return new StoreUnavailableError(
        'kubo',
        `no answer from ${this.url}${why === undefined ? '' : ` (${this.redactor.redactText(why)})`}`,
        'Start the Kubo daemon (ipfs daemon) or fix url: it is the RPC API address, Addresses.API in the node’s config.',
        error,
      );
    }
    return new StoreRequestError(what, undefined, message);
  }
}

/** Kubo's own "not found" answer (an RPC error, status 500), not a 404 from something that is not the RPC API. */
function notFound(error: unknown): boolean {
  const rpc = error as RpcError | undefined;
  return rpc?.name === 'HTTPError' && rpc.response?.status !== 404 && NOT_FOUND.test(rpc.message ?? '');
}
