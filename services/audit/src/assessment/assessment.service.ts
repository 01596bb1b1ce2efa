import type { DataSource } from 'typeorm';
import { isOffice, type Principal } from '@gdx/auth';
import { NotFoundError, ValidationError } from '@gdx/errors';
import { decodeCursor, encodeCursor, isTimestampText, isUuidText, readFromService } from '@gdx/service-kit';
import { SERVICE_MODES } from '@gdx/contracts';
import type { AssessmentWeightsConfig } from '../config';
import { addDays, CYCLE_DAYS, daysBetween, localDay, MAX_ANSWER_DAYS, parsePeriod, ROLLUP_METRICS, type Fact, type Period, type RollupMetric } from './assessment-metrics';

/** What the score weighs (configuration `assessmentWeights`, checked at boot); penalties are points taken off per case. */
type AssessmentWeights = AssessmentWeightsConfig;

const COMPONENTS = ['publication', 'timeliness', 'responsiveness', 'legality', 'usage', 'objections'] as const;
type Component = (typeof COMPONENTS)[number];

export interface UnitAssessment {
  unitId: string;
  unitName: string;
  rank: number;
  score: number;
  catalogue: {
    resourcesCatalogued: number;
    resourcesPublished: number;
    publishedShare: number;
    byFormat: Record<string, number>;
    byClass: Record<string, number>;
    recordsHeld: number;
  };
  timeliness: { resourcesAssessed: number; resourcesTimely: number; timelyShare: number; daysOverdue: number };
  requests: {
    received: number;
    answered: number;
    answerDaysMedian: number | null;
    answerDaysP90: number | null;
    delayed: number;
    refusedWithBasis: number;
    refusedWithoutBasis: number;
  };
  usage: { given: Record<string, { calls: number; rows: number }>; received: Record<string, { calls: number; rows: number }>; givenCalls: number; receivedCalls: number };
  cases: { objectionsReceived: number; objectionsAnsweredInTime: number; objectionsOverdue: number; complaintsReceived: number; rectificationOrders: number; circulars: number };
  components: Record<Component, number>;
  penalties: number;
}

/** Figures of a unit's evidence that are not rollups: the catalogue state at the period's end and the update days. */
const STATE_METRICS: Record<string, { types: string[]; label: string }> = {
  'resources.catalogued': { types: ['resource.created', 'resource.deprecated'], label: 'Resources catalogued' },
  'resources.published': { types: ['resource.published', 'resource.deprecated'], label: 'Resources published' },
  timeliness: { types: ['data.updated', 'resource.published'], label: 'Updates against the catalogue’s update cycle' },
};

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

interface UnitEntry {
  id: string;
  name: string;
}

/**
 * Assessment (考核, Art. 28) of every unit for a month, quarter or year, from the read
 * models kept beside the trail: a handful of grouped reads, whatever the volume behind them.
 * A past period always gives the same figures (nothing is counted twice, every figure is
 * a sum of days or the catalogue as it stood at the period's end).
 */
export class AssessmentService {
  constructor(
    private readonly db: DataSource,
    private readonly options: { utcOffsetMinutes: number; weights: AssessmentWeights; gatewayUrl: string; clock?: () => Date },
  ) {}

  period(id: string): Period {
    const p = parsePeriod(id);
    if (!p) throw new ValidationError('A period is a year (2026), a quarter (2026-Q3) or a month (2026-07).', { field: 'params.period' }, 'INVALID_PERIOD');
    return p;
  }

  /** The office: every unit, ranked; a unit: its own figures only. */
  async assess(p: Principal, periodId: string, authorization?: string): Promise<{ period: Period; weights: AssessmentWeights; units: UnitAssessment[] }> {
    const period = this.period(periodId);
    const all = await this.assessAll(period, authorization);
    return { period, weights: this.options.weights, units: isOffice(p) ? all : all.filter((u) => u.unitId === p.unitId) };
  }

  async assessUnit(p: Principal, periodId: string, unitId: string, authorization?: string): Promise<UnitAssessment> {
    if (!isOffice(p) && p.unitId !== unitId) throw new NotFoundError('The unit’s assessment');
    const period = this.period(periodId);
    const found = (await this.assessAll(period, authorization)).find((u) => u.unitId === unitId);
    if (!found) throw new NotFoundError('The unit’s assessment');
    return found;
  }

