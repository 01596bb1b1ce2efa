import { readFromService } from '@gdx/service-kit';

export interface UnitDirectory {
  /** Whether a unit with this id exists, as the gateway's directory says. */
  exists(unitId: string, authorization: string | undefined): Promise<boolean>;
  /** The unit's registered name, or undefined when the caller cannot see it (or it does not exist). */
  name(unitId: string, authorization: string | undefined): Promise<string | undefined>;
}

/** The gateway owns units; an out-of-catalogue request must name one that exists, and a record form names the caller's own. */
export class HttpUnitDirectory implements UnitDirectory {
  constructor(
    private readonly gatewayUrl: string,
    private readonly timeoutMs = 3_000,
  ) {}

  async exists(unitId: string, authorization: string | undefined): Promise<boolean> {
    return (await this.read(unitId, authorization)) !== undefined;
  }

  async name(unitId: string, authorization: string | undefined): Promise<string | undefined> {
    const unit = await this.read(unitId, authorization);
    return typeof unit?.name === 'string' ? unit.name : undefined;
  }

  private read(unitId: string, authorization: string | undefined): Promise<{ name?: unknown } | undefined> {
    return readFromService<{ name?: unknown }>(`${this.gatewayUrl}/api/v1/units/${encodeURIComponent(unitId)}`, {
      authorization,
      timeoutMs: this.timeoutMs,
      unavailable: { code: 'UNIT_DIRECTORY_UNAVAILABLE', what: 'unit directory' },
    });
  }
}
