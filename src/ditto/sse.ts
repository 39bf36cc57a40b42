/**
 * A Server-Sent Events parser following the WHATWG HTML "event stream interpretation" rules:
 * UTF-8 with an optional leading BOM, lines ended by CRLF, LF or CR (also when the CR and LF arrive in
 * different chunks), `data:` lines joined with `\n`, `event:`, `id:` (ignored when it contains NUL),
 * `retry:` (ASCII digits only), `:` comments (keep-alives), and fields without a colon. A block without
 * data dispatches nothing; an event left unterminated when the stream ends is discarded.
 */

export interface SseEvent {
  /** The `event:` field, or `message` when the server set none. */
  type: string;
  data: string;
  /** The last event ID in effect when this event was dispatched (it persists across events and connections). */
  lastEventId: string;
}

export interface SseParserOptions {
  /** The last event ID from an earlier connection, so events without `id:` still carry it. */
  lastEventId?: string;
}

export class SseParser {
  /** The stream's last event ID: what to send as `Last-Event-ID` when reconnecting ('' = none). */
  lastEventId: string;
  /** The reconnection time the server asked for with `retry:`, if any. */
  retryMs: number | undefined;
  /** Comment lines seen so far (keep-alives). */
  comments = 0;

  // ignoreBOM: keep the BOM so that exactly one leading BOM is stripped below, for bytes and strings alike.
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private pending = '';
  private skipLeadingLf = false;
  private atStart = true;
  private data = '';
  private hasData = false;
  private eventType = '';
  private idBuffer: string;

  constructor(options: SseParserOptions = {}) {
    this.lastEventId = options.lastEventId ?? '';
    this.idBuffer = this.lastEventId;
  }

  /** Feeds a chunk of the stream and returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.atStart && text.length > 0) {
      this.atStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return this.consume(text);
  }

  /** Signals the end of the stream. An unterminated event is dropped, as the spec requires. */
  end(): SseEvent[] {
    const events = this.consume(this.decoder.decode());
    this.pending = '';
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    return events;
  }

  private consume(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let buffer = this.pending + text;
    let start = 0;
    if (this.skipLeadingLf && buffer.length > 0) {
      this.skipLeadingLf = false;
      if (buffer.charCodeAt(0) === 0x0a) start = 1;
    }
    for (let i = start; i < buffer.length; i += 1) {
      const code = buffer.charCodeAt(i);
      if (code !== 0x0a && code !== 0x0d) continue;
      this.line(buffer.slice(start, i), events);
      if (code === 0x0d) {
        if (i + 1 < buffer.length) {
          if (buffer.charCodeAt(i + 1) === 0x0a) i += 1;
        } else {
          // The LF of a CRLF may arrive with the next chunk.
          this.skipLeadingLf = true;
        }
      }
      start = i + 1;
    }
    buffer = buffer.slice(start);
    this.pending = buffer;
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      this.dispatch(events);
      return;
    }
    if (line.startsWith(':')) {
      this.comments += 1;
      return;
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (name) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data += `${value}\n`;
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.idBuffer = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        // Unknown fields are ignored.
        break;
    }
  }

  private dispatch(events: SseEvent[]): void {
    this.lastEventId = this.idBuffer;
    if (!this.hasData) {
      this.eventType = '';
      return;
    }
    const data = this.data.endsWith('\n') ? this.data.slice(0, -1) : this.data;
    events.push({ type: this.eventType === '' ? 'message' : this.eventType, data, lastEventId: this.lastEventId });
    this.data = '';
    this.hasData = false;
    this.eventType = '';
  }
}
