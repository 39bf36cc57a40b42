/** `twinledger command`: a Ditto message to a thing, which Cloud2Edge delivers to its device as a Hono command. */
import { HttpError, ValidationError } from '../../core/errors.js';
import type { MessagePayload } from '../../ditto/index.js';
import { openCloud2Edge } from '../environment.js';
import { CliError } from '../errors.js';
import type { Output } from '../io.js';
import { parseJsonArgument } from './arguments.js';

export interface CommandOptions {
  timeout: string;
  feature?: string;
}

/** Sends the message; resolves with the device's status (Ditto's, 202 for fire-and-forget). */
export async function runCommand(
  output: Output,
  thingId: string,
  subject: string,
  payloadText: string | undefined,
  options: CommandOptions,
): Promise<number> {
  if (!/^\d+$/.test(options.timeout) || Number(options.timeout) > 300) {
    throw new ValidationError('--timeout', `must be whole seconds from 0 to 300, got ${JSON.stringify(options.timeout)}`);
  }
  const timeoutSeconds = Number(options.timeout);
  const payload = payloadText === undefined ? undefined : (parseJsonArgument('payload', payloadText) as MessagePayload);
  // A sandbox started inside this command has no device connected: a message could only fail.
  const opened = await openCloud2Edge(output, { reachable: 'a device must be connected to answer the message' });
  try {
    output.progress(`sending ${subject} to ${thingId}${timeoutSeconds > 0 ? `, waiting up to ${timeoutSeconds} s for the answer` : ''}`);
    const answer = await opened.c2e.ditto.messages
      .send(
        {
          thingId,
          subject,
          ...(options.feature ? { featureId: options.feature } : {}),
          ...(payload === undefined ? {} : { payload }),
          timeoutSeconds,
        },
        { ...(output.io.signal ? { signal: output.io.signal } : {}) },
      )
      .catch((error: unknown) => {
        // A device's error answer comes back as the HTTP status; Ditto's own refusals are its error bodies.
        if (error instanceof HttpError && !isDittoError(error.body)) return { status: error.status, data: error.body };
        if (error instanceof HttpError && error.status === 408) {
          throw new CliError(
            `${thingId} did not answer ${subject} within ${timeoutSeconds} s`,
            'The device is connected but did not answer in time: check that it handles this subject, or raise --timeout.',
          );
        }
        throw error;
      });
    output.result({ thingId, subject, status: answer.status, answer: answer.data ?? null }, () =>
      `${answer.status} ${answer.data === undefined ? '' : JSON.stringify(answer.data)}`.trim(),
    );
    return answer.status;
  } finally {
    await opened.close();
  }
}

/** Ditto's error bodies: `{ status, error, message }` with an error code such as `things:thing.notfound` or `command.timeout`. */
function isDittoError(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const { status, error, message } = body as { status?: unknown; error?: unknown; message?: unknown };
  return (
    typeof status === 'number' &&
    typeof message === 'string' &&
    typeof error === 'string' &&
    /^[a-z][\w-]*(?::[\w.-]+|\.[\w.-]+)$/i.test(error)
  );
}
