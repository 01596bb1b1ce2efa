import { Type, type TSchema } from '@sinclair/typebox';
import { ProblemSchema } from '@gdx/errors';

/** Problem responses every protected route may give, for the OpenAPI documents. */
export function problemResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of statuses) out[s] = Type.Ref(ProblemSchema.$id as string, { description: describe(s) });
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
