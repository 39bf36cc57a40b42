import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkedHttpBaseUrl } from '../core/endpoint.js';
import { AbortError, ClientClosedError, HttpError, NetworkError, TimeoutError, ValidationError, asError } from '../core/errors.js';
import { TypedEmitter } from '../core/events.js';
import { HttpClient } from '../core/http.js';
import { type Logger, redactingLogger, silentLogger } from '../core/logger.js';
import { Redactor } from '../core/redact.js';
import { ExponentialBackoff, type RetryPolicy, sleep } from '../core/retry.js';
import type { TlsOptions } from '../core/tls.js';
import { DeliveredStore } from './delivered-store.js';
import { LedgerError, RelayStateError, UndeliverableError } from './errors.js';
import { type RelayLock, acquireRelayLock } from './relay-lock.js';
import { type Ledger, type LedgerEvent, LEDGER_EVENTS, type TelemetryPublishRequested } from './types.js';

export interface RelayDeviceCredentials {
  /** Hono auth-id; the relay logs in as `<authId>@<tenant>`. */
  authId: string;
  password: string;
}

/**
 * Where device credentials come from:
 * - a map keyed `<tenant>/<deviceId>` (the relay's own configuration),
 * - a function (your secret store),
 * - `'ledger'`: `GetCredentials` evaluated through the Ledger (the relay's identity must belong to the
 *   device's owner organisation).
 */
export type RelayCredentialsSource =
  | Readonly<Record<string, RelayDeviceCredentials>>
  | ((tenant: string, deviceId: string, signal: AbortSignal) => Promise<RelayDeviceCredentials | undefined>)
  | 'ledger';

export interface TelemetryRelayOptions {
  ledger: Ledger;
  /**
   * The Hono HTTP adapter (device side), e.g. Cloud2Edge's `HTTP_ADAPTER_BASE_URL`. A URL with user info
   * (`user:password@`) is refused: device passwords come from `credentials`.
   */
  httpAdapter: { baseUrl: string; tls?: TlsOptions };
  /**
   * Folder for the relay's durable state: `checkpoint.json` (event stream position), `delivered.log`
   * (transaction IDs already delivered) and `relay.lock`. One relay per folder.
   */
  stateDir: string;
  /** Default `'ledger'`. */
  credentials?: RelayCredentialsSource;
  /**
   * Organisations (MSP IDs) whose devices this relay may drive. Before posting, the relay reads the device's
   * on-chain record (`getDevice`, cached per device) and refuses an event for a device owned by any other
   * organisation: logged, emitted as `undeliverable`, not posted, checkpointed past. Default: the MSP ID of
   * the ledger's own identity (`ledger.mspId`, e.g. `FabricLedger`'s `mspId`); when the ledger does not know
   * it, this option is required.
   */
  ownerMsp?: string | readonly string[];
  /**
   * Block to start at on the very first run (no checkpoint yet). Default: the chain height at the first
   * start, stored in `checkpoint.json` before the stream opens (nothing committed after that first start is
   * missed, even across restarts before the first event).
   */
  startBlock?: bigint;
  /** `QoS-Level` header: 1 (default) makes the adapter confirm that the message was forwarded (else 503). */
  qos?: 0 | 1;
  /**
   * Retries of one POST on 503, 429 and network errors. Default: exponential backoff, 6 attempts, 500 ms
   * doubling to at most 30 s, full jitter.
   */
  retry?: RetryPolicy;
  /** Deadline of one delivery attempt, its retries included. Default 60 000 ms. */
  timeoutMs?: number;
  /**
   * After `retry` gave up on a transient failure (network error, timeout, 503, 429, 408, 502, 504, or a retryable
   * ledger error while reading credentials or the device record), wait this long and deliver the same event
   * again. The relay never skips an event because the adapter was unavailable. Any other failure makes the
   * event undeliverable. Default 30 000 ms.
   */
  redeliveryDelayMs?: number;
  /** Delivered transaction IDs remembered (beyond the checkpoint). Default 100 000. */
  deliveredCapacity?: number;
  logger?: Logger;
  redactor?: Redactor;
}

export interface RelayCommand {
  /** `hono-command`: the command name. */
  name: string;
  /** `hono-cmd-req-id`; absent for one-way commands. */
  requestId: string | undefined;
  contentType: string | undefined;
  payload: string;
}

export interface RelayDelivery {
  transactionId: string;
  blockNumber: bigint;
  tenant: string;
  deviceId: string;
  sha256: string;
  status: number;
  /** A command the adapter handed back because the request carried `hono-ttd`. */
  command?: RelayCommand;
}

