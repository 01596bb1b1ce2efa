import { mergeOpenapi, type OpenApiDoc } from '@gdx/service-kit';
import type { Upstream } from './upstreams';
import { documentMaintenance } from '../maintenance/maintenance.hook';

export const PLATFORM_INFO = {
  title: 'GDX platform API',
  version: '1.0.0',
  description: 'Government data sharing and exchange: identity, catalogue, requests and grants, data services and audit, all through the gateway.',
};

/** The platform document from the gateway's own and the services' documents (what the gateway serves, and what openapi/gdx.json holds). */
export function platformOpenapi(own: OpenApiDoc, services: OpenApiDoc[]): OpenApiDoc {
  // A copy: the services' own documents stay as they generate them.
  return documentMaintenance(structuredClone(mergeOpenapi(own, services, PLATFORM_INFO)));
}

/** The platform document: the gateway's own routes plus each service's, refetched at most every 30 s. */
export class MergedOpenapi {
  private merged?: OpenApiDoc;
  private fetchedAt = 0;
  private docs = new Map<string, OpenApiDoc>();

  constructor(private readonly upstreams: Upstream[]) {}

  current(): OpenApiDoc | undefined {
    return this.merged;
  }

  async refresh(own: OpenApiDoc): Promise<OpenApiDoc> {
    if (!this.merged || Date.now() - this.fetchedAt > 30_000) {
      this.fetchedAt = Date.now();
      await Promise.all(
        this.upstreams.map(async (u) => {
          try {
            const res = await fetch(`${u.url}/openapi.json`, { signal: AbortSignal.timeout(2_000) });
            if (res.ok) this.docs.set(u.name, (await res.json()) as OpenApiDoc);
          } catch {
            // A service that is down keeps its last known document.
          }
        }),
      );
    }
    this.merged = platformOpenapi(own, [...this.docs.values()]);
    return this.merged;
  }
}
