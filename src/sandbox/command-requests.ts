/**
 * The request/response commands the protocol adapters handed to devices and that wait for the device's answer, by
 * the request ID the device gets (`hono-cmd-req-id`, the `req/{reqId}` topic level) and answers with. Shared by the
 * HTTP and MQTT adapters: a command received over one may be answered over the other, as with Hono.
 */
import { randomUUID } from 'node:crypto';
import type { DeviceCommand } from './messaging.js';

export interface OpenRequest {
  tenant: string;
  deviceId: string;
  correlationId: string;
  replyTo: string;
  expires: number;
}

/** How long a device may take to answer (the application times out on its own much earlier). */
const RESPONSE_WINDOW_MS = 10 * 60_000;

export class CommandRequests {
  private readonly open = new Map<string, OpenRequest>();

  /** A request ID for a request/response command; undefined for a one-way command. */
  add(command: DeviceCommand): string | undefined {
    if (command.reply === undefined) return undefined;
    this.sweep();
    const reqId = randomUUID().replace(/-/g, '');
    this.open.set(reqId, {
      tenant: command.tenant,
      deviceId: command.deviceId,
      ...command.reply,
      expires: Date.now() + RESPONSE_WINDOW_MS,
    });
    return reqId;
  }

  /** The open request `reqId` of this device, if there is one. */
  find(reqId: string, tenant: string, deviceId: string): OpenRequest | undefined {
    this.sweep();
    const found = this.open.get(reqId);
    return found !== undefined && found.tenant === tenant && found.deviceId === deviceId ? found : undefined;
  }

  /** The device answered: the request is done. */
  close(reqId: string): void {
    this.open.delete(reqId);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [reqId, request] of this.open) if (request.expires < now) this.open.delete(reqId);
  }
}
