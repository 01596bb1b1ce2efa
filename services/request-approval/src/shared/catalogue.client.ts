import { ServiceUnavailableError } from '@gdx/errors';
import { readFromService } from '@gdx/service-kit';

export type SharingType = 'unconditional' | 'conditional' | 'none';

/** What this service needs to know of a catalogue resource; the catalogue owns the rest. */
export interface CatalogueResource {
  code: string;
  name?: string;
  status: string;
  providerUnitId: string;
  providerUnitName?: string;
  version?: number;
  items: { key: string; label?: string; type?: string; queryKey?: boolean; sensitivity?: string; sharing?: SharingType }[];
  sharing: { type: SharingType; conditions?: string; legalBasis?: string };
  methods: string[];
}

export interface CatalogueClient {
  /** The resource as the caller may see it, or undefined when it does not exist (or is hidden from the caller). */
  resource(code: string, authorization: string | undefined): Promise<CatalogueResource | undefined>;
}

/**
 * Reads resources from the catalogue service over HTTP, forwarding the caller's
 * token so the catalogue applies its own visibility rules: what the caller cannot
 * see there cannot be requested here.
 */
export class HttpCatalogueClient implements CatalogueClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 3_000,
  ) {}

  async resource(code: string, authorization: string | undefined): Promise<CatalogueResource | undefined> {
    // A 400 means the code is malformed: it names no resource, which the caller reports against its own input.
    const body = await readFromService<Partial<CatalogueResource>>(`${this.baseUrl}/api/v1/catalogue/resources/${encodeURIComponent(code)}`, {
      authorization,
      timeoutMs: this.timeoutMs,
      unavailable: { code: 'CATALOGUE_UNAVAILABLE', what: 'catalogue' },
    });
    if (!body) return undefined;
    if (typeof body.providerUnitId !== 'string' || !Array.isArray(body.items) || !body.sharing) {
      throw new ServiceUnavailableError('The catalogue answered with something that is not a resource.', 'CATALOGUE_UNAVAILABLE');
    }
    return { ...body, methods: Array.isArray(body.methods) ? body.methods : [] } as CatalogueResource;
  }
}

const STRICTNESS: Record<SharingType, number> = { unconditional: 0, conditional: 1, none: 2 };

/**
 * The sharing type that decides a request: the resource's, or stricter when an item
 * asked for carries a stricter override (an item may only tighten its resource).
 */
export function effectiveSharing(resource: CatalogueResource, itemKeys: readonly string[]): SharingType {
  let type = resource.sharing.type;
  for (const item of resource.items) {
    if (item.sharing && itemKeys.includes(item.key) && STRICTNESS[item.sharing] > STRICTNESS[type]) type = item.sharing;
  }
  return type;
}

export function queryKeysOf(resource: CatalogueResource): { key: string; type?: string }[] {
  return resource.items.filter((i) => i.queryKey).map((i) => ({ key: i.key, type: i.type }));
}
