import type { CallOptions as GrpcCallOptions } from '@grpc/grpc-js';
import { TimeoutError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type RetryPolicy, sleep } from '../core/retry.js';
import { ChaincodeError, CommitError } from './errors.js';
import { type FailureContext, abortReason, abortable, isRetryable, toLedgerError } from './gateway-errors.js';
import type { GatewayContract, GatewayProposalOptions } from './gateway-port.js';
import { type CallOptions, validateCallOptions } from '../core/options.js';

/** Deadlines per gateway call, in ms (the fabric-samples defaults). */
export interface FabricDeadlines {
  evaluateMs: number;
  endorseMs: number;
  submitMs: number;
  commitStatusMs: number;
}

export const DEFAULT_DEADLINES: Readonly<FabricDeadlines> = Object.freeze({
  evaluateMs: 5_000,
  endorseMs: 15_000,
  submitMs: 5_000,
  commitStatusMs: 60_000,
});

const PHASE_DEADLINE: Record<'evaluate' | 'endorse' | 'submit' | 'commitStatus', keyof FabricDeadlines> = {
  evaluate: 'evaluateMs',
  endorse: 'endorseMs',
  submit: 'submitMs',
  commitStatus: 'commitStatusMs',
};

interface CallScope {
  signal: AbortSignal | undefined;
  done(): void;
}

/**
 * Transactions that create a key and set its key-level endorsement policy in the same transaction. When two of
 * them create the same key in one block, Fabric invalidates the later one as ENDORSEMENT_POLICY_FAILURE (the key's
 * validation parameter was changed earlier in the block), not as MVCC_READ_CONFLICT. Each is idempotent by
 * content, so running the loser again returns the stored record or a typed refusal (ALREADY_EXISTS, CONFLICT,
 * CHAIN_MISMATCH); a real policy failure fails the re-run the same way and is reported.
 */
const CREATE_RACE_TRANSACTIONS: ReadonlySet<string> = new Set(['RegisterDevice', 'InitHash', 'AnchorBatch', 'AnchorRecord']);
const ENDORSEMENT_POLICY_FAILURE = 10;

/** UTF-8 text of a chaincode result. */
export function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Evaluate and submit through the Fabric gateway, with everything around the call: the deadline of each gateway
 * step, the caller's `signal` and `timeoutMs`, retries of transient steps, new transactions after read conflicts
 * and lost create races, and the mapping of gateway errors to TwinLedger's errors.
 */
export class GatewayCalls {
  constructor(
    private readonly contract: GatewayContract,
    private readonly deadlines: FabricDeadlines,
    private readonly retry: RetryPolicy,
    private readonly logger: Logger,
    /** Throws when the ledger was closed. */
    private readonly assertOpen: (what: string) => void = () => undefined,
  ) {}

