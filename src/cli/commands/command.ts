/** `twinledger command`: a Ditto message to a thing, which Cloud2Edge delivers to its device as a Hono command. */
import { HttpError } from '../../core/errors.js';
import { integerOption } from '../../core/options.js';
import type { MessagePayload } from '../../ditto/index.js';
import { openCloud2Edge } from '../environment.js';
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
  const timeoutSeconds = integerOption('--timeout', Number(options.timeout), { min: 0, max: 300 }, 10);
  const payload = payloadText === undefined ? undefined : (parseJsonArgument('payload', payloadText) as MessagePayload);
  const opened = await openCloud2Edge(output);
  try {
    output.progress(`sending ${subject} to ${thingId}${timeoutSeconds > 0 ? `, waiting up to ${timeoutSeconds} s for the answer` : ''}`);
    const answer = await opened.c2e.ditto.messages
      .send({
        thingId,
        subject,
        ...(options.feature ? { featureId: options.feature } : {}),
        ...(payload === undefined ? {} : { payload }),
        timeoutSeconds,
      })
      .catch((error: unknown) => {
        // A device's error answer comes back as the HTTP status; Ditto's own refusals carry its error codes.
        if (error instanceof HttpError && !isDittoError(error.body)) return { status: error.status, data: error.body };
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

/** Ditto's error bodies: `{ status, error: "<prefix>:<name>", message }` (e.g. `things:thing.notfound`). */
function isDittoError(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const { status, error } = body as { status?: unknown; error?: unknown };
  return typeof status === 'number' && typeof error === 'string' && /^[a-z][\w-]*:[\w.-]+$/i.test(error);
}