export interface RelaySkip {
  transactionId: string;
  reason: 'already-delivered';
}

export interface RelayFailure {
  transactionId: string;
  blockNumber: bigint;
  tenant?: string;
  deviceId?: string;
  error: Error;
}

export interface RelayStats {
  delivered: number;
  skipped: number;
  undeliverable: number;
  /** Deliveries started again after the retry policy gave up on a transient failure. */
  redeliveries: number;
}

/** The relay's events (see `TypedEmitter`: one object each; `error` only when someone listens). */
export interface RelayEvents {
  /** The adapter accepted the command (2xx); its transaction ID is recorded. */
  delivered: [RelayDelivery];
  /** The transaction was delivered before (e.g. replayed after a restart). */
  skipped: [RelaySkip];
  /**
   * Not deliverable (bad payload, a device of another organisation, no or unreadable credentials, an HTTP
   * status other than 2xx/408/429/502/503/504); `error` says why. Logged with the transaction ID; the relay moves on.
   */
  undeliverable: [RelayFailure];
  /** The relay stopped because of an error it cannot recover from. */
  error: [Error];
  started: [];
  stopped: [];
}

/** Adapter answers that may clear by themselves (network errors and timeouts may too). */
// 502/504: a proxy or ingress in front of the adapter answers them while the adapter restarts.
const TRANSIENT_STATUS: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

