import { Type, type Static } from '@sinclair/typebox';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/**
 * A problem's `code`, repeated in a header of the answer, so that the gateway can put it on the
 * call's record without reading (or buffering) the body it streams through; the gateway takes it
 * off before the answer leaves.
 */
export const PROBLEM_CODE_HEADER = 'gdx-problem-code';

/** RFC 9457 problem details, with the platform's stable `code` and the request id. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'A URI identifying the problem type.' }),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'Stable machine-readable error code.' }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    field: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }, { additionalProperties: true }))),
  },
  { $id: 'Problem', additionalProperties: true, title: 'Problem' },
);
export type Problem = Static<typeof ProblemSchema>;

export function problemType(code: string): string {
  return `https://gdx.example.gov.cn/problems/${code.toLowerCase().replace(/_/g, '-')}`;
}