  private async assessAll(period: Period, authorization?: string): Promise<UnitAssessment[]> {
    const today = localDay(this.now().toISOString(), this.options.utcOffsetMinutes);
    const [sums, held, resources, directory] = await Promise.all([
      this.db.query<{ unit_id: string; metric: string; value: string }[]>(
        'SELECT unit_id, metric, sum(value)::bigint AS value FROM assessment_rollup_month WHERE month BETWEEN $1 AND $2 GROUP BY unit_id, metric',
        [period.first, period.last],
      ),
      this.db.query<{ unit_id: string; value: string }[]>("SELECT unit_id, sum(value)::bigint AS value FROM assessment_rollup_month WHERE metric = 'records.delta' AND month <= $1 GROUP BY unit_id", [
        period.last,
      ]),
      this.db.query<
        {
          code: string;
          provider_unit_id: string;
          format: string | null;
          class: string | null;
          update_cycle: string | null;
          catalogued_day: string | null;
          published_day: string | null;
          deprecated_day: string | null;
        }[]
      >(
        `SELECT code, provider_unit_id, format, class, update_cycle, catalogued_day::text, published_day::text, deprecated_day::text FROM assessment_resource
         WHERE LEAST(catalogued_day, published_day) <= $1`,
        [period.last],
      ),
      this.directory(authorization),
    ]);
    const codes = resources.map((r) => r.code);
    const updates = codes.length
      ? await this.db.query<{ code: string; day: string }[]>('SELECT code, day::text FROM assessment_update_day WHERE code = ANY($1::text[]) AND day <= $2 AND day >= $3 ORDER BY code, day', [
          codes,
          period.last,
          addDays(period.first, -400),
        ])
      : [];
    const updatesOf = new Map<string, string[]>();
    for (const u of updates) updatesOf.set(u.code, [...(updatesOf.get(u.code) ?? []), u.day]);

    const units = new Map<string, UnitEntry>(directory.map((u) => [u.id, u]));
    const figures = new Map<string, Map<string, number>>();
    const figure = (unit: string) => {
      let f = figures.get(unit);
      if (!f) figures.set(unit, (f = new Map<string, number>()));
      return f;
    };
    for (const s of sums) figure(s.unit_id).set(s.metric, Number(s.value));
    for (const h of held) figure(h.unit_id).set('records.held', Number(h.value));
    for (const id of [...figures.keys(), ...resources.map((r) => r.provider_unit_id)]) if (!units.has(id)) units.set(id, { id, name: id });

    const out: UnitAssessment[] = [];
    for (const unit of units.values()) {
      const f = figures.get(unit.id) ?? new Map<string, number>();
      const v = (k: string) => f.get(k) ?? 0;
      const mine = resources.filter((r) => r.provider_unit_id === unit.id);
      const standing = mine.filter((r) => r.catalogued_day !== null && r.catalogued_day <= period.last && !(r.deprecated_day !== null && r.deprecated_day <= period.last));
      const published = standing.filter((r) => r.published_day !== null && r.published_day <= period.last);
      const byFormat: Record<string, number> = {};
      const byClass: Record<string, number> = {};
      for (const r of standing) {
        byFormat[r.format ?? 'unknown'] = (byFormat[r.format ?? 'unknown'] ?? 0) + 1;
        byClass[r.class ?? 'unknown'] = (byClass[r.class ?? 'unknown'] ?? 0) + 1;
      }
      // Timeliness: each published resource with a known cycle, over the part of the period it was published (up to today).
      let assessed = 0;
      let timely = 0;
      let overdue = 0;
      const end = period.last < today ? period.last : today;
      // Every resource published before the period's end and not deprecated before it began, for the days it was live.
      const live = mine.filter((r) => r.published_day !== null && r.published_day <= period.last && !(r.deprecated_day !== null && r.deprecated_day <= period.first));
      for (const r of live) {
        const cycle = CYCLE_DAYS[r.update_cycle ?? ''];
        if (!cycle) continue;
        const from = r.published_day! > period.first ? r.published_day! : period.first;
        const to = r.deprecated_day !== null && addDays(r.deprecated_day, -1) < end ? addDays(r.deprecated_day, -1) : end;
        if (to < from) continue;
        assessed++;
        const days = updatesOf.get(r.code) ?? [];
        const before = days.filter((d) => d < from);
        let anchor = before.length ? before[before.length - 1] : r.published_day!;
        let late = 0;
        for (const d of days.filter((x) => x >= from && x <= to)) {
          late += Math.max(0, daysBetween(anchor, d) - cycle);
          anchor = d;
        }
        late += Math.max(0, daysBetween(anchor, to) - cycle);
        overdue += late;
        if (late === 0) timely++;
      }
      // Median and 90th percentile of answer times, from the histogram of working days.
      const hist: number[] = [];
      for (let d = 0; d <= MAX_ANSWER_DAYS; d++) hist.push(v(`requests.answerDays=${d}`));
      const usage = (side: 'given' | 'received') =>
        Object.fromEntries(SERVICE_MODES.map((mode) => [mode, { calls: v(`usage.${side}.calls.${mode}`), rows: v(`usage.${side}.rows.${mode}`) }])) as Record<string, { calls: number; rows: number }>;
      const given = usage('given');
      const received = usage('received');
      out.push({
        unitId: unit.id,
        unitName: unit.name,
        rank: 0,
        score: 0,
        catalogue: {
          resourcesCatalogued: standing.length,
          resourcesPublished: published.length,
          publishedShare: standing.length ? round(published.length / standing.length) : 0,
          byFormat,
          byClass,
          recordsHeld: v('records.held'),
        },
        timeliness: { resourcesAssessed: assessed, resourcesTimely: timely, timelyShare: assessed ? round(timely / assessed) : 0, daysOverdue: overdue },
        requests: {
          received: v('requests.received'),
          answered: v('requests.answered'),
          answerDaysMedian: percentile(hist, 0.5),
          answerDaysP90: percentile(hist, 0.9),
          delayed: v('requests.delayed'),
          refusedWithBasis: v('requests.refusedWithBasis'),
          refusedWithoutBasis: v('requests.refusedWithoutBasis'),
        },
        usage: { given, received, givenCalls: Object.values(given).reduce((a, x) => a + x.calls, 0), receivedCalls: Object.values(received).reduce((a, x) => a + x.calls, 0) },
        cases: {
          objectionsReceived: v('objections.received'),
          objectionsAnsweredInTime: v('objections.answeredInTime'),
          objectionsOverdue: v('objections.overdue'),
          complaintsReceived: v('complaints.received'),
          rectificationOrders: v('rectifications.ordered'),
          circulars: v('circulars'),
        },
        components: { publication: 0, timeliness: 0, responsiveness: 0, legality: 0, usage: 0, objections: 0 },
        penalties: 0,
      });
    }
    this.score(out);
    return out;
  }

