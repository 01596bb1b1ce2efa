import type { DecidableGrant, GrantDecision } from '@gdx/contracts';
import { ForbiddenError } from '@gdx/errors';

/** A refused grant decision as the caller gets it: the decision's code and detail, the grant it concerns, and the item not covered (at `field`). */
export function grantDenied<G extends DecidableGrant>(decision: Extract<GrantDecision<G>, { ok: false }>, field?: string): ForbiddenError {
  return new ForbiddenError(decision.detail, decision.code, {
    ...(decision.grant ? { grantId: decision.grant.id } : {}),
    ...(decision.item && field ? { field, item: decision.item } : {}),
  });
}
