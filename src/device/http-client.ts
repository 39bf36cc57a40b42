import type { Readable } from 'node:stream';
import { AbortError, HttpError, NetworkError, TimeoutError, TwinLedgerError, ValidationError, asError } from '../core/errors.js';
import { HttpClient, type HttpRequest, type HttpResponse, readBody } from '../core/http.js';
import { pathSegment } from '../core/ids.js';
import { validateCallOptions } from '../core/options.js';
import { noRetry, sleep } from '../core/retry.js';
import { BaseDeviceClient, type OutgoingMessage } from './base-client.js';
import { IncomingCommand, type ResponseSender } from './command.js';
import { DeviceClientStateError, DeviceOfflineError, type MessageKind, deviceHttpError } from './errors.js';
import { deviceHint } from './hints.js';
import { OfflineQueue, type Queueable } from './offline-queue.js';
import type { ResolvedHttpOptions } from './options.js';
import { BINARY_CONTENT_TYPE, EMPTY_NOTIFICATION_CONTENT_TYPE } from './payload.js';
import { ReconnectBackoff } from '../core/reconnect-backoff.js';
import type { CallOptions } from '../core/options.js';
import { PendingSend } from './pending-send.js';

/** Shortest time between two command polls that brought no command. */
const MIN_POLL_INTERVAL_MS = 1000;

/** One telemetry message or event on its way to the HTTP adapter. */
class HttpPending extends PendingSend implements Queueable {
  /** Aborts the request when the caller's signal or deadline fires. */
  abort: AbortController | undefined;
  /** Waits for a command (`hono-ttd`) beside the ordered sender. */
  aside = false;

  constructor(
    kind: MessageKind,
    readonly qos: 0 | 1,
    readonly request: HttpRequest,
    readonly onBehalfOf: string | undefined,
    readonly sizeBytes: number,
  ) {
    super(kind);
  }
}

/**
 * Hono HTTP adapter client. Messages go out in order through one sender: network failures and timeouts
 * keep them queued (bounded) and retried with the reconnect policy, 503/429 are retried with the retry
 * policy, everything else fails the message with a typed, hinted error. While a command consumer exists a
 * poll keeps an empty notification with `hono-ttd` open; commands in any answer go to the consumers.
 */
export class HttpDeviceClient extends BaseDeviceClient {
  readonly transport = 'http' as const;
  private readonly http: HttpClient;
  private readonly httpOptions: ResolvedHttpOptions;
  private readonly queue: OfflineQueue<HttpPending>;
  private readonly backoff: ReconnectBackoff;
  /** The command poll's own count: the sender's successes must not reset the poll's growing delay. */
  private readonly pollBackoff: ReconnectBackoff;
  private readonly closing = new AbortController();
  private sender: Promise<void> | undefined;
  private active: HttpPending | undefined;
  /** Requests that wait for a command (`hono-ttd`): sent beside the ordered sender, so they hold up nothing. */
  private readonly waiting = new Map<HttpPending, Promise<void>>();
  private online = true;
  /** While offline: until when QoS 0 messages fail (or drop) without a request. */
  private offlineUntil = 0;
  private poll: AbortController | undefined;
  private pollTask: Promise<void> | undefined;

  constructor(options: ResolvedHttpOptions) {
    super(options);
    this.httpOptions = options;
    this.queue = new OfflineQueue<HttpPending>(options.offlineQueue);
    this.backoff = new ReconnectBackoff(options.reconnect.policy, options.reconnect.stableAfterMs);
    this.pollBackoff = new ReconnectBackoff(options.reconnect.policy, options.reconnect.stableAfterMs);
    this.http = new HttpClient({
      baseUrl: options.baseUrl,
      service: 'hono-http-adapter',
      credentials:
        options.username === undefined ? undefined : { type: 'basic', username: options.username, password: options.password ?? '' },
      timeoutMs: options.timeoutMs,
      // The device layer decides what to retry: it knows QoS, order and the offline queue.
      retry: noRetry,
      tls: options.tls,
      logger: options.logger,
      redactor: options.redactor,
    });
  }

  get queuedMessages(): number {
    return this.queue.size;
  }

  async connect(options: CallOptions = {}): Promise<void> {
    validateCallOptions(options, '');
    if (this.state === 'closed') throw new DeviceClientStateError('closed', 'connect()', 'Create a new client after close().');
    if (this.state === 'connected' || this.state === 'reconnecting') return;
    const reconnected = this.state === 'disconnected';
    this.online = true;
    this.offlineUntil = 0;
    this.backoff.reset();
    this.setState('connected');
    this.emit('connected', { reconnected });
    this.kick();
    if (this.router.consumers > 0) this.startPolling();
  }

