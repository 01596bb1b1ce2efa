import { Type, type TSchema } from '@sinclair/typebox';
import { ProblemSchema } from '@gdx/errors';

/** The media type every RFC 9457 problem answer is sent with. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * One response declared with its media type and, optionally, its headers: what
 * @fastify/swagger documents and fastify serializes by the reply's content type.
 * Typed as a schema so that routes keep their reply types.
 */
export function mediaResponse(mediaType: string, schema: TSchema, description: string, headers?: Record<string, TSchema>): TSchema {
  return { description, ...(headers ? { headers } : {}), content: { [mediaType]: { schema } } } as unknown as TSchema;
}

/** A problem answer (`application/problem+json`) with its own schema and headers. */
export function problemResponse(status: number, schema: TSchema = Type.Ref(ProblemSchema.$id as string), headers?: Record<string, TSchema>, description = describe(status)): TSchema {
  return mediaResponse(PROBLEM_MEDIA_TYPE, schema, description, headers);
}

/** Problem responses every protected route may give, for the OpenAPI documents, as `application/problem+json`. */
export function problemResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of statuses) out[s] = problemResponse(s);
  return out;
}

function describe(status: number): string {
  return (
    (
      {
        400: 'Bad input',
        401: 'Missing or invalid token',
        403: 'Not allowed',
        404: 'No such object (or not visible to the caller)',
        409: 'Conflicts with the current state',
        410: 'Gone: no longer served',
        415: 'Unsupported media type',
        422: 'Well-formed but refused',
        413: 'Body too large',
        429: 'Rate limit or quota exceeded',
        503: 'A dependency is unavailable',
      } as Record<number, string>
    )[status] ?? 'Problem'
  );
}

export const UuidParam = Type.String({ format: 'uuid' });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'Opaque cursor from the previous page’s `nextCursor`.' })),
};

export function page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/**
 * An operation's description for the OpenAPI document, with the stable problem `code`s
 * it may answer besides the ones every operation may (`VALIDATION_FAILED`, `INVALID_TEXT`,
 * `UNAUTHENTICATED`, `TOKEN_*`, `NOT_FOUND`): listed in the text and as `x-error-codes`.
 */
export function operationDoc(description: string, codes: string[] = []): { description: string; 'x-error-codes'?: string[] } {
  if (codes.length === 0) return { description };
  return { description: `${description}\n\nProblem codes: ${codes.map((c) => `\`${c}\``).join(', ')}.`, 'x-error-codes': codes };
}
