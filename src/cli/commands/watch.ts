/**
 * `twinledger watch`: a tenant's telemetry and/or events through the northbound API (Kafka, or AMQP 1.0 with
 * Cloud2Edge's AMQP profile and the sandbox), one line per message, until stopped or `--count` messages.
 */
import { ValidationError } from '../../core/errors.js';
import type { DownstreamMessage } from '../../northbound/index.js';
import { openCloud2Edge } from '../environment.js';
import type { Output } from '../io.js';
import { positiveInteger } from './arguments.js';

export interface WatchOptions {
  kind: string;
  count?: string;
  username?: string;
  password?: string;
  groupId?: string;
}

function describe(message: DownstreamMessage): string {
  const body = message.notification ? `(notification: ${message.notification.type})` : message.text();
  return `${message.kind} ${message.deviceId} ${message.contentType ?? '-'} ${body}`;
}

export async function runWatch(output: Output, tenant: string, options: WatchOptions): Promise<void> {
  if (!['telemetry', 'event', 'both'].includes(options.kind)) throw new ValidationError('--kind', 'must be telemetry, event or both');
  const count = positiveInteger('--count', options.count);
  // A sandbox started inside this command has no device that could send anything.
  const opened = await openCloud2Edge(output, { reachable: 'devices must be able to reach it to send' });
  const transport = opened.env.TWINLEDGER_MESSAGING === 'amqp' ? 'amqp' : 'kafka';
  const username = options.username ?? (transport === 'amqp' ? 'consumer@HONO' : undefined);
  const password = options.password ?? output.io.env.TWINLEDGER_NORTHBOUND_PASSWORD ?? (transport === 'amqp' ? 'verysecret' : undefined);
  let app: ReturnType<typeof opened.c2e.northbound>;
  try {
    app =
      transport === 'amqp'
        ? opened.c2e.northbound({ transport, credentials: { username: username!, password: password! } })
        : opened.c2e.northbound({
            transport,
            groupId: options.groupId ?? 'twinledger-cli-watch',
            ...(username && password ? { credentials: { mechanism: 'plain' as const, username, password } } : {}),
          });
  } catch (error) {
    await opened.close();
    throw error;
  }
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  output.io.signal?.addEventListener('abort', onAbort, { once: true });
  let seen = 0;
  const consume = async (stream: AsyncIterable<DownstreamMessage>) => {
    for await (const message of stream) {
      seen += 1;
      output.result(
        {
          kind: message.kind,
          tenantId: message.tenantId,
          deviceId: message.deviceId,
          contentType: message.contentType,
          payload: message.text(),
          ...(message.notification ? { notification: message.notification } : {}),
        },
        () => describe(message),
      );
      // Stopping right here would hand this message back (the loop body has not finished); stopping once the loop
      // has asked for the next one acknowledges it first.
      if (count !== undefined && seen >= count) setImmediate(() => stop.abort());
    }
  };
  try {
    output.progress(`watching ${options.kind === 'both' ? 'telemetry and events' : options.kind} of ${tenant} over ${transport}`);
    const kinds = options.kind === 'both' ? ['telemetry', 'event'] : [options.kind];
    await Promise.all(
      kinds.map((kind) =>
        consume(kind === 'telemetry' ? app.telemetry(tenant, { signal: stop.signal }) : app.events(tenant, { signal: stop.signal })),
      ),
    );
  } finally {
    output.io.signal?.removeEventListener('abort', onAbort);
    await app.close();
    await opened.close();
  }
}