  /**
   * score = 100 × Σ weight × component / Σ weight − penalties, between 0 and 100, each component
   * between 0 and 1: published share; timely share; 1 − delayed / received (1 with none);
   * refusals with a legal basis / refusals (1 with none); calls served / the most any unit
   * served (0 when none did); objections answered in time / received (1 with none).
   * Penalties: points per rectification order and per circular.
   */
  private score(all: UnitAssessment[]): void {
    const w = this.options.weights;
    const most = Math.max(0, ...all.map((u) => u.usage.givenCalls));
    const total = COMPONENTS.reduce((a, c) => a + w[c], 0);
    for (const u of all) {
      const refusals = u.requests.refusedWithBasis + u.requests.refusedWithoutBasis;
      u.components = {
        publication: u.catalogue.publishedShare,
        timeliness: u.timeliness.timelyShare,
        responsiveness: u.requests.received ? round(Math.max(0, 1 - u.requests.delayed / u.requests.received)) : 1,
        legality: refusals ? round(u.requests.refusedWithBasis / refusals) : 1,
        usage: most ? round(u.usage.givenCalls / most) : 0,
        objections: u.cases.objectionsReceived ? round(Math.min(1, u.cases.objectionsAnsweredInTime / u.cases.objectionsReceived)) : 1,
      };
      u.penalties = u.cases.rectificationOrders * w.rectificationPenalty + u.cases.circulars * w.circularPenalty;
      const weighted = total ? (100 * COMPONENTS.reduce((a, c) => a + w[c] * u.components[c], 0)) / total : 0;
      u.score = Math.round(Math.min(100, Math.max(0, weighted - u.penalties)) * 10) / 10;
    }
    all.sort((a, b) => b.score - a.score || a.unitName.localeCompare(b.unitName) || a.unitId.localeCompare(b.unitId));
    all.forEach((u, i) => (u.rank = i > 0 && all[i - 1].score === u.score ? all[i - 1].rank : i + 1));
  }

