import { ServiceUnavailableError, ValidationError } from '@gdx/errors';

export interface ProviderUnit {
  id: string;
  name: string;
  creditCode: string;
}

/**
 * The gateway owns the unit directory; the catalogue asks it over HTTP (design §3: no
 * service reads another's tables) with the caller's own token, so the directory applies
 * its own rules to the caller.
 */
export class UnitDirectoryClient {
  constructor(private readonly gatewayUrl: string, private readonly timeoutMs = 3000) {}

  /** The provider unit, or a 400 naming `field` when it does not exist or is disabled. */
  async provider(unitId: string, authorization: string | undefined, field: string, requestId?: string): Promise<ProviderUnit> {
    let res: Response;
    try {
      res = await fetch(`${this.gatewayUrl}/api/v1/units/${encodeURIComponent(unitId)}`, {
        headers: { accept: 'application/json', ...(authorization ? { authorization } : {}), ...(requestId ? { 'x-request-id': requestId } : {}) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new ServiceUnavailableError('The unit directory is not answering; try again shortly.', 'UNIT_DIRECTORY_UNAVAILABLE');
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new ValidationError(`No unit ${unitId} exists.`, { field }, 'UNKNOWN_UNIT');
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ServiceUnavailableError('The unit directory could not be read; try again shortly.', 'UNIT_DIRECTORY_UNAVAILABLE');
    }
    const unit = (await res.json()) as { id: string; name: string; creditCode: string; status?: string };
    if (unit.status === 'disabled') throw new ValidationError(`Unit ${unit.name} is disabled and cannot provide resources.`, { field }, 'UNIT_DISABLED');
    return { id: unit.id, name: unit.name, creditCode: unit.creditCode };
  }
}
