import { readFromService } from '@gdx/service-kit';

export interface UnitDirectory {
  /** Whether a unit with this id exists, as the gateway's directory says. */
  exists(unitId: string, authorization: string | undefined): Promise<boolean>;
}

/** The gateway owns units; an out-of-catalogue request must name one that exists. */
export class HttpUnitDirectory implements UnitDirectory {
  constructor(
    private readonly gatewayUrl: string,
    private readonly timeoutMs = 3_000,
  ) {}

  async exists(unitId: string, authorization: string | undefined): Promise<boolean> {
    const unit = await readFromService(`${this.gatewayUrl}/api/v1/units/${encodeURIComponent(unitId)}`, {
      authorization,
      timeoutMs: this.timeoutMs,
      unavailable: { code: 'UNIT_DIRECTORY_UNAVAILABLE', what: 'unit directory' },
    });
    return unit !== undefined;
  }
}
