import { ServiceUnavailableError } from '@gdx/errors';

export interface UnitDirectory {
  /** Whether a unit with this id exists, as the gateway's directory says. */
  exists(unitId: string, authorization: string | undefined): Promise<boolean>;
}

/** The gateway owns units; an out-of-catalogue request must name one that exists. */
export class HttpUnitDirectory implements UnitDirectory {
  constructor(private readonly gatewayUrl: string, private readonly timeoutMs = 3_000, private readonly fetchImpl: typeof fetch = fetch) {}

  async exists(unitId: string, authorization: string | undefined): Promise<boolean> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.gatewayUrl}/api/v1/units/${encodeURIComponent(unitId)}`, {
        headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new ServiceUnavailableError('The unit directory is not answering; try again shortly.', 'DIRECTORY_UNAVAILABLE');
    }
    if (res.status === 404 || res.status === 400) return false;
    if (!res.ok) throw new ServiceUnavailableError(`The unit directory answered ${res.status}; try again shortly.`, 'DIRECTORY_UNAVAILABLE');
    return true;
  }
}
