import { TwinLedgerError } from '../core/errors.js';
import type { CommandResponse } from './types.js';

export interface CommandTarget {
  tenantId: string;
  deviceId: string;
  name: string;
}

/** A command did not get a successful response. Subclasses say why. */
export class CommandError extends TwinLedgerError {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly command: string;

  constructor(target: CommandTarget, message: string, code: string, hint?: string, cause?: unknown) {
    super(`command "${target.name}" to ${target.tenantId}/${target.deviceId}: ${message}`, { code, hint, cause });
    this.tenantId = target.tenantId;
    this.deviceId = target.deviceId;
    this.command = target.name;
  }
}

/** The device is not connected (AMQP outcome `released`; Kafka delivery-failure notification). */
export class DeviceNotConnectedError extends CommandError {
  constructor(target: CommandTarget, detail?: string) {
    super(
      target,
      `the device is not connected${detail ? ` (${detail})` : ''}`,
      'command.device-not-connected',
      'Devices receive commands only while subscribed (MQTT command///req/#) or polling with hono-ttd (HTTP); watch for deviceReady notifications.',
    );
  }
}

/** Hono or the network refused the command as malformed or not allowed (AMQP outcome `rejected`). */
export class CommandRejectedError extends CommandError {
  constructor(target: CommandTarget, detail?: string) {
    super(target, `rejected${detail ? `: ${detail}` : ''}`, 'command.rejected');
  }
}

/** No response within `timeoutMs`; the device may still act on the command. */
export class CommandTimeoutError extends CommandError {
  readonly timeoutMs: number;

  constructor(target: CommandTarget, timeoutMs: number) {
    super(
      target,
      `no response within ${timeoutMs} ms`,
      'command.timeout',
      'The device may have received it and not answered in time; make commands idempotent before retrying.',
    );
    this.timeoutMs = timeoutMs;
  }
}

/** The device answered with a status of 400 or more. */
export class CommandFailedError extends CommandError {
  readonly status: number;
  readonly response: CommandResponse;

  constructor(target: CommandTarget, response: CommandResponse) {
    super(target, `the device answered ${response.status}`, 'command.failed');
    this.status = response.status;
    this.response = response;
  }
}

/** AMQP: no credit for the command sender, i.e. no device of the tenant is subscribed for commands. */
export class NoCommandConsumerError extends CommandError {
  constructor(target: CommandTarget, waitedMs: number) {
    super(
      target,
      `no credit to send within ${waitedMs} ms: no device of this tenant is subscribed for commands`,
      'command.no-credit',
      "Hono's AMQP network grants command credit only after some device of the tenant subscribed for commands.",
    );
  }
}

/** A downstream message could not be decoded (missing device_id, bad properties). The stream goes on. */
export class MalformedMessageError extends TwinLedgerError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'northbound.malformed', cause });
  }
}