  async close(options: CallOptions = {}): Promise<void> {
    validateCallOptions(options, '');
    if (this.state === 'closed') return;
    if (this.state !== 'idle') {
      try {
        await this.waitUntilIdle(
          () => this.queue.size === 0 && this.active === undefined && this.waiting.size === 0,
          'close(): waiting for queued messages',
          options,
          5000,
        );
      } catch {
        // Deadline passed or aborted: close anyway and fail what is left.
      }
    }
    this.setState('closed');
    this.stopPolling();
    this.router.endAll();
    this.closing.abort();
    const closed = new DeviceClientStateError('closed', 'message not sent', 'close() was called before the adapter accepted it.');
    for (const pending of this.queue.drain()) pending.fail(closed);
    this.active?.fail(closed);
    for (const pending of this.waiting.keys()) pending.fail(closed);
    await Promise.allSettled([this.sender, this.pollTask, ...this.waiting.values()]);
    this.backoff.reset();
    await this.http.close();
    this.emit('disconnected', { error: undefined, willReconnect: false });
  }

  protected send(message: OutgoingMessage, options: CallOptions): Promise<void> {
    let pending: HttpPending;
    try {
      const endpoint = message.kind === 'event' ? 'event' : 'telemetry';
      const path =
        message.deviceId === undefined
          ? `/${endpoint}`
          : `/${endpoint}/${pathSegment(this.options.tenant)}/${pathSegment(message.deviceId)}`;
      if (message.properties !== undefined) {
        throw new ValidationError(
          'properties',
          'the HTTP adapter has no property bag',
          'Put the values into the payload, or use the MQTT transport for property bags.',
        );
      }
      this.checkSize(message.kind, message.deviceId === undefined ? 'POST' : 'PUT', path, message.bytes.length, message.deviceId);
      const headers: Record<string, string> = {};
      if (message.kind === 'telemetry' && message.qos === 1) headers['qos-level'] = '1';
      if (message.ttlSeconds !== undefined) headers['hono-ttl'] = String(message.ttlSeconds);
      if (message.ttdSeconds !== undefined) headers['hono-ttd'] = String(message.ttdSeconds);
      const request: HttpRequest = {
        method: message.deviceId === undefined ? 'POST' : 'PUT',
        path,
        body: message.bytes.length === 0 ? '' : message.bytes,
        contentType: message.contentType ?? BINARY_CONTENT_TYPE,
        headers,
        responseType: 'stream',
        idempotent: false,
        timeoutMs: this.options.timeoutMs + (message.ttdSeconds ?? 0) * 1000,
      };
      pending = new HttpPending(message.kind, message.qos, request, message.deviceId, message.bytes.length);
    } catch (error) {
      return Promise.reject(error);
    }
    // Offline QoS 0 fails (or drops) at once until the backoff delay has passed; the next one then tries the adapter.
    if (!this.online && pending.qos === 0 && this.options.offlineQueue.qos0 !== 'queue' && Date.now() < this.offlineUntil) {
      return this.offlineQos0(pending);
    }
    if (message.ttdSeconds !== undefined && message.ttdSeconds > 0 && this.state !== 'idle') {
      if (options.signal !== undefined || options.timeoutMs !== undefined) this.watch(pending, options);
      pending.aside = true;
      const task = this.deliver(pending).finally(() => {
        this.waiting.delete(pending);
        this.notifyIdle();
      });
      this.waiting.set(pending, task);
      return pending.promise;
    }
    try {
      this.queue.push(pending);
    } catch (error) {
      return Promise.reject(error);
    }
    if (options.signal !== undefined || options.timeoutMs !== undefined) this.watch(pending, options);
    this.kick();
    return pending.promise;
  }