  /**
   * The records behind one figure of a unit in a period, oldest first: exactly those its
   * definition counts for that unit (the definition that makes the rollups picks them).
   */
  async evidence(p: Principal, periodId: string, unitId: string, metric: string, cursor: string | undefined, limit: number) {
    if (!isOffice(p) && p.unitId !== unitId) throw new NotFoundError('The unit’s assessment');
    const period = this.period(periodId);
    const def = ROLLUP_METRICS.find((m) => m.key === metric);
    const state = STATE_METRICS[metric];
    if (!def && !state)
      throw new ValidationError(`Unknown metric; one of: ${[...ROLLUP_METRICS.map((m) => m.key), ...Object.keys(STATE_METRICS)].join(', ')}.`, { field: 'querystring.metric' }, 'UNKNOWN_METRIC');
    const types = def ? [...def.types] : state.types;
    const counts = def ? (f: Fact) => countsFor(def, f, unitId) : (f: Fact) => (f.data.providerUnitId === unitId ? 1 : 0);
    const offset = this.options.utcOffsetMinutes * 60_000;
    const from = new Date(Date.parse(`${period.first}T00:00:00Z`) - offset);
    const to = new Date(Date.parse(`${addDays(period.last, 1)}T00:00:00Z`) - offset);
    // A cursor is client input and reaches SQL: only the (timestamp, uuid) pairs this route gives out.
    let after = cursor
      ? decodeCursor(cursor, (parts) => (parts.length === 2 && isTimestampText(parts[0]) && isUuidText(parts[1]) ? ([parts[0], parts[1]] as [string, string]) : undefined))
      : undefined;
    const items: { id: string; type: string; occurredAt: string; subject: string; amount: number }[] = [];
    // The SQL narrows to records naming the unit anywhere it may appear; the definition then decides.
    for (;;) {
      const rows = await this.db.query<{ event_id: string; type: string; occurred_at: Date; subject: string; data: Record<string, unknown> }[]>(
        `SELECT event_id, type, occurred_at, subject, data FROM audit_record
         WHERE type = ANY($1::text[]) AND occurred_at >= $2 AND occurred_at < $3
           AND (actor_unit_id = $4 OR owner_unit_id = $4 OR data->>'unitId' = $4 OR data->>'againstUnitId' = $4 OR data->>'providerUnitId' = $4)
           ${after ? 'AND (occurred_at, event_id) > ($5::timestamptz, $6::uuid)' : ''}
         ORDER BY occurred_at, event_id LIMIT 500`,
        after ? [types, from, to, unitId, after[0], after[1]] : [types, from, to, unitId],
      );
      for (const r of rows) {
        after = [r.occurred_at.toISOString(), r.event_id];
        const amount = counts({ id: r.event_id, type: r.type, occurredAt: r.occurred_at.toISOString(), data: r.data });
        if (amount) items.push({ id: r.event_id, type: r.type, occurredAt: r.occurred_at.toISOString(), subject: r.subject, amount });
        if (items.length === limit) return { metric, period, unitId, items, nextCursor: encodeCursor(after) };
      }
      if (rows.length < 500) return { metric, period, unitId, items, nextCursor: null };
    }
  }

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  /**
   * Units of the directory (not the office), with their names; the caller's token reads it.
   * Every signed-in caller may read the whole directory, so one read serves all callers for a few seconds.
   */
  private async directory(authorization?: string): Promise<UnitEntry[]> {
    if (this.units && this.units.until > Date.now()) return this.units.list;
    const list = await this.readDirectory(authorization);
    this.units = { list, until: Date.now() + 10_000 };
    return list;
  }

  private units?: { list: UnitEntry[]; until: number };

  private async readDirectory(authorization?: string): Promise<UnitEntry[]> {
    const body = await readFromService<{ items?: { id: string; name: string; kind?: string }[] }>(`${this.options.gatewayUrl}/api/v1/units`, {
      authorization,
      timeoutMs: 3_000,
      unavailable: { code: 'UNIT_DIRECTORY_UNAVAILABLE', what: 'unit directory' },
    });
    return (body?.items ?? []).filter((u) => u.kind !== 'office').map((u) => ({ id: u.id, name: u.name }));
  }
}

function countsFor(def: RollupMetric, f: Fact, unitId: string): number {
  return def
    .count(f)
    .filter(([u]) => u === unitId)
    .reduce((a, [, n]) => a + n, 0);
}

/** The smallest bucket holding at least that share of the answers (null without answers). */
function percentile(hist: number[], share: number): number | null {
  const n = hist.reduce((a, x) => a + x, 0);
  if (!n) return null;
  const want = Math.ceil(share * n);
  let seen = 0;
  for (let d = 0; d < hist.length; d++) {
    seen += hist[d];
    if (seen >= want) return d;
  }
  return hist.length - 1;
}
