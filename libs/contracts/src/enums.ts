import { FormatRegistry, Kind, Type, TypeRegistry, type TUnsafe } from '@sinclair/typebox';

/**
 * A closed set of strings as a JSON Schema `enum`: one validation error naming the
 * allowed values (a union of literals reports one error per literal). Its kind is
 * registered below so TypeBox's compiler checks it as ajv does.
 */
export function StringEnum<T extends string>(values: readonly T[], options: { description?: string; default?: T; $id?: string } = {}): TUnsafe<T> {
  return Type.Unsafe<T>({ [Kind]: 'StringEnum', type: 'string', enum: [...values], ...options });
}

if (!TypeRegistry.Has('StringEnum')) TypeRegistry.Set<{ enum: string[] }>('StringEnum', (schema, value) => typeof value === 'string' && schema.enum.includes(value));

// The formats the contracts use, checked by TypeBox's compiler as ajv-formats checks them.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => UUID.test(v));
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));

/** The three service modes of the regulation (§6): 接口查询, 数据调用, 数据定制. */
export const SERVICE_MODES = ['interface', 'data-call', 'customization'] as const;
export type ServiceMode = (typeof SERVICE_MODES)[number];

/** Data types of a catalogue item. */
export const ITEM_TYPES = ['string', 'code', 'date', 'datetime', 'integer', 'decimal', 'boolean'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

/** What an item's sensitivity lets leave the platform (§6). */
export const SENSITIVITIES = ['public', 'internal', 'personal', 'secret'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];

export const SHARING_TYPES = ['unconditional', 'conditional', 'none'] as const;
export type SharingType = (typeof SHARING_TYPES)[number];

export const RESOURCE_STATUSES = ['draft', 'published', 'deprecated'] as const;
export type ResourceStatus = (typeof RESOURCE_STATUSES)[number];

/**
 * A grant's states. `superseded`: a newer grant for the same consumer unit, resource
 * and mode took its place, so at most one grant per (unit, resource, mode) is live.
 */
export const GRANT_STATUSES = ['active', 'suspended', 'revoked', 'expired', 'superseded'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

export const ACTOR_KINDS = ['account', 'client', 'system', 'anonymous'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

/** Kinds of a customization job (数据定制, §6 mode 3): 比对, 筛选, 清洗, 规范化 and format conversion. */
export const JOB_KINDS = ['compare', 'filter', 'clean', 'normalize', 'convert'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** A job's states: `awaiting-input` until its upload arrives; `expired` once its result was deleted. */
export const JOB_STATUSES = ['awaiting-input', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Cases of the supervisory half of the regulation (§5, Art. 18, 29, 30): 异议, 投诉, 限期整改. */
export const CASE_TYPES = ['objection', 'complaint', 'rectification'] as const;
export type CaseType = (typeof CASE_TYPES)[number];

/**
 * Every state a case can be in, across its types: an objection waits for the provider's
 * answer, is answered, goes to the office on escalation and closes; a complaint is
 * submitted, investigated and answered; a rectification order is ordered, reported on,
 * then rectified, or circulated (通报批评) when overdue or failed twice.
 */
export const CASE_STATUSES = ['awaiting_answer', 'answered', 'office_review', 'submitted', 'investigating', 'ordered', 'reported', 'rectified', 'circulated', 'closed', 'withdrawn'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** A maintenance notice (Art. 23) is in force until cancelled; whether its window is ahead, on or over is a matter of the clock. */
export const NOTICE_STATUSES = ['announced', 'cancelled'] as const;
export type NoticeStatus = (typeof NOTICE_STATUSES)[number];

/** Security inspection's rules (安全督查, Art. 31): what an alert says fired. */
export const INSPECTION_RULES = ['volume', 'enumeration', 'off-hours', 'denials', 'after-purpose'] as const;
export type InspectionRule = (typeof INSPECTION_RULES)[number];