  protected sendResponse: ResponseSender = async (command, status, body, options) => {
    this.assertUsable('command response');
    const requestId = command.requestId as string;
    const path =
      command.deviceId === undefined
        ? `/command/res/${pathSegment(requestId)}`
        : `/command/res/${pathSegment(this.options.tenant)}/${pathSegment(command.deviceId)}/${pathSegment(requestId)}`;
    const method = command.deviceId === undefined ? 'POST' : 'PUT';
    this.checkSize('command-response', method, path, body?.bytes.length ?? 0, command.deviceId);
    const request: HttpRequest = {
      method,
      path,
      query: { 'hono-cmd-status': String(status) },
      body: body?.bytes,
      contentType: body?.contentType ?? (body === undefined ? undefined : BINARY_CONTENT_TYPE),
      idempotent: false,
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs,
      signal: options.signal === undefined ? this.closing.signal : AbortSignal.any([options.signal, this.closing.signal]),
    };
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.http.request(request);
        this.markOnline();
        return;
      } catch (error) {
        if (options.signal?.aborted) throw new AbortError(`command response to ${path}`, options.signal.reason);
        if (this.closing.signal.aborted) throw new DeviceClientStateError('closed', 'command response');
        const failure = this.hinted(error, 'command-response', command.deviceId, body?.bytes.length);
        // 503 means nobody waits for this response any more; repeating it cannot help.
        const retryable = failure instanceof NetworkError || (failure instanceof HttpError && failure.status === 429);
        const delay = retryable ? this.options.retry.nextDelayMs(attempt, failure) : undefined;
        if (delay === undefined) throw failure;
        await sleep(delay, request.signal);
      }
    }
  };

  protected consumersChanged(count: number): void {
    if (count > 0) this.startPolling();
    else this.stopPolling();
  }

  // ---- sending ----------------------------------------------------------------------------------------

  private offlineQos0(pending: HttpPending): Promise<void> {
    if (this.options.offlineQueue.qos0 === 'drop') {
      this.emit('dropped', { kind: pending.kind, reason: 'offline (QoS 0)' });
      pending.succeed();
    } else {
      pending.fail(new DeviceOfflineError(pending.kind));
    }
    return pending.promise;
  }

  private watch(pending: HttpPending, options: CallOptions): void {
    const controller = new AbortController();
    pending.abort = controller;
    pending.watch(options, `${pending.kind} ${pending.request.method} ${pending.request.path}`, (error) => {
      this.queue.discard(pending);
      pending.fail(error);
      controller.abort(error);
      this.notifyIdle();
    });
  }

  /** Starts the sender unless it runs already (or the client is not connected yet). */
  private kick(): void {
    if (this.sender !== undefined || this.state === 'idle' || this.state === 'closed' || this.queue.size === 0) return;
    this.sender = this.drain().finally(() => {
      this.sender = undefined;
      this.notifyIdle();
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    for (let pending = this.queue.shift(); pending !== undefined; pending = this.queue.shift()) {
      if (this.state === 'closed') {
        pending.fail(new DeviceClientStateError('closed', 'message not sent'));
        continue;
      }
      this.active = pending;
      await this.deliver(pending);
      this.active = undefined;
      this.notifyIdle();
    }
  }

  /** Sends one message until it is accepted, refused for good, or given up; never throws. */
  private async deliver(pending: HttpPending): Promise<void> {
    const signal = pending.abort === undefined ? this.closing.signal : AbortSignal.any([pending.abort.signal, this.closing.signal]);
    // The ordered sender drives the client's reconnect state; a request waiting aside only retries itself.
    const aside = pending.aside;
    let networkFailures = 0;
    for (;;) {
      if (pending.settled) return;
      let delay: number | undefined;
      try {
        const response = await this.http.request<Readable>({ ...pending.request, signal });
        this.markOnline();
        await this.takeCommand(response);
        pending.succeed();
        return;
      } catch (error) {
        if (pending.settled) return;
        if (this.closing.signal.aborted) {
          pending.fail(new DeviceClientStateError('closed', 'message not sent'));
          return;
        }
        const failure = this.hinted(error, pending.kind, pending.onBehalfOf, pending.sizeBytes);
        if ((failure instanceof NetworkError || failure instanceof TimeoutError) && aside) {
          this.markOffline(failure);
          delay = this.options.reconnect.policy.nextDelayMs((networkFailures += 1), failure);
          if (delay === undefined) {
            pending.fail(failure);
            return;
          }
        } else if (failure instanceof NetworkError || failure instanceof TimeoutError) {
          this.markOffline(failure);
          delay = this.backoff.next(failure);
          this.offlineUntil = delay === undefined ? Number.POSITIVE_INFINITY : Date.now() + delay;
          if (delay === undefined) {
            this.setState('disconnected');
            this.emit('disconnected', { error: failure, willReconnect: false });
          } else {
            this.emit('reconnecting', { attempt: this.backoff.attempts, delayMs: delay, error: failure });
          }
          if (pending.qos === 0 && this.options.offlineQueue.qos0 !== 'queue') {
            void this.offlineQos0(pending);
            return;
          }
          if (delay === undefined) {
            pending.fail(failure);
            return;
          }
        } else if (failure instanceof HttpError && (failure.status === 503 || failure.status === 429)) {
          this.markOnline();
          pending.retries += 1;
          delay = this.options.retry.nextDelayMs(pending.retries, failure);
          if (delay === undefined) {
            pending.fail(failure);
            return;
          }
          this.options.logger.warn('retrying message after adapter error', {
            path: pending.request.path,
            status: failure.status,
            attempt: pending.retries,
            delayMs: delay,
          });
        } else {
          if (failure instanceof HttpError) this.markOnline();
          pending.fail(failure);
          return;
        }
      }
      try {
        await sleep(delay, signal);
      } catch {
        if (!pending.settled)
          pending.fail(this.closing.signal.aborted ? new DeviceClientStateError('closed', 'message not sent') : new AbortError('message'));
        return;
      }
    }
  }

  private markOnline(): void {
    this.offlineUntil = 0;
    if (this.online) {
      this.backoff.reset();
      return;
    }
    this.online = true;
    this.backoff.reset();
    // Polling stops when its policy gives up; a reachable adapter brings it back for the registered consumers.
    if (this.router.consumers > 0) this.startPolling();
    if (this.state === 'closed') return;
    this.setState('connected');
    this.options.logger.info('the HTTP adapter is reachable again', { url: this.httpOptions.baseUrl });
    this.emit('connected', { reconnected: true });
  }

  private markOffline(error: Error): void {
    if (!this.online) return;
    this.online = false;
    if (this.state === 'closed') return;
    this.setState('reconnecting');
    this.options.logger.warn('the HTTP adapter is unreachable', { url: this.httpOptions.baseUrl, error });
    this.emit('disconnected', { error, willReconnect: true });
  }

  // ---- commands ---------------------------------------------------------------------------------------

  private startPolling(): void {
    if (this.poll !== undefined || this.state === 'idle' || this.state === 'closed') return;
    const controller = new AbortController();
    this.poll = controller;
    this.pollTask = this.pollLoop(controller.signal).finally(() => {
      if (this.poll === controller) this.poll = undefined;
    });
  }

  private stopPolling(): void {
    this.poll?.abort();
    this.poll = undefined;
  }

  /** Keeps one empty notification with `hono-ttd` open while someone consumes commands. */
  private async pollLoop(signal: AbortSignal): Promise<void> {
    const ttd = this.httpOptions.commandPollSeconds;
    const combined = AbortSignal.any([signal, this.closing.signal]);
    while (!combined.aborted) {
      let delay: number | undefined;
      const started = Date.now();
      try {
        const response = await this.http.request<Readable>({
          method: 'POST',
          path: '/event',
          body: '',
          contentType: EMPTY_NOTIFICATION_CONTENT_TYPE,
          headers: { 'hono-ttd': String(ttd) },
          responseType: 'stream',
          idempotent: false,
          timeoutMs: this.options.timeoutMs + ttd * 1000,
          signal: combined,
        });
        this.markOnline();
        this.pollBackoff.reset();
        if (await this.takeCommand(response)) continue;
        // An adapter that answers at once instead of waiting hono-ttd would make this loop spin.
        const elapsed = Date.now() - started;
        if (elapsed >= MIN_POLL_INTERVAL_MS) continue;
        delay = MIN_POLL_INTERVAL_MS - elapsed;
      } catch (error) {
        if (combined.aborted) return;
        const failure = this.hinted(error, 'command-poll', undefined, 0);
        if (failure instanceof NetworkError || failure instanceof TimeoutError) this.markOffline(failure);
        else this.report(failure);
        delay = this.pollBackoff.next(failure);
        if (delay === undefined) {
          this.report(
            new TwinLedgerError(`stopped polling for commands: ${failure.message}`, { code: 'device.command.poll', cause: failure }),
          );
          return;
        }
      }
      try {
        await sleep(delay, combined);
      } catch {
        return;
      }
    }
  }

  /** A command in an adapter answer (200 with `hono-command`) goes to the consumers; true if there was one. */
  private async takeCommand(response: HttpResponse<Readable>): Promise<boolean> {
    const payload = await readBody(response.data, {
      timeoutMs: this.options.timeoutMs,
      what: `reading the answer body from ${this.httpOptions.baseUrl}`,
    });
    const name = response.headers['hono-command'];
    if (response.status !== 200 || name === undefined || name === '') return false;
    const requestId = response.headers['hono-cmd-req-id'];
    const target = response.headers['hono-cmd-target-device'];
    const command = new IncomingCommand(
      {
        name,
        requestId: requestId === undefined || requestId === '' ? undefined : requestId,
        deviceId: target === undefined || target === '' ? undefined : target,
        contentType: response.headers['content-type'],
        payload,
        properties: {},
        transport: 'http',
      },
      this.sendResponse,
    );
    this.router.dispatch(command);
    return true;
  }

  /** The same error with the device-side hint (and 413 as `DevicePayloadTooLargeError`). */
  private hinted(error: unknown, kind: MessageKind | 'command-poll', onBehalfOf: string | undefined, sizeBytes: number | undefined): Error {
    if (!(error instanceof HttpError)) return asError(error);
    return deviceHttpError(
      {
        status: error.status,
        method: error.method,
        url: error.url,
        upstreamCode: error.upstreamCode,
        upstreamMessage: error.upstreamMessage,
        etag: error.etag,
        retryAfterMs: error.retryAfterMs,
        body: error.body,
        hint: deviceHint(error.status, {
          username: this.options.username,
          onBehalfOf,
          kind,
          limitBytes: this.options.maxPayloadBytes,
        }),
      },
      this.options.maxPayloadBytes,
      sizeBytes,
    );
  }
}
