import { common, msp } from '@hyperledger/fabric-protos';
import { DevLedgerError } from './errors.js';

/**
 * Key-level endorsement policies (validation parameters), evaluated as a Fabric peer's policy engine (cauthdsl)
 * evaluates a `SignaturePolicyEnvelope`: `NOutOf` over `SignedBy` rules, each endorsement satisfying at most one
 * principal. The dev ledger's endorsements are made by the endorsing organisations' peers, so a peer of `Org1MSP`
 * satisfies the `ROLE` principals `Org1MSP.peer` and `Org1MSP.member`, never `.admin` or `.client`.
 */

const { MEMBER, PEER } = msp.MSPRole.MSPRoleType;

type Rule = (endorsers: readonly string[], used: boolean[]) => boolean;

const malformed = (message: string) => new DevLedgerError(message, { code: 'ledger.dev.policy' });

/** Why `parameter` is not satisfied by endorsements of `endorsers`' peers; `undefined` when it is. */
export function policyFailure(parameter: Uint8Array, endorsers: readonly string[]): string | undefined {
  let rule: Rule;
  try {
    rule = compile(common.SignaturePolicyEnvelope.deserializeBinary(parameter));
  } catch (error) {
    return `its validation parameter is not a valid signature policy (${(error as Error).message})`;
  }
  return rule(
    endorsers,
    endorsers.map(() => false),
  )
    ? undefined
    : `its endorsement policy is not satisfied by peers of ${endorsers.join(', ')}`;
}

function compile(envelope: common.SignaturePolicyEnvelope): Rule {
  const principals = envelope.getIdentitiesList().map((identity) => {
    if (identity.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) return undefined;
    const role = msp.MSPRole.deserializeBinary(identity.getPrincipal_asU8());
    return { mspId: role.getMspIdentifier(), role: role.getRole() };
  });
  const build = (policy: common.SignaturePolicy | undefined, depth: number): Rule => {
    if (!policy || depth > 64) throw malformed('empty or too deeply nested rule');
    if (policy.hasSignedBy()) {
      const index = policy.getSignedBy();
      if (index < 0 || index >= principals.length) throw malformed(`SignedBy(${index}) names no identity`);
      const principal = principals[index];
      return (endorsers, used) => {
        if (!principal || (principal.role !== PEER && principal.role !== MEMBER)) return false;
        const at = endorsers.findIndex((endorser, i) => !used[i] && endorser === principal.mspId);
        if (at < 0) return false;
        used[at] = true;
        return true;
      };
    }
    if (policy.hasNOutOf()) {
      const nOutOf = policy.getNOutOf() as common.SignaturePolicy.NOutOf;
      const rules = nOutOf.getRulesList().map((rule) => build(rule, depth + 1));
      const n = nOutOf.getN();
      return (endorsers, used) => {
        let satisfied = 0;
        for (const rule of rules) {
          const attempt = [...used];
          if (rule(endorsers, attempt)) {
            satisfied += 1;
            attempt.forEach((value, i) => (used[i] = value));
          }
        }
        return satisfied >= n;
      };
    }
    throw malformed('a rule is neither SignedBy nor NOutOf');
  };
  return build(envelope.getRule(), 0);
}
