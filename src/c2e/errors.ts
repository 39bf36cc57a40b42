import { TwinLedgerError } from '../core/errors.js';
import type { ProvisioningStep } from './provision.js';

/** A provisioning step failed. `cause` has the original error. */
export class ProvisioningError extends TwinLedgerError {
  readonly step: ProvisioningStep;
  /** What this call had created or changed before it failed. */
  readonly created: string[];
  /** What was removed or restored again. */
  readonly rolledBack: string[];
  /** What is still there and needs cleaning up by hand (empty when rollback succeeded). */
  readonly leftBehind: string[];

  constructor(step: ProvisioningStep, cause: unknown, created: string[], rolledBack: string[], leftBehind: string[]) {
    let reason = cause instanceof Error ? cause.message : String(cause);
    // The cause's hint is repeated at the end of this message; say it once.
    if (cause instanceof TwinLedgerError && cause.hint !== undefined) reason = reason.replace(` (hint: ${cause.hint})`, '');
    const tail =
      leftBehind.length > 0
        ? ` Left behind (remove by hand or run deprovisionDevice): ${leftBehind.join(', ')}.`
        : created.length > 0
          ? ' Everything this call created was removed again.'
          : ' Nothing was changed.';
    super(`provisioning failed at step "${step}": ${reason}.${tail}`, {
      code: 'provisioning',
      hint: cause instanceof TwinLedgerError ? cause.hint : undefined,
      cause,
    });
    this.step = step;
    this.created = created;
    this.rolledBack = rolledBack;
    this.leftBehind = leftBehind;
  }
}