/** Worth delivering again later: the failure may clear by itself. */
function isTransient(error: unknown): boolean {
  if (error instanceof UndeliverableError) return false;
  if (error instanceof NetworkError || error instanceof TimeoutError) return true;
  if (error instanceof HttpError) return TRANSIENT_STATUS.has(error.status);
  if (error instanceof LedgerError) return error.retryable;
  return false;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** State folders of relays of this process (a pid check cannot tell them apart). */
const heldLocks = new Set<string>();

/**
 * Follows `TelemetryPublishRequested` chaincode events and posts each command to the Hono HTTP adapter
 * as the device (`POST /telemetry`, basic auth `authId@tenant`), once per transaction ID, also across
 * restarts, and only for devices that `ownerMsp` owns on the ledger. This is the off-chain half of the
 * paper's `PublishTelemetryData`: the chaincode cannot make the call itself, because every endorsing peer would.
 *
 * ```ts
 * const relay = new TelemetryRelay({ ledger, httpAdapter: { baseUrl }, stateDir: '/var/lib/twinledger-relay' });
 * relay.on('delivered', (d) => logger.info('delivered', { tx: d.transactionId, status: d.status }));
 * await relay.start();
 * // ...
 * await relay.close();
 * ```
 *
 * `stop()` pauses (`start()` resumes from the checkpoint); `close()` stops and releases the HTTP connections, and is
 * final, as for every client of the SDK. The ledger you passed in stays yours to close.
 */
export class TelemetryRelay extends TypedEmitter<RelayEvents> {
  private readonly http: HttpClient;
  private readonly logger: Logger;
  private readonly redactor: Redactor;
  private readonly credentialCache = new Map<string, RelayDeviceCredentials>();
  private readonly owners: ReadonlySet<string>;
  /** On-chain owner per `<tenant>/<deviceId>`; the chaincode never changes a device's owner. */
  private readonly ownerCache = new Map<string, string>();
  private readonly counters: RelayStats = { delivered: 0, skipped: 0, undeliverable: 0, redeliveries: 0 };
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private store: DeliveredStore | undefined;
  private heldLock: RelayLock | undefined;
  private ended = false;
  private closed = false;

  constructor(private readonly options: TelemetryRelayOptions) {
    const redactor = options.redactor ?? new Redactor();
    const logger = redactingLogger(options.logger ?? silentLogger, redactor);
    super('telemetry relay', logger);
    this.redactor = redactor;
    this.logger = logger;
    if (!options.ledger) throw new ValidationError('ledger', 'is required');
    if (!options.stateDir)
      throw new ValidationError('stateDir', 'is required: a folder for the checkpoint and the delivered-transactions log');
    if (!options.httpAdapter?.baseUrl) throw new ValidationError('httpAdapter.baseUrl', 'is required, e.g. http://192.168.1.10:18080');
    const baseUrl = checkedHttpBaseUrl('httpAdapter.baseUrl', options.httpAdapter.baseUrl, {
      example: 'http://192.168.1.10:18080 (HTTP_ADAPTER_BASE_URL)',
      credentialsIn: 'the `credentials` option (per device)',
    });
    const configured = options.ownerMsp ?? options.ledger.mspId;
    const owners = configured === undefined ? [] : typeof configured === 'string' ? [configured] : [...configured];
    if (owners.length === 0 || owners.some((owner) => typeof owner !== 'string' || owner === '')) {
      throw new ValidationError(
        'ownerMsp',
        options.ownerMsp === undefined
          ? 'is required: the ledger does not know its MSP ID'
          : 'must be a non-empty MSP ID or a list of them',
        'Set ownerMsp to the MSP ID(s) of the organisation(s) whose devices this relay may post for, e.g. "Org1MSP".',
      );
    }
    this.owners = new Set(owners);
    const source = options.credentials ?? 'ledger';
    if (typeof source === 'object') {
      for (const [key, value] of Object.entries(source)) {
        if (!/^[^/]+\/[^/]+$/.test(key)) throw new ValidationError(`credentials["${key}"]`, 'keys are "<tenant>/<deviceId>"');
        this.redactor.addSecret(value.password);
      }
    }
    this.http = new HttpClient({
      baseUrl,
      service: 'hono-http-adapter',
      tls: options.httpAdapter.tls,
      timeoutMs: options.timeoutMs ?? 60_000,
      retry: options.retry ?? new ExponentialBackoff({ maxAttempts: 6, initialDelayMs: 500, maxDelayMs: 30_000 }),
      logger: this.logger,
      redactor: this.redactor,
    });
  }

  get stats(): RelayStats {
    return { ...this.counters };
  }

  /** True between `start()` and `stop()`, unless the relay stopped on an error (see the `error` event). */
  get running(): boolean {
    return this.loop !== undefined && !this.ended;
  }

  /** Takes the state folder's lock, opens the delivered log and starts following events. */
  async start(): Promise<void> {
    if (this.closed) throw new ClientClosedError('telemetry relay', 'start()');
    if (this.loop)
      throw new RelayStateError('start(): the relay is already running', 'Call stop() and await it before starting the relay again.');
    await mkdir(this.options.stateDir, { recursive: true });
    await this.lock();
    try {
      this.store = await DeliveredStore.open(join(this.options.stateDir, 'delivered.log'), { capacity: this.options.deliveredCapacity });
    } catch (error) {
      await this.unlock();
      throw error;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.ended = false;
    this.loop = this.follow(controller.signal).then(
      () => {
        this.ended = true;
      },
      (error: unknown) => {
        this.ended = true;
        if (controller.signal.aborted) return;
        const failure = asError(error);
        this.logger.error('telemetry relay stopped', { reason: failure.message });
        if (this.listenerCount('error') > 0) this.emit('error', failure);
      },
    );
    this.emit('started');
  }

  /** Stops following; a POST in flight is abandoned (its event is not checkpointed, so it is retried next time). */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.controller?.abort(new AbortError('telemetry relay'));
    await this.loop;
    this.loop = undefined;
    await this.store?.close();
    this.store = undefined;
    await this.unlock();
    this.emit('stopped');
  }

  /** `stop()`, then closes the HTTP connections to the adapter. Idempotent and final: `start()` afterwards throws `ClientClosedError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
    await this.http.close();
  }

  /** Takes `relay.lock` (see `acquireRelayLock`); relays of this process are told apart here, not by pid. */
  private async lock(): Promise<void> {
    const key = resolve(this.options.stateDir);
    if (heldLocks.has(key)) {
      throw new ValidationError(
        'stateDir',
        `another relay of this process uses ${this.options.stateDir}`,
        'Run one relay per state folder.',
      );
    }
    heldLocks.add(key);
    try {
      this.heldLock = await acquireRelayLock(this.options.stateDir);
    } catch (error) {
      heldLocks.delete(key);
      throw error;
    }
  }

  private async unlock(): Promise<void> {
    const held = this.heldLock;
    this.heldLock = undefined;
    if (!held) return;
    try {
      await held.release();
    } finally {
      heldLocks.delete(resolve(this.options.stateDir));
    }
  }

  private async follow(signal: AbortSignal): Promise<void> {
    const events = this.options.ledger.events({
      checkpoint: join(this.options.stateDir, 'checkpoint.json'),
      names: [LEDGER_EVENTS.telemetryPublishRequested],
      startBlock: this.options.startBlock,
      signal,
    });
    for await (const event of events) {
      await this.handle(event, signal);
      if (signal.aborted) return;
    }
  }

  /** Returns once the event is delivered, known as delivered, or found undeliverable. */
  private async handle(event: LedgerEvent, signal: AbortSignal): Promise<void> {
    const store = this.store as DeliveredStore;
    let request: TelemetryPublishRequested;
    try {
      request = parseRequest(event);
    } catch (error) {
      this.fail(event, undefined, error as Error);
      return;
    }
    if (store.has(event.transactionId)) {
      this.counters.skipped += 1;
      this.logger.debug('telemetry already delivered', { transactionId: event.transactionId });
      this.emit('skipped', { transactionId: event.transactionId, reason: 'already-delivered' });
      return;
    }
    for (;;) {
      let delivery: RelayDelivery;
      try {
        delivery = await this.deliver(event, request, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        if (!isTransient(error)) {
          this.fail(event, request, asError(error));
          return;
        }
        const delay = this.options.redeliveryDelayMs ?? 30_000;
        this.counters.redeliveries += 1;
        this.logger.warn('telemetry delivery failed; trying again', {
          transactionId: event.transactionId,
          deviceId: request.deviceId,
          delayMs: delay,
          reason: (error as Error).message,
        });
        await sleep(delay, signal);
        continue;
      }
      // The exactly-once window: a crash between the adapter's 2xx and this fsync delivers once more after restart.
      // A failure to record is fatal (the relay stops with an error) rather than a reason to post again.
      await store.add(event.transactionId);
      this.counters.delivered += 1;
      this.logger.info('telemetry delivered', {
        transactionId: event.transactionId,
        tenant: request.tenant,
        deviceId: request.deviceId,
        status: delivery.status,
      });
      this.emit('delivered', delivery);
      return;
    }
  }

  private fail(event: LedgerEvent, request: TelemetryPublishRequested | undefined, error: Error): void {
    this.counters.undeliverable += 1;
    this.logger.error('telemetry undeliverable; skipping it', {
      transactionId: event.transactionId,
      blockNumber: event.blockNumber.toString(),
      deviceId: request?.deviceId,
      reason: error.message,
    });
    this.emit('undeliverable', {
      transactionId: event.transactionId,
      blockNumber: event.blockNumber,
      tenant: request?.tenant,
      deviceId: request?.deviceId,
      error,
    });
  }

  private async credentialsFor(tenant: string, deviceId: string, signal: AbortSignal, fresh = false): Promise<RelayDeviceCredentials> {
    const key = `${tenant}/${deviceId}`;
    const cached = fresh ? undefined : this.credentialCache.get(key);
    if (cached) return cached;
    const source = this.options.credentials ?? 'ledger';
    let found: RelayDeviceCredentials | undefined;
    if (source === 'ledger') {
      let stored;
      try {
        stored = await this.options.ledger.getCredentials(tenant, deviceId, { signal });
      } catch (error) {
        // The chaincode refusing (e.g. FORBIDDEN) or the gateway denying access will not change by waiting.
        if (signal.aborted || isTransient(error)) throw error;
        throw new UndeliverableError(`cannot read the credentials of ${deviceId}: ${messageOf(error)}`, {
          cause: error,
          hint: "The relay's identity must belong to the device's owner organisation (GetCredentials is owner-only).",
        });
      }
      found = stored ? { authId: stored.authId, password: stored.password } : undefined;
    } else if (typeof source === 'function') {
      try {
        found = await source(tenant, deviceId, signal);
      } catch (error) {
        if (signal.aborted || isTransient(error)) throw error;
        // Its message is the caller's text: keep known secrets out of it.
        throw new UndeliverableError(
          `the credentials function failed for device ${deviceId} of tenant ${tenant}: ${this.redactor.redactText(messageOf(error))}`,
          {
            cause: error,
            hint: 'Throw a NetworkError or TimeoutError from the credentials function for a failure that should be retried.',
          },
        );
      }
    } else {
      found = source[key];
    }
    if (!found) {
      throw new UndeliverableError(
        `no credentials for device ${deviceId} of tenant ${tenant} (${source === 'ledger' ? 'none set on the ledger' : `no entry "${key}"`})`,
      );
    }
    this.redactor.addSecret(found.password);
    this.credentialCache.set(key, found);
    return found;
  }

  /** Refuses a device whose on-chain owner is not one of `ownerMsp`. */
  private async checkOwner(tenant: string, deviceId: string, signal: AbortSignal): Promise<void> {
    const key = `${tenant}/${deviceId}`;
    let owner = this.ownerCache.get(key);
    if (owner === undefined) {
      let device;
      try {
        device = await this.options.ledger.getDevice(tenant, deviceId, { signal });
      } catch (error) {
        if (signal.aborted || isTransient(error)) throw error;
        throw new UndeliverableError(`cannot read the device record of ${deviceId} of tenant ${tenant}: ${messageOf(error)}`, {
          cause: error,
        });
      }
      if (!device)
        throw new UndeliverableError(`device ${deviceId} of tenant ${tenant} is not registered on the ledger`, {
          code: 'relay.unknown_device',
        });
      owner = device.owner;
      this.ownerCache.set(key, owner);
    }
    if (!this.owners.has(owner)) {
      throw new UndeliverableError(
        `device ${deviceId} of tenant ${tenant} belongs to ${owner} on the ledger, not to ${[...this.owners].join(' or ')}; the relay does not post for it`,
        { code: 'relay.foreign_device', hint: `If this relay should drive ${owner}'s devices, add "${owner}" to the relay's ownerMsp.` },
      );
    }
  }

  private async deliver(event: LedgerEvent, request: TelemetryPublishRequested, signal: AbortSignal): Promise<RelayDelivery> {
    await this.checkOwner(request.tenant, request.deviceId, signal);
    try {
      return await this.post(event, request, signal, false);
    } catch (error) {
      // Cached credentials may be outdated (SetCredentials since): look them up again once before giving up.
      const unauthorized = error instanceof UndeliverableError && error.cause instanceof HttpError && error.cause.status === 401;
      if (!unauthorized || typeof this.options.credentials === 'object') throw error;
      this.logger.info('HTTP adapter answered 401; looking the device credentials up again', { deviceId: request.deviceId });
      return this.post(event, request, signal, true);
    }
  }

  private async post(event: LedgerEvent, request: TelemetryPublishRequested, signal: AbortSignal, fresh: boolean): Promise<RelayDelivery> {
    const credentials = await this.credentialsFor(request.tenant, request.deviceId, signal, fresh);
    const token = Buffer.from(`${credentials.authId}@${request.tenant}:${credentials.password}`, 'utf8').toString('base64');
    this.redactor.addSecret(token);
    const headers: Record<string, string> = { authorization: `Basic ${token}`, 'qos-level': String(this.options.qos ?? 1) };
    if (request.ttd !== null) headers['hono-ttd'] = String(request.ttd);
    try {
      const response = await this.http.request<string>({
        method: 'POST',
        path: '/telemetry',
        body: request.command,
        contentType: 'application/json',
        headers,
        // The same telemetry again is harmless for twin modify/merge commands, and the relay must not lose it.
        idempotent: true,
        responseType: 'text',
        signal,
      });
      const name = response.headers['hono-command'];
      const command =
        name === undefined
          ? undefined
          : {
              name,
              requestId: response.headers['hono-cmd-req-id'],
              contentType: response.headers['content-type'],
              payload: typeof response.data === 'string' ? response.data : '',
            };
      return {
        transactionId: event.transactionId,
        blockNumber: event.blockNumber,
        tenant: request.tenant,
        deviceId: request.deviceId,
        sha256: request.sha256,
        status: response.status,
        ...(command ? { command } : {}),
      };
    } catch (error) {
      // 503, 408, 429, 502, 504 and network errors may clear by themselves; any other status will not get better by trying again.
      if (error instanceof HttpError && !TRANSIENT_STATUS.has(error.status)) {
        throw new UndeliverableError(`the HTTP adapter refused the telemetry: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }
}

/** Parses and checks an event payload; the command must hash to the SHA-256 the chaincode recorded. */
export function parseRequest(event: LedgerEvent): TelemetryPublishRequested {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(event.payload).toString('utf8'));
  } catch {
    throw new UndeliverableError(`event of transaction ${event.transactionId} is not JSON`);
  }
  const request = value as Partial<TelemetryPublishRequested>;
  for (const field of ['tenant', 'deviceId', 'command', 'sha256', 'txId'] as const) {
    if (typeof request[field] !== 'string' || request[field] === '') {
      throw new UndeliverableError(`event of transaction ${event.transactionId} has no ${field}`);
    }
  }
  if (request.ttd !== null && request.ttd !== undefined && (typeof request.ttd !== 'number' || request.ttd < 1 || request.ttd > 60)) {
    throw new UndeliverableError(`event of transaction ${event.transactionId} has an invalid ttd`);
  }
  const full = request as TelemetryPublishRequested;
  if (full.txId !== event.transactionId) {
    throw new UndeliverableError(`event payload names transaction ${full.txId}, but came with ${event.transactionId}`);
  }
  const digest = createHash('sha256').update(full.command, 'utf8').digest('hex');
  if (digest !== full.sha256) throw new UndeliverableError(`command of transaction ${event.transactionId} does not match its SHA-256`);
  return { ...full, ttd: full.ttd ?? null };
}
