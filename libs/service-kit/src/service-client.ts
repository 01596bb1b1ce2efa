import { ServiceUnavailableError } from '@gdx/errors';

export interface ServiceReadOptions {
  /** The caller's Authorization header: the other service applies its own rules to the caller. */
  authorization?: string;
  requestId?: string;
  timeoutMs?: number;
  /** What the caller is told when the other service is away: a stable code and its name. */
  unavailable: { code: string; what: string };
}

/**
 * A synchronous read from another service over HTTP (design §3: no service reads
 * another's tables). Resolves with the JSON body, or undefined when the object does not
 * exist or the id is malformed there (404/400); a service that is down, slow or answers
 * anything else becomes a 503 with the given code, revealing nothing more.
 */
export async function readFromService<T>(url: string, options: ServiceReadOptions): Promise<T | undefined> {
  const down = () => new ServiceUnavailableError(`The ${options.unavailable.what} is not answering; try again shortly.`, options.unavailable.code);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: {
        accept: 'application/json',
        ...(options.authorization ? { authorization: options.authorization } : {}),
        ...(options.requestId ? { 'x-request-id': options.requestId } : {}),
      },
      signal: AbortSignal.timeout(options.timeoutMs ?? 3_000),
    });
  } catch {
    throw down();
  }
  if (res.status === 404 || res.status === 400) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw down();
  }
  return (await res.json()) as T;
}
