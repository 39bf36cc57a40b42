import { TX_VALIDATION_CODES } from '../errors.js';
import type { RangeEntry, Version } from './block-log.js';
import type { Endorsed } from './node.js';
import { policyFailure } from './policy.js';
import type { PrivateStore } from './private-store.js';
import { type StateRow, type StateStore, type StateUpdates, compareKeys, privateId } from './state-store.js';

/**
 * A Fabric 2.5 peer's validation of a block, in its two phases, and the writes of its valid transactions:
 *
 * 1. the transaction validator with the endorsement-policy check (VSCC), for every transaction: a transaction ID seen
 *    before is DUPLICATE_TXID; a write to a key with a key-level policy (validation parameter) needs endorsements that
 *    satisfy it, a private write the collection's organisation, and a write to a key whose validation parameter an
 *    earlier transaction of the block that passed this phase changes is ENDORSEMENT_POLICY_FAILURE (Fabric's
 *    `ValidationParameterUpdatedError`: how the later of two creators of a key in one block loses, whether or not the
 *    earlier one later passes MVCC);
 * 2. the committer's MVCC check, in block order, against committed state plus the writes of the block's earlier valid
 *    transactions: public reads (MVCC_READ_CONFLICT), range queries re-executed (PHANTOM_READ_CONFLICT), private
 *    reads (MVCC_READ_CONFLICT), in that order.
 *
 * The chaincode-level endorsement policy is "any organisation's peer" (what the repository's network deploys), so a
 * key without a validation parameter needs no particular endorser.
 */

export const VALID = 0;
export const DUPLICATE_TXID = 9;
export const ENDORSEMENT_POLICY_FAILURE = 10;
export const MVCC_READ_CONFLICT = 11;
export const PHANTOM_READ_CONFLICT = 12;

/** The name of a validation code, e.g. `MVCC_READ_CONFLICT`. */
export function statusName(code: number): string {
  return TX_VALIDATION_CODES[code] ?? `code ${code}`;
}

export interface ValidationContext {
  /** The block's number. */
  block: number;
  /** Committed state (read as of now: the previous block is committed). */
  store: StateStore;
  privateStore: PrivateStore;
  /** Collection → member MSP IDs (each collection's endorsement policy: a peer of a member). */
  collections: ReadonlyMap<string, readonly string[]>;
}

export interface ValidatedBlock {
  /** Validation code per transaction. */
  codes: number[];
  /** Why a transaction is invalid (undefined when valid). */
  reasons: Array<string | undefined>;
  /** What the valid transactions change. */
  updates: StateUpdates;
}

interface Failure {
  code: number;
  message: string;
}

const equalVersions = (a: Version | null | undefined, b: Version | null | undefined): boolean =>
  a == null || b == null ? a == null && b == null : a.block === b.block && a.tx === b.tx;

export function validateBlock(transactions: readonly Endorsed[], context: ValidationContext): ValidatedBlock {
  const updates: StateUpdates = { state: new Map(), private: new Map(), history: [], transactions: [] };
  const current = (key: string): StateRow | undefined => {
    const change = updates.state.get(key);
    if (change) return 'row' in change ? change.row : undefined;
    return context.store.getState(key);
  };
  const currentPrivate = (collection: string, key: string): Version | null => {
    const change = updates.private.get(privateId(collection, key));
    if (change) return change.row?.version ?? null;
    return context.privateStore.get(collection, key)?.version ?? null;
  };

  const phaseOne = endorsementPhase(transactions, context);
  const codes: number[] = [];
  const reasons: Array<string | undefined> = [];
  transactions.forEach((endorsed, index) => {
    const failure = phaseOne[index] ?? readConflict(endorsed, current, currentPrivate, updates, context);
    codes.push(failure?.code ?? VALID);
    reasons.push(failure?.message);
    updates.transactions.push({ txId: endorsed.txId, location: { block: context.block, index, validationCode: failure?.code ?? VALID } });
    if (!failure) apply(endorsed, { block: context.block, tx: index }, updates, current);
  });
  return { codes, reasons, updates };
}

/** Phase 1: transaction IDs and endorsement policies, per transaction (undefined: passed). */
function endorsementPhase(transactions: readonly Endorsed[], context: ValidationContext): Array<Failure | undefined> {
  const seen = new Set<string>();
  /** Key → index of an earlier transaction that passed this phase and changes the key's validation parameter. */
  const parameterChangedBy = new Map<string, number>();
  return transactions.map((endorsed, index) => {
    const duplicate = seen.has(endorsed.txId) || context.store.transaction(endorsed.txId) !== undefined;
    seen.add(endorsed.txId);
    const failure: Failure | undefined = duplicate
      ? { code: DUPLICATE_TXID, message: `transaction ID ${endorsed.txId} was used before` }
      : endorsementFailure(endorsed, parameterChangedBy, context);
    if (!failure) {
      for (const key of endorsed.simulation.policyWrites().keys()) if (!parameterChangedBy.has(key)) parameterChangedBy.set(key, index);
    }
    return failure;
  });
}

