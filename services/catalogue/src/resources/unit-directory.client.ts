import { ValidationError } from '@gdx/errors';
import { readFromService } from '@gdx/service-kit';

export interface ProviderUnit {
  id: string;
  name: string;
  creditCode: string;
}

/**
 * The gateway owns the unit directory; the catalogue asks it over HTTP with the
 * caller's own token, so the directory applies its own rules to the caller.
 */
export class UnitDirectoryClient {
  constructor(
    private readonly gatewayUrl: string,
    private readonly timeoutMs = 3000,
  ) {}

  /** The provider unit, or a 400 naming `field` when it does not exist or is disabled. */
  async provider(unitId: string, authorization: string | undefined, field: string, requestId?: string): Promise<ProviderUnit> {
    const unit = await readFromService<{ id: string; name: string; creditCode: string; status?: string }>(`${this.gatewayUrl}/api/v1/units/${encodeURIComponent(unitId)}`, {
      authorization,
      requestId,
      timeoutMs: this.timeoutMs,
      unavailable: { code: 'UNIT_DIRECTORY_UNAVAILABLE', what: 'unit directory' },
    });
    if (!unit) throw new ValidationError(`No unit ${unitId} exists.`, { field }, 'UNKNOWN_UNIT');
    if (unit.status === 'disabled') throw new ValidationError(`Unit ${unit.name} is disabled and cannot provide resources.`, { field }, 'UNIT_DISABLED');
    return { id: unit.id, name: unit.name, creditCode: unit.creditCode };
  }
}
