/**
 * Transfers beyond the granted link credit. RabbitMQ 3.x sends them (by the thousand under load) while flow
 * frames cross transfers, and rhea 3.0.x prints `Received transfer when credit was 0` with `console.error` for
 * each one (rhea's lib/session.js, `Incoming.on_transfer`). The SDK never prints on its own, so each session that holds
 * one of our receivers gets its transfer handler wrapped: a transfer that completes a delivery while rhea's
 * credit count is 0 finds one unit of credit, which rhea takes back (the count stays 0, as it would have), and
 * is counted instead of printed. The message itself is delivered as usual.
 */
import type { Receiver, Session } from 'rhea';

interface TransferFrame {
  performative?: { more?: boolean } | null;
}

interface SessionInternals {
  on_transfer?: (frame: TransferFrame) => unknown;
}

interface ReceiverInternals {
  credit?: unknown;
}

/**
 * Counts transfers on `session` that arrive while `receiver` has no credit left. Only for sessions whose only
 * receiver is `receiver` (senders get no transfers). Without the rhea internals it relies on, it does nothing.
 */
export function countCreditOvershoot(session: Session, receiver: Receiver, onOvershoot: () => void): void {
  const internals = session as unknown as SessionInternals;
  const original = internals.on_transfer;
  if (typeof original !== 'function') return;
  const credited = receiver as unknown as ReceiverInternals;
  internals.on_transfer = function (this: unknown, frame: TransferFrame) {
    // rhea takes one credit when the last frame of a delivery arrives (`more` unset).
    if (frame?.performative?.more !== true && typeof credited.credit === 'number' && credited.credit <= 0) {
      credited.credit = 1;
      onOvershoot();
    }
    return original.call(this, frame);
  };
}