function endorsementFailure(
  endorsed: Endorsed,
  parameterChangedBy: ReadonlyMap<string, number>,
  context: ValidationContext,
): Failure | undefined {
  const { simulation, proposal } = endorsed;
  const endorsers = proposal.endorsers;
  for (const key of new Set([...simulation.publicWrites().keys(), ...simulation.policyWrites().keys()])) {
    const changedBy = parameterChangedBy.get(key);
    if (changedBy !== undefined) {
      return {
        code: ENDORSEMENT_POLICY_FAILURE,
        message: `validation parameters for key ${JSON.stringify(key)} have been changed in transaction ${changedBy} of block ${context.block}`,
      };
    }
    const parameter = context.store.getState(key)?.validationParameter;
    if (!parameter) continue;
    const why = policyFailure(parameter, endorsers);
    if (why) return { code: ENDORSEMENT_POLICY_FAILURE, message: `key ${JSON.stringify(key)}: ${why}` };
  }
  for (const collection of simulation.privateValues().keys()) {
    const members = context.collections.get(collection) ?? [];
    if (!members.some((member) => endorsers.includes(member))) {
      return {
        code: ENDORSEMENT_POLICY_FAILURE,
        message: `writes to ${collection} need an endorsement by ${members.join(' or ')}; endorsed by ${endorsers.join(', ')}`,
      };
    }
  }
  return undefined;
}

/** Phase 2: what the transaction read, against committed state plus the block's earlier valid writes. */
function readConflict(
  endorsed: Endorsed,
  current: (key: string) => StateRow | undefined,
  currentPrivate: (collection: string, key: string) => Version | null,
  updates: StateUpdates,
  context: ValidationContext,
): Failure | undefined {
  const { simulation } = endorsed;
  for (const [key, version] of simulation.publicReads()) {
    if (!equalVersions(version, current(key)?.version)) {
      return { code: MVCC_READ_CONFLICT, message: `key ${JSON.stringify(key)} changed since the transaction read it` };
    }
  }
  for (const range of simulation.rangeQueries()) {
    if (!sameRange(range, updates, context.store)) {
      return { code: PHANTOM_READ_CONFLICT, message: `the range [${JSON.stringify(range.start)}, ${JSON.stringify(range.end)}) changed` };
    }
  }
  for (const [collection, reads] of simulation.privateReadVersions()) {
    for (const [key, version] of reads) {
      if (!equalVersions(version, currentPrivate(collection, key))) {
        return { code: MVCC_READ_CONFLICT, message: `a private key of ${collection} changed since the transaction read it` };
      }
    }
  }
  return undefined;
}

/** Re-runs a range query on committed state plus the block's earlier valid writes, in Fabric's (byte) key order. */
function sameRange(range: RangeEntry, updates: StateUpdates, store: StateStore): boolean {
  const end = range.end === '' ? undefined : range.end;
  const rows = new Map<string, Version>();
  for (const { key, row } of store.range(range.start, end)) rows.set(key, row.version);
  for (const [key, change] of updates.state) {
    if (compareKeys(key, range.start) < 0 || (end !== undefined && compareKeys(key, end) >= 0)) continue;
    if ('row' in change) rows.set(key, change.row.version);
    else rows.delete(key);
  }
  const now = [...rows].sort(([a], [b]) => compareKeys(a, b));
  return (
    now.length === range.reads.length &&
    now.every(([key, version], i) => range.reads[i]?.key === key && equalVersions(range.reads[i]?.version, version))
  );
}

/** A valid transaction's writes, as a peer applies them: values with versions, key-level policies kept or changed, history. */
function apply(endorsed: Endorsed, version: Version, updates: StateUpdates, current: (key: string) => StateRow | undefined): void {
  const { simulation, proposal } = endorsed;
  const policies = simulation.policyWrites();
  const writes = simulation.publicWrites();
  for (const [key, value] of writes) {
    updates.history.push({
      key,
      row: { txId: endorsed.txId, timestamp: proposal.timestamp, isDelete: value === null, value: value ?? Buffer.alloc(0), version },
    });
    if (value === null) {
      updates.state.set(key, { deleted: version });
    } else {
      const validationParameter = policies.has(key) ? (policies.get(key) ?? undefined) : current(key)?.validationParameter;
      updates.state.set(key, { row: { value, version, validationParameter } });
    }
  }
  for (const [key, parameter] of policies) {
    if (writes.has(key)) continue;
    // A policy change alone: the key keeps its value and gets a new version; on a key without a value it is dropped.
    const row = current(key);
    if (row) updates.state.set(key, { row: { value: row.value, version, validationParameter: parameter ?? undefined } });
  }
  for (const [collection, privateWrites] of simulation.privateValues()) {
    for (const [key, value] of privateWrites) {
      updates.private.set(privateId(collection, key), { collection, key, row: value === null ? undefined : { value, version } });
    }
  }
}
