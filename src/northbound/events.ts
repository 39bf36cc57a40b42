import { TypedEmitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { DeviceNotification, NorthboundEvents } from './types.js';

/**
 * The typed events of a `Northbound`, shared by both transports (see `TypedEmitter`: one object per event, `error`
 * only when someone listens, so an unheard malformed message never throws out of a consumer and ends the process).
 */
export abstract class NorthboundEventSource extends TypedEmitter<NorthboundEvents> {
  protected constructor(logger: Logger) {
    super('northbound', logger);
  }

  /** `deviceReady` / `deviceDisconnected` for the notifications a consumed stream meets. */
  protected notify(notification: DeviceNotification): void {
    if (notification.type === 'ready') this.emit('deviceReady', notification);
    else if (notification.type === 'disconnected') this.emit('deviceDisconnected', notification);
  }
}