  private scope(what: string, options: CallOptions): CallScope {
    this.assertOpen(what);
    validateCallOptions(options);
    if (options.timeoutMs === undefined) return { signal: options.signal, done: () => undefined };
    const timeoutMs = options.timeoutMs;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new TimeoutError(what, timeoutMs)), timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
    return { signal, done: () => clearTimeout(timer) };
  }

  private callOptions(phase: keyof typeof PHASE_DEADLINE): GrpcCallOptions {
    return { deadline: Date.now() + this.deadlines[PHASE_DEADLINE[phase]] };
  }

  /** Runs one gateway step, again while it fails transiently and the retry policy allows. */
  private async step<T>(context: FailureContext, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      if (signal?.aborted) throw abortReason(signal, context.transaction);
      try {
        return await abortable(run(), signal, context.transaction);
      } catch (error) {
        const failure = toLedgerError(error, context);
        const delay = isRetryable(failure) ? this.retry.nextDelayMs(attempt, failure) : undefined;
        if (delay === undefined) throw failure;
        this.logger.warn('retrying ledger call', {
          transaction: context.transaction,
          phase: context.phase,
          attempt,
          delayMs: delay,
          reason: failure.message,
        });
        try {
          await sleep(delay, signal);
        } catch {
          throw signal ? abortReason(signal, context.transaction) : failure;
        }
      }
    }
  }

  async evaluate(
    name: string,
    args: string[],
    proposal: GatewayProposalOptions,
    options: CallOptions,
    contract: GatewayContract = this.contract,
  ): Promise<Uint8Array> {
    const scope = this.scope(name, options);
    try {
      const built = contract.newProposal(name, { ...proposal, arguments: args });
      const context: FailureContext = { phase: 'evaluate', transaction: name, transactionId: built.getTransactionId() };
      return await this.step(context, scope.signal, () => built.evaluate(this.callOptions('evaluate')));
    } finally {
      scope.done();
    }
  }

  async evaluateOptional<T>(name: string, args: string[], proposal: GatewayProposalOptions, options: CallOptions): Promise<T | undefined> {
    try {
      return JSON.parse(utf8(await this.evaluate(name, args, proposal, options))) as T;
    } catch (error) {
      if (error instanceof ChaincodeError && error.reason === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  async submitJson<T>(name: string, args: string[], options: CallOptions): Promise<T> {
    return JSON.parse(utf8((await this.submit(name, args, {}, options)).result)) as T;
  }

  /**
   * endorse → submit → commit status. A transient failure repeats the failed step with the same proposal or
   * signed transaction (Fabric rejects a transaction ID twice, so nothing applies twice); an MVCC or phantom
   * read conflict at commit runs the whole transaction again as a new one, and so does, once, an endorsement
   * policy failure of a key-creating transaction (a possibly lost create race, see CREATE_RACE_TRANSACTIONS).
   */
  async submit(
    name: string,
    args: string[],
    proposal: GatewayProposalOptions,
    options: CallOptions,
  ): Promise<{ result: Uint8Array; transactionId: string; blockNumber: bigint }> {
    const scope = this.scope(name, options);
    let createRaceRerun = false;
    try {
      for (let attempt = 1; ; attempt += 1) {
        const built = this.contract.newProposal(name, { ...proposal, arguments: args });
        const transactionId = built.getTransactionId();
        const context = (phase: FailureContext['phase']): FailureContext => ({ phase, transaction: name, transactionId });
        try {
          const transaction = await this.step(context('endorse'), scope.signal, () => built.endorse(this.callOptions('endorse')));
          const commit = await this.step(context('submit'), scope.signal, () => transaction.submit(this.callOptions('submit')));
          const status = await this.step(context('commitStatus'), scope.signal, () => commit.getStatus(this.callOptions('commitStatus')));
          if (!status.successful) {
            throw new CommitError(status.code, { phase: 'commit', transaction: name, transactionId, blockNumber: status.blockNumber });
          }
          return { result: transaction.getResult(), transactionId, blockNumber: status.blockNumber };
        } catch (error) {
          const failure = toLedgerError(error, context('commit'));
          if (
            failure instanceof CommitError &&
            failure.validationCode === ENDORSEMENT_POLICY_FAILURE &&
            CREATE_RACE_TRANSACTIONS.has(name)
          ) {
            if (!createRaceRerun) {
              createRaceRerun = true;
              this.logger.warn('transaction may have lost a create race (ENDORSEMENT_POLICY_FAILURE); running it again', {
                transaction: name,
                transactionId,
                attempt,
              });
              continue;
            }
            throw new CommitError(failure.validationCode, {
              phase: 'commit',
              transaction: name,
              transactionId: failure.transactionId,
              blockNumber: failure.blockNumber,
              cause: failure,
              hint:
                'Invalid again when run a second time, so this is not a lost create race: the endorsements do not satisfy a ' +
                'key-level or chaincode endorsement policy. Submit through a gateway of the organisation that owns the key.',
            });
          }
          const delay = failure instanceof CommitError && failure.retryable ? this.retry.nextDelayMs(attempt, failure) : undefined;
          if (delay === undefined) throw failure;
          this.logger.warn('transaction conflicted; running it again', {
            transaction: name,
            transactionId,
            attempt,
            delayMs: delay,
            reason: failure.message,
          });
          try {
            await sleep(delay, scope.signal);
          } catch {
            throw scope.signal ? abortReason(scope.signal, name) : failure;
          }
        }
      }
    } finally {
      scope.done();
    }
  }
}
