import { SERVICE_MODES } from '@gdx/contracts';
import { num, str } from '../shared/loose-read';

/** What the assessment reads of a record: the same whether it comes from the stream (a draft) or from the trail (a rebuild). */
export interface Fact {
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

export const SECTIONS = ['catalogue', 'timeliness', 'requests', 'usage', 'cases'] as const;
export type Section = (typeof SECTIONS)[number];

/**
 * A figure kept as daily sums per unit (assessment_rollup): which records count, for which
 * unit, by how much. The same definition makes the rollups at ingestion, rebuilds them from
 * the trail, and picks the evidence behind a figure, so the three cannot disagree.
 */
export interface RollupMetric {
  key: string;
  section: Section;
  label: string;
  types: readonly string[];
  /** The units a record counts for and by how much; empty when it does not count. */
  count: (f: Fact) => [unitId: string, amount: number][];
  /** A histogram's bucket: the rollup row is `key=bucket` (e.g. requests.answerDays=3). */
  bucket?: (f: Fact) => number;
}

/** Histogram buckets stop here: an answer after more working days is counted in this one. */
export const MAX_ANSWER_DAYS = 60;

const one = (unit: unknown, amount = 1): [string, number][] => {
  const u = str(unit);
  return u && amount ? [[u, amount]] : [];
};

/** A fact of a service mode serving a consumer unit: provider and consumer, mode, rows. */
function served(f: Fact): { provider: string | null; consumer: string | null; mode: string | null; rows: number } | null {
  const d = f.data;
  if (f.type === 'query.executed') return { provider: str(d.providerUnitId), consumer: str(d.unitId), mode: 'interface', rows: num(d.rowCount) };
  if (f.type === 'data.delivered' && d.result === 'allowed') return { provider: str(d.providerUnitId), consumer: str(d.unitId), mode: 'data-call', rows: num(d.rowCount) };
  if (f.type === 'job.finished' && d.status === 'succeeded') return { provider: str(d.providerUnitId), consumer: str(d.unitId), mode: 'customization', rows: num(d.rowCount) };
  return null;
}

const USAGE_TYPES = ['query.executed', 'data.delivered', 'job.finished'] as const;

function usage(side: 'given' | 'received', what: 'calls' | 'rows', mode: string): RollupMetric {
  return {
    key: `usage.${side}.${what}.${mode}`,
    section: 'usage',
    label: `${what === 'calls' ? 'Calls' : 'Rows'} ${side === 'given' ? 'served to other units' : 'received from other units'} (${mode})`,
    types: USAGE_TYPES,
    count: (f) => {
      const s = served(f);
      if (!s || s.mode !== mode || !s.provider || !s.consumer || s.provider === s.consumer) return [];
      return one(side === 'given' ? s.provider : s.consumer, what === 'calls' ? 1 : s.rows);
    },
  };
}

const isCase = (f: Fact, type: string) => f.data.caseType === type;

export const ROLLUP_METRICS: readonly RollupMetric[] = [
  {
    key: 'records.delta',
    section: 'catalogue',
    label: 'Change in records held (rows new or brought back, less rows deleted)',
    types: ['data.updated'],
    count: (f) => one(f.data.providerUnitId, num(f.data.inserted) + num(f.data.revived) - num(f.data.deleted)),
  },
  {
    key: 'requests.received',
    section: 'requests',
    label: 'Requests submitted to the unit for its review',
    types: ['request.submitted'],
    count: (f) => (f.data.to === 'provider' ? one(f.data.providerUnitId) : []),
  },
  { key: 'requests.answered', section: 'requests', label: 'Requests the unit answered', types: ['request.reviewed'], count: (f) => one(f.data.providerUnitId) },
  {
    key: 'requests.answerDays',
    section: 'requests',
    label: 'Answers by the working days they took (a histogram: the median and 90th percentile come from it)',
    types: ['request.reviewed'],
    count: (f) => (typeof f.data.workingDays === 'number' ? one(f.data.providerUnitId) : []),
    bucket: (f) => Math.min(MAX_ANSWER_DAYS, Math.max(0, Math.floor(num(f.data.workingDays)))),
  },
  { key: 'requests.delayed', section: 'requests', label: 'Requests whose answer deadline passed (delayed provision)', types: ['request.delayed'], count: (f) => one(f.data.providerUnitId) },
  {
    key: 'requests.refusedWithBasis',
    section: 'requests',
    label: 'Refusals stating a legal basis',
    types: ['request.reviewed'],
    count: (f) => (f.data.decision === 'refuse' && str(f.data.legalBasis)?.trim() ? one(f.data.providerUnitId) : []),
  },
  {
    key: 'requests.refusedWithoutBasis',
    section: 'requests',
    label: 'Refusals without a legal basis',
    types: ['request.reviewed'],
    count: (f) => (f.data.decision === 'refuse' && !str(f.data.legalBasis)?.trim() ? one(f.data.providerUnitId) : []),
  },
  ...SERVICE_MODES.flatMap((mode) => [usage('given', 'calls', mode), usage('given', 'rows', mode), usage('received', 'calls', mode), usage('received', 'rows', mode)]),
  { key: 'objections.received', section: 'cases', label: 'Objections to the unit’s data', types: ['case.opened'], count: (f) => (isCase(f, 'objection') ? one(f.data.againstUnitId) : []) },
  {
    key: 'objections.answeredInTime',
    section: 'cases',
    label: 'Objections the unit answered within the deadline',
    types: ['case.changed'],
    count: (f) => (isCase(f, 'objection') && f.data.action === 'answer' && f.data.overdue === false ? one(f.data.againstUnitId) : []),
  },
  {
    key: 'objections.overdue',
    section: 'cases',
    label: 'Objections left unanswered past the deadline',
    types: ['case.overdue'],
    count: (f) => (isCase(f, 'objection') ? one(f.data.againstUnitId) : []),
  },
  { key: 'complaints.received', section: 'cases', label: 'Complaints about the unit', types: ['case.opened'], count: (f) => (isCase(f, 'complaint') ? one(f.data.againstUnitId) : []) },
  { key: 'rectifications.ordered', section: 'cases', label: 'Rectification orders to the unit', types: ['case.opened'], count: (f) => (isCase(f, 'rectification') ? one(f.data.againstUnitId) : []) },
  { key: 'circulars', section: 'cases', label: 'Circulars (通报批评) about the unit', types: ['case.circulated'], count: (f) => one(f.data.againstUnitId) },
];

export const ROLLUP_BY_TYPE: ReadonlyMap<string, readonly RollupMetric[]> = (() => {
  const m = new Map<string, RollupMetric[]>();
  for (const metric of ROLLUP_METRICS) for (const t of metric.types) m.set(t, [...(m.get(t) ?? []), metric]);
  return m;
})();

/** Events that change what the catalogue state and update days hold (not rollups: state at the period's end). */
export const CATALOGUE_TYPES = ['resource.created', 'resource.updated', 'resource.published', 'resource.deprecated', 'data.updated'] as const;

/** The catalogue's update cycles in days; an unknown cycle is not assessed for timeliness. */
export const CYCLE_DAYS: Readonly<Record<string, number>> = { realtime: 1, daily: 1, weekly: 7, monthly: 31, quarterly: 92, yearly: 366 };

/** The local civil date of an instant (the assessment counts days in the city's time). */
export function localDay(iso: string, offsetMinutes: number): string {
  return new Date(Date.parse(iso) + offsetMinutes * 60_000).toISOString().slice(0, 10);
}

export interface Period {
  /** As asked: 2026, 2026-Q3 or 2026-07. */
  id: string;
  kind: 'year' | 'quarter' | 'month';
  /** First and last day, inclusive (local dates). */
  first: string;
  last: string;
}

const PERIOD = /^(\d{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?$/;

export function parsePeriod(id: string): Period | undefined {
  const m = PERIOD.exec(id);
  if (!m) return undefined;
  const year = Number(m[1]);
  if (year < 2000 || year > 2999) return undefined;
  const [fromMonth, months, kind] = m[2] ? [(Number(m[2]) - 1) * 3 + 1, 3, 'quarter' as const] : m[3] ? [Number(m[3]), 1, 'month' as const] : [1, 12, 'year' as const];
  const first = `${year}-${String(fromMonth).padStart(2, '0')}-01`;
  const end = new Date(Date.UTC(year, fromMonth - 1 + months, 1) - 86_400_000).toISOString().slice(0, 10);
  return { id, kind, first, last: end };
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}
