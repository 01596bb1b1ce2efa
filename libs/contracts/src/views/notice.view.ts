import { Type, type Static } from '@sinclair/typebox';
import { NOTICE_STATUSES, SERVICE_MODES, StringEnum } from '../enums';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/**
 * A maintenance notice (维护公告, Art. 23) as request-approval publishes it: on its
 * `notice.*` events and in the snapshot the gateway loads, which answers calls to what
 * it names with 503 while its window is open.
 */
export const NoticeViewSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    number: Type.String({ description: 'Year and sequence, e.g. WH-2026-0001.' }),
    issuerUnitId: Type.String({ format: 'uuid', description: 'The office, or the provider unit announcing maintenance of its own resources.' }),
    startsAt: DateTime,
    endsAt: DateTime,
    services: Type.Array(StringEnum(SERVICE_MODES), { description: 'Service modes unavailable for every resource during the window (office notices only).' }),
    resourceCodes: Type.Array(Type.String(), { description: 'Resources unavailable in every mode during the window.' }),
    description: Type.String(),
    emergency: Type.Boolean({ description: 'Announced less than 3 working days ahead, for the reason given.' }),
    emergencyReason: Nullable(Type.String()),
    status: StringEnum(NOTICE_STATUSES),
    cancelReason: Nullable(Type.String()),
    version: Type.Integer({ minimum: 1, description: 'Raised by every amendment and the cancellation; a reader keeps the highest.' }),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'NoticeView', additionalProperties: false },
);
export type NoticeView = Static<typeof NoticeViewSchema>;

/** Whether a notice's window is open at `now` (ms) and it is not cancelled. */
export function noticeInEffect(n: Pick<NoticeView, 'status' | 'startsAt' | 'endsAt'>, now: number): boolean {
  return n.status === 'announced' && Date.parse(n.startsAt) <= now && now < Date.parse(n.endsAt);
}
