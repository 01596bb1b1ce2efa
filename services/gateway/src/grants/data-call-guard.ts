import type { FastifyRequest } from 'fastify';
import { decideGrant } from '@gdx/contracts';
import { ForbiddenError, ServiceUnavailableError } from '@gdx/errors';
import type { GrantCache } from './grant-cache';

/**
 * The gateway's decision on a data call (数据调用) before it is forwarded: the caller unit's
 * grant for the resource, the data-call mode, its state and validity window (the one rule
 * of the contracts; data-query decides again, with the items, and stops a running pull when
 * the grant changes). A refusal answers here and is recorded with its code like every call.
 */
export function dataCallGuard(grants: GrantCache, providerOf: (code: string) => string | undefined): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    if (!grants.ready) throw new ServiceUnavailableError('Grants are loading; try again shortly.', 'GRANTS_UNAVAILABLE');
    const { code } = req.params as { code: string };
    // A refusal answered here is on the provider's record too (it never reaches data-query, which would name it).
    const provider = providerOf(code);
    if (provider && provider !== req.principal.unitId) req.ownerUnitId = provider;
    const decision = decideGrant(grants.find(req.principal.unitId, code), 'data-call', undefined, Date.now());
    if (!decision.ok) throw new ForbiddenError(decision.detail, decision.code, decision.grant ? { grantId: decision.grant.id } : {});
  };
}
