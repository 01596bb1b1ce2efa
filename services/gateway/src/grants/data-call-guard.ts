import { pipeline, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decideGrant, MANIFEST_TRAILER, PULL_HEADERS } from '@gdx/contracts';
import { ForbiddenError, ServiceUnavailableError } from '@gdx/errors';
import type { GrantCache } from './grant-cache';
import type { GuardedRoute } from '../proxy/upstreams';
import type { ManifestSigner } from '@gdx/auth';
import { ManifestTransform } from './delivery-manifest';

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

const FORMATS: [RegExp, 'ndjson' | 'csv' | 'json'][] = [
  [/^application\/x-ndjson/, 'ndjson'],
  [/^text\/csv/, 'csv'],
  [/^application\/json/, 'json'],
];

const header = (h: Record<string, string | string[] | undefined>, name: string) => {
  const v = h[name];
  return typeof v === 'string' ? v : undefined;
};

/**
 * A pull's answer on its way out: counted, hashed and its manifest signed by the gateway
 * (ManifestTransform), the signed manifest in the NDJSON trailer line and in the
 * `gdx-manifest` HTTP trailer; compressed here, after the gateway read it, when the caller asks.
 */
export function signedPulls(signer: ManifestSigner): Pick<GuardedRoute, 'requestHeaders' | 'onResponse'> {
  return {
    requestHeaders: { 'accept-encoding': 'identity' },
    onResponse: (req: FastifyRequest, reply: FastifyReply, res) => {
      const format = FORMATS.find(([re]) => re.test(header(res.headers, 'content-type') ?? ''))?.[1];
      const deliveryId = header(res.headers, PULL_HEADERS.deliveryId);
      const grantId = header(res.headers, PULL_HEADERS.grantId);
      const nextCursor = header(res.headers, PULL_HEADERS.nextCursor);
      if (res.statusCode !== 200 || !format || !deliveryId || !grantId || !nextCursor) {
        void reply.send(res.stream);
        return;
      }
      const since = (req.query as { since?: unknown }).since;
      const manifests = new ManifestTransform(
        { deliveryId, recipientUnitId: req.principal.unitId, grantId, resourceCode: (req.params as { code: string }).code, format, cursorFrom: typeof since === 'string' ? since : null, nextCursor },
        signer,
        (detail) => req.log.error(detail, 'a pull’s figures disagree with what the gateway counted; its manifest is not signed'),
      );
      reply.trailer(MANIFEST_TRAILER, async () => manifests.manifest ?? '');
      const done = (err: Error | null | undefined) => {
        if (err) req.log.warn({ err, deliveryId }, 'a pull ended early');
      };
      if (!/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
        void reply.send(pipeline(res.stream as Readable, manifests, done));
        return;
      }
      reply.header('content-encoding', 'gzip');
      void reply.send(pipeline(res.stream as Readable, manifests, createGzip(), done));
    },
  };
}
