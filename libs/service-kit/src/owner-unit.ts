import type { FastifyRequest } from 'fastify';
import { SERVICE_TOKEN_HEADER, type ServiceTokenVerifier } from '@gdx/auth';
import { OWNER_UNIT_HEADER } from '@gdx/contracts';
import type { App } from './base-app';

export interface OwnerUnitOptions {
  /** Route patterns this applies to, e.g. `/api/v1/requests/:id` (and everything below it). */
  routePrefix: string;
  fromGateway: ServiceTokenVerifier;
  /** The unit owning the object the call reached, if any; called only for the gateway's calls. */
  ownerOf: (req: FastifyRequest, callerUnitId: string) => Promise<string | undefined> | string | undefined;
}

/**
 * §7: the record of a call (kept by the gateway) is visible to the unit owning the object the
 * call reached, allowed or refused. The answer names that unit in OWNER_UNIT_HEADER when it is
 * not the caller's own, and only when the gateway's service token vouches for the call.
 */
export function reportOwnerUnit(app: App, { routePrefix, fromGateway, ownerOf }: OwnerUnitOptions): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.principal || !req.routeOptions.url?.startsWith(routePrefix)) return payload;
    if (!(await fromGateway(req.headers[SERVICE_TOKEN_HEADER]))) return payload;
    const owner = await ownerOf(req, req.principal.unitId);
    if (owner && owner !== req.principal.unitId) reply.header(OWNER_UNIT_HEADER, owner);
    return payload;
  });
}
