import type { DataSource, EntityManager } from 'typeorm';
import { isOffice, requireRole, type Principal } from '@gdx/auth';
import { createEvent, type DeclaredEvent, type EventData, type InspectionRule } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import { ConflictError, NotFoundError } from '@gdx/errors';
import type { EventEnvelope, EventPublisher } from '@gdx/events';
import { decodeCursor, encodeCursor } from '@gdx/service-kit';
import { num, str } from '../shared/loose-read';

export type Rule = InspectionRule;

export interface InspectionRules {
  volumeFactor: number;
  volumeMinCalls: number;
  volumeWeeks: number;
  enumerationWindowMinutes: number;
  enumerationMinKeys: number;
  enumerationNotFoundShare: number;
  sequentialRun: number;
  /** Minutes since local midnight: [start, end). */
  workingHours: [number, number];
  bulkRows: number;
  denialWindowSeconds: number;
  denialBurst: number;
  utcOffsetMinutes: number;
}

/** What inspection reads of an event; read loosely, like the trail (events arrive unvalidated). */
interface Seen {
  id: string;
  type: string;
  at: number;
  data: Record<string, unknown>;
  actorClientId: string | null;
  actorAccountId: string | null;
}

const DENIALS = new Set(['NO_GRANT', 'ITEM_NOT_GRANTED', 'MODE_NOT_GRANTED']);
const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
const MAX_IDS = 100;

type Alert = Omit<EventData<'inspection.alert'>, 'alertId'> & { dedupeKey: string };

/**
 * Security inspection (安全督查, Art. 31): rules over the service modes' events, evaluated as
 * they arrive (each consumer batch, in one transaction with its counters and the alerts it
 * raises, whose `inspection.alert` events leave through the outbox). Counters live in
 * PostgreSQL, so every replica judges the same windows; an alert is raised once per rule and
 * window (its dedupe key).
 */
export class InspectionService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventPublisher,
    readonly rules: InspectionRules,
  ) {}

  /** Evaluates a batch; returns the alerts raised (their events are in `out`, for the caller's outbox). */
  async inspect(m: EntityManager, batch: readonly EventEnvelope[], out: DeclaredEvent[]): Promise<Rule[]> {
    const seen: Seen[] = batch.map((e) => ({
      id: e.id,
      type: e.type,
      at: Date.parse(e.occurredAt),
      // Events arrive unvalidated: anything may be missing.
      data: (e.data as Record<string, unknown> | undefined) ?? {},
      actorClientId: str(e.actor?.clientId),
      actorAccountId: str(e.actor?.accountId),
    }));
    const alerts: Alert[] = [];
    for (const e of seen.filter((x) => x.type.startsWith('grant.'))) await this.rememberGrant(m, e);
    alerts.push(...(await this.volume(m, seen)));
    alerts.push(...(await this.enumeration(m, seen)));
    alerts.push(...this.offHours(seen));
    alerts.push(...(await this.denials(m, seen)));
    alerts.push(...(await this.afterPurpose(m, seen)));
    const raised: Rule[] = [];
    for (const a of alerts) {
      const id = uuidv7();
      const inserted = await m.query<{ id: string }[]>(
        `INSERT INTO inspection_alert (id, rule, dedupe_key, unit_id, owner_unit_id, client_id, grant_id, resource_code, window_start, window_end, figures, record_ids)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
        [id, a.rule, a.dedupeKey, a.unitId, a.ownerUnitId ?? null, a.clientId, a.grantId, a.resourceCode, a.windowStart, a.windowEnd, JSON.stringify(a.figures), a.recordIds],
      );
      if (!inserted.length) continue;
      const { dedupeKey: _key, ownerUnitId: _provider, ...data } = a;
      // The unit the alert is about owns its record (a unit sees the alerts about its own clients).
      out.push(createEvent('inspection.alert', { actor: { kind: 'system' }, subject: id, data: { ...data, alertId: id, ownerUnitId: a.unitId } }));
      raised.push(a.rule);
    }
    return raised;
  }

  // ── rules ─────────────────────────────────────────────────────────────────

  /** Calls per grant and per unit per hour, against the median of the same hour of the week in the past weeks that had any. */
  private async volume(m: EntityManager, seen: Seen[]): Promise<Alert[]> {
    const touched = new Map<string, { key: string; hour: number; unit: string; grant: string | null; code: string | null; owner: string | null; n: number; ids: string[] }>();
    for (const e of seen) {
      const use = usage(e);
      if (!use) continue;
      const hour = Math.floor(e.at / HOUR) * HOUR;
      for (const key of [use.grant ? `grant:${use.grant}` : null, `unit:${use.unit}`]) {
        if (!key) continue;
        const k = `${key}@${hour}`;
        const t = touched.get(k) ?? { key, hour, unit: use.unit, grant: key.startsWith('grant:') ? use.grant : null, code: use.code, owner: use.owner, n: 0, ids: [] };
        t.n++;
        if (t.ids.length < MAX_IDS) t.ids.push(e.id);
        touched.set(k, t);
      }
    }
    const alerts: Alert[] = [];
    const list = [...touched.values()];
    const counted = await this.countMany(
      m,
      'volume',
      list.map((t) => ({ key: t.key, window: t.hour, n: t.n, ids: t.ids })),
    );
    // Every baseline window of every key touched, in one read.
    const pairs = list.flatMap((t) => Array.from({ length: this.rules.volumeWeeks }, (_, i) => [t.key, t.hour - (i + 1) * WEEK] as const));
    const past = await m.query<{ key: string; window_start: Date; count: string }[]>(
      `SELECT key, window_start, count FROM inspection_counter WHERE rule = 'volume' AND (key, window_start) IN (SELECT * FROM unnest($1::text[], $2::timestamptz[]))`,
      [pairs.map((x) => x[0]), pairs.map((x) => new Date(x[1]))],
    );
    const pastCount = new Map(past.map((h) => [`${h.key}@${h.window_start.getTime()}`, Number(h.count)]));
    for (const t of list) {
      const row = counted.get(`${t.key}@${t.hour}`)!;
      const history = Array.from({ length: this.rules.volumeWeeks }, (_, i) => pastCount.get(`${t.key}@${t.hour - (i + 1) * WEEK}`)).filter((c): c is number => c !== undefined);
      // No history for that hour of the week: nothing to be far above yet.
      if (!history.length) continue;
      const median = medianOf(history);
      const calls = Number(row.count);
      if (calls < this.rules.volumeMinCalls || calls <= this.rules.volumeFactor * Math.max(median, 1)) continue;
      alerts.push({
        rule: 'volume',
        dedupeKey: `volume:${t.key}:${new Date(t.hour).toISOString()}`,
        unitId: t.unit,
        ownerUnitId: t.owner ?? undefined,
        clientId: null,
        grantId: t.grant,
        resourceCode: t.grant ? t.code : null,
        windowStart: new Date(t.hour).toISOString(),
        windowEnd: new Date(t.hour + HOUR).toISOString(),
        figures: { scope: t.key.split(':')[0], calls, baselineMedian: median, baselineWeeks: history.length, factor: this.rules.volumeFactor },
        recordIds: row.record_ids,
      });
    }
    return alerts;
  }

  /** Many distinct keys mostly not found, or a run of consecutive identity numbers, from one client in a window. */
  private async enumeration(m: EntityManager, seen: Seen[]): Promise<Alert[]> {
    const size = this.rules.enumerationWindowMinutes * 60_000;
    const touched = new Map<string, { client: string; window: number; unit: string; owner: string | null; code: string | null; ids: string[] }>();
    const rows: [string, Date, string, number, boolean][] = [];
    for (const e of seen) {
      if (e.type !== 'query.executed' || !Array.isArray(e.data.keys)) continue;
      const client = clientOf(e);
      const unit = str(e.data.unitId);
      if (!client || !unit) continue;
      const window = Math.floor(e.at / size) * size;
      const found = num(e.data.rowCount) > 0;
      for (const k of e.data.keys as { digest?: unknown; seq?: unknown }[]) {
        const digest = str(k?.digest);
        if (digest) rows.push([client, new Date(window), digest, typeof k.seq === 'number' ? k.seq : -1, found]);
      }
      const t = touched.get(`${client}@${window}`) ?? { client, window, unit, owner: str(e.data.providerUnitId), code: str(e.data.resourceCode), ids: [] };
      if (t.ids.length < MAX_IDS) t.ids.push(e.id);
      touched.set(`${client}@${window}`, t);
    }
    if (!rows.length) return [];
    rows.sort((a, b) => (`${a[0]}${a[2]}${a[3]}` < `${b[0]}${b[2]}${b[3]}` ? -1 : 1));
    await m.query(
      `INSERT INTO inspection_key (client, window_start, digest, seq, found) SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::int[], $5::bool[])
       ON CONFLICT (client, window_start, digest, seq) DO UPDATE SET found = inspection_key.found OR EXCLUDED.found`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]), rows.map((r) => r[4])],
    );
    const alerts: Alert[] = [];
    const list = [...touched.values()];
    const clients = list.map((t) => t.client);
    const windows = list.map((t) => new Date(t.window));
    const totals = await m.query<{ client: string; window_start: Date; keys: number; missing: number }[]>(
      `SELECT client, window_start, count(*)::int AS keys, (count(*) FILTER (WHERE NOT found))::int AS missing FROM inspection_key
       WHERE (client, window_start) IN (SELECT * FROM unnest($1::text[], $2::timestamptz[])) GROUP BY 1, 2`,
      [clients, windows],
    );
    const runs = await m.query<{ client: string; window_start: Date; seqs: number[] }[]>(
      `SELECT client, window_start, array_agg(seq ORDER BY seq) AS seqs FROM inspection_key
       WHERE (client, window_start) IN (SELECT * FROM unnest($1::text[], $2::timestamptz[])) AND seq >= 0 GROUP BY client, window_start, digest`,
      [clients, windows],
    );
    const flagged: { t: (typeof list)[number]; keys: number; missing: number; longest: number; many: boolean }[] = [];
    for (const t of list) {
      const mine = (r: { client: string; window_start: Date }) => r.client === t.client && r.window_start.getTime() === t.window;
      const { keys, missing } = totals.find(mine) ?? { keys: 0, missing: 0 };
      const longest = Math.max(0, ...runs.filter(mine).map((r) => longestRun(r.seqs)));
      const many = keys >= this.rules.enumerationMinKeys && missing / keys >= this.rules.enumerationNotFoundShare;
      if (many || longest >= this.rules.sequentialRun) flagged.push({ t, keys, missing, longest, many });
    }
    if (!flagged.length) return alerts;
    const counted = await this.countMany(
      m,
      'enumeration',
      flagged.map(({ t }) => ({ key: t.client, window: t.window, n: 0, ids: t.ids })),
    );
    for (const { t, keys, missing, longest, many } of flagged) {
      const start = new Date(t.window);
      const share = keys ? missing / keys : 0;
      alerts.push({
        rule: 'enumeration',
        dedupeKey: `enumeration:${t.client}:${start.toISOString()}`,
        unitId: t.unit,
        ownerUnitId: t.owner ?? undefined,
        clientId: t.client,
        grantId: null,
        resourceCode: t.code,
        windowStart: start.toISOString(),
        windowEnd: new Date(t.window + size).toISOString(),
        figures: { distinctKeys: keys, notFound: missing, notFoundShare: Math.round(share * 1000) / 1000, longestSequentialRun: longest, pattern: many ? 'not-found' : 'sequential' },
        recordIds: counted.get(`${t.client}@${t.window}`)!.record_ids,
      });
    }
    return alerts;
  }

  /** A data call delivering many rows outside working hours (Monday to Friday, local time). */
  private offHours(seen: Seen[]): Alert[] {
    const alerts: Alert[] = [];
    for (const e of seen) {
      if (e.type !== 'data.delivered' || e.data.result !== 'allowed' || num(e.data.rowCount) < this.rules.bulkRows) continue;
      const local = new Date(e.at + this.rules.utcOffsetMinutes * 60_000);
      const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
      const weekday = local.getUTCDay() >= 1 && local.getUTCDay() <= 5;
      if (weekday && minute >= this.rules.workingHours[0] && minute < this.rules.workingHours[1]) continue;
      const unit = str(e.data.unitId);
      if (!unit) continue;
      alerts.push({
        rule: 'off-hours',
        dedupeKey: `off-hours:${e.id}`,
        unitId: unit,
        ownerUnitId: str(e.data.providerUnitId) ?? undefined,
        clientId: clientOf(e),
        grantId: str(e.data.grantId),
        resourceCode: str(e.data.resourceCode),
        windowStart: new Date(e.at).toISOString(),
        windowEnd: new Date(e.at).toISOString(),
        figures: { rows: num(e.data.rowCount), bulkRows: this.rules.bulkRows, localTime: local.toISOString().slice(0, 16).replace('T', ' ') },
        recordIds: [e.id],
      });
    }
    return alerts;
  }

  /** Bursts of refusals for want of a grant from one client. */
  private async denials(m: EntityManager, seen: Seen[]): Promise<Alert[]> {
    const size = this.rules.denialWindowSeconds * 1000;
    const touched = new Map<string, { client: string; window: number; unit: string; owner: string | null; code: string | null; n: number; ids: string[] }>();
    for (const e of seen) {
      if (e.type !== 'query.denied' || !DENIALS.has(String(e.data.reason))) continue;
      const client = clientOf(e);
      const unit = str(e.data.unitId);
      if (!client || !unit) continue;
      const window = Math.floor(e.at / size) * size;
      const t = touched.get(`${client}@${window}`) ?? { client, window, unit, owner: str(e.data.providerUnitId), code: str(e.data.resourceCode), n: 0, ids: [] };
      t.n++;
      if (t.ids.length < MAX_IDS) t.ids.push(e.id);
      touched.set(`${client}@${window}`, t);
    }
    const alerts: Alert[] = [];
    const list = [...touched.values()];
    const counted = await this.countMany(
      m,
      'denials',
      list.map((t) => ({ key: t.client, window: t.window, n: t.n, ids: t.ids })),
    );
    for (const t of list) {
      const row = counted.get(`${t.client}@${t.window}`)!;
      if (Number(row.count) < this.rules.denialBurst) continue;
      alerts.push({
        rule: 'denials',
        dedupeKey: `denials:${t.client}:${new Date(t.window).toISOString()}`,
        unitId: t.unit,
        ownerUnitId: t.owner ?? undefined,
        clientId: t.client,
        grantId: null,
        resourceCode: t.code,
        windowStart: new Date(t.window).toISOString(),
        windowEnd: new Date(t.window + size).toISOString(),
        figures: { refusals: Number(row.count), burst: this.rules.denialBurst, windowSeconds: this.rules.denialWindowSeconds },
        recordIds: row.record_ids,
      });
    }
    return alerts;
  }

  /** Use of data under a grant after the end of the period it was granted for. */
  private async afterPurpose(m: EntityManager, seen: Seen[]): Promise<Alert[]> {
    const alerts: Alert[] = [];
    const used = seen.map((e) => ({ e, use: usage(e) })).filter((x) => x.use?.grant);
    if (!used.length) return [];
    const grants = await m.query<{ grant_id: string; valid_to: Date }[]>('SELECT grant_id, valid_to FROM inspection_grant WHERE grant_id = ANY($1::text[])', [
      [...new Set(used.map((x) => x.use!.grant!))],
    ]);
    const validTo = new Map(grants.map((g) => [g.grant_id, g.valid_to.getTime()]));
    for (const { e, use } of used) {
      const end = validTo.get(use!.grant!);
      if (end === undefined || e.at <= end) continue;
      const day = new Date(e.at + this.rules.utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
      alerts.push({
        rule: 'after-purpose',
        dedupeKey: `after-purpose:${use!.grant}:${day}`,
        unitId: use!.unit,
        ownerUnitId: use!.owner ?? undefined,
        clientId: clientOf(e),
        grantId: use!.grant,
        resourceCode: use!.code,
        windowStart: new Date(end).toISOString(),
        windowEnd: new Date(e.at).toISOString(),
        figures: { grantValidTo: new Date(end).toISOString(), usedAt: new Date(e.at).toISOString(), type: e.type },
        recordIds: [e.id],
      });
    }
    return alerts;
  }

  private async rememberGrant(m: EntityManager, e: Seen): Promise<void> {
    const id = str(e.data.id);
    const unit = str(e.data.consumerUnitId);
    const validTo = str(e.data.validTo);
    if (!id || !unit || !validTo || Number.isNaN(Date.parse(validTo))) return;
    await m.query(
      `INSERT INTO inspection_grant (grant_id, unit_id, valid_to, version) VALUES ($1, $2, $3, $4)
       ON CONFLICT (grant_id) DO UPDATE SET unit_id = EXCLUDED.unit_id, valid_to = EXCLUDED.valid_to, version = EXCLUDED.version WHERE inspection_grant.version <= EXCLUDED.version`,
      [id, unit, validTo, num(e.data.version)],
    );
  }

  /** Adds to a rule's counters, one statement for the batch (in key order); keeps the first record ids of each. Keyed `key@windowMs`. */
  private async countMany(m: EntityManager, rule: Rule, entries: { key: string; window: number; n: number; ids: string[] }[]): Promise<Map<string, { count: string; record_ids: string[] }>> {
    const out = new Map<string, { count: string; record_ids: string[] }>();
    if (!entries.length) return out;
    const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.window - b.window));
    const rows = await m.query<{ key: string; window_start: Date; count: string; record_ids: string[] }[]>(
      `INSERT INTO inspection_counter AS c (rule, key, window_start, count, amount, record_ids)
       SELECT $1, k, w, n, 0, ARRAY(SELECT jsonb_array_elements_text(i::jsonb)) FROM unnest($2::text[], $3::timestamptz[], $4::bigint[], $5::text[]) WITH ORDINALITY AS x(k, w, n, i, o) ORDER BY o
       ON CONFLICT (rule, key, window_start) DO UPDATE SET count = c.count + EXCLUDED.count,
         record_ids = CASE WHEN cardinality(c.record_ids) >= ${MAX_IDS} THEN c.record_ids ELSE (c.record_ids || EXCLUDED.record_ids)[1:${MAX_IDS}] END
       RETURNING key, window_start, count, record_ids`,
      [rule, sorted.map((e) => e.key), sorted.map((e) => new Date(e.window)), sorted.map((e) => e.n), sorted.map((e) => JSON.stringify(e.ids))],
    );
    for (const r of rows) out.set(`${r.key}@${r.window_start.getTime()}`, { count: r.count, record_ids: r.record_ids });
    return out;
  }

  /**
   * Forgets what no rule will read again: counters older than the volume baseline (plus a week),
   * key windows older than a day, and this group's processed-event marks older than a week (a
   * redelivery comes within seconds). Alerts stay. Event time is what windows are keyed by, so
   * events stamped long ago are judged as if they arrived then, and forgotten with them.
   */
  async purge(now = new Date()): Promise<{ counters: number; keys: number; processed: number }> {
    const [, counters] = await this.db.query<[unknown, number]>('DELETE FROM inspection_counter WHERE window_start < $1', [new Date(now.getTime() - (this.rules.volumeWeeks + 1) * WEEK)]);
    const [, keys] = await this.db.query<[unknown, number]>('DELETE FROM inspection_key WHERE window_start < $1', [new Date(now.getTime() - 24 * HOUR)]);
    const [, processed] = await this.db.query<[unknown, number]>(`DELETE FROM processed_event WHERE consumer_group = 'audit-inspection' AND created_at < $1`, [new Date(now.getTime() - WEEK)]);
    return { counters, keys, processed };
  }

  // ── reads and acknowledgement ─────────────────────────────────────────────

  async list(p: Principal, f: { rule?: string; status?: string; unit?: string; from?: string; to?: string; cursor?: string; limit?: number }) {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      args.push(v);
      where.push(sql.replace('?', `$${args.length}`));
    };
    // A unit sees the alerts about its own clients; the office all.
    if (!isOffice(p)) add('unit_id = ?', p.unitId);
    if (f.unit) add('unit_id = ?', f.unit);
    if (f.rule) add('rule = ?', f.rule);
    if (f.status) add('status = ?', f.status);
    if (f.from) add('window_end >= ?', new Date(f.from));
    if (f.to) add('window_start < ?', new Date(f.to));
    if (f.cursor)
      add(
        'id < ?',
        decodeCursor(f.cursor, (parts) => (parts.length === 1 && typeof parts[0] === 'string' && /^[0-9a-f-]{36}$/i.test(parts[0]) ? parts[0] : undefined)),
      );
    const limit = f.limit ?? 50;
    const rows = await this.db.query<AlertRow[]>(`SELECT * FROM inspection_alert ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit + 1}`, args);
    const items = rows.slice(0, limit).map(viewAlert);
    return { items, nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].id]) : null };
  }

  async get(p: Principal, id: string) {
    const [row] = await this.db.query<AlertRow[]>('SELECT * FROM inspection_alert WHERE id = $1', [id]);
    if (!row || (!isOffice(p) && row.unit_id !== p.unitId)) throw new NotFoundError('The alert');
    return viewAlert(row);
  }

  async acknowledge(p: Principal, id: string, note: string) {
    await this.get(p, id);
    requireRole(p, 'office_auditor', 'office_admin');
    return this.events.transaction(async (m, emit) => {
      const [row] = await m.query<AlertRow[]>('SELECT * FROM inspection_alert WHERE id = $1 FOR UPDATE', [id]);
      if (row.status !== 'open') throw new ConflictError('ALREADY_ACKNOWLEDGED', `The alert was acknowledged at ${row.acknowledged_at?.toISOString()}.`, { currentStatus: row.status });
      // An UPDATE answers [rows, affected].
      const [[updated]] = await m.query<[AlertRow[], number]>(
        `UPDATE inspection_alert SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = now(), note = $3 WHERE id = $1 RETURNING *`,
        [id, p.subject, note],
      );
      const v = viewAlert(updated);
      emit(
        createEvent('inspection.acknowledged', {
          actor: { kind: p.kind, unitId: p.unitId, ...(p.kind === 'account' ? { accountId: p.subject } : { clientId: p.subject }) },
          subject: id,
          data: {
            alertId: id,
            rule: v.rule,
            unitId: v.unitId,
            clientId: v.clientId,
            grantId: v.grantId,
            resourceCode: v.resourceCode,
            windowStart: v.windowStart,
            windowEnd: v.windowEnd,
            figures: v.figures,
            recordIds: v.recordIds,
            ownerUnitId: v.unitId,
            note,
          },
        }),
      );
      return v;
    });
  }
}

interface AlertRow {
  id: string;
  rule: Rule;
  unit_id: string;
  owner_unit_id: string | null;
  client_id: string | null;
  grant_id: string | null;
  resource_code: string | null;
  window_start: Date;
  window_end: Date;
  figures: Record<string, number | string>;
  record_ids: string[];
  status: 'open' | 'acknowledged';
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  note: string | null;
  created_at: Date;
}

function viewAlert(r: AlertRow) {
  return {
    id: r.id,
    rule: r.rule,
    unitId: r.unit_id,
    ownerUnitId: r.owner_unit_id,
    clientId: r.client_id,
    grantId: r.grant_id,
    resourceCode: r.resource_code,
    windowStart: r.window_start.toISOString(),
    windowEnd: r.window_end.toISOString(),
    figures: r.figures,
    recordIds: r.record_ids,
    status: r.status,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: r.acknowledged_at?.toISOString() ?? null,
    note: r.note,
    createdAt: r.created_at.toISOString(),
  };
}

/** A use of data for a consumer unit: an answered query, a delivered data call, a job started. */
function usage(e: Seen): { unit: string; grant: string | null; code: string | null; owner: string | null } | null {
  const ok = e.type === 'query.executed' || (e.type === 'data.delivered' && e.data.result === 'allowed') || e.type === 'job.started';
  const unit = str(e.data.unitId);
  if (!ok || !unit) return null;
  return { unit, grant: str(e.data.grantId), code: str(e.data.resourceCode), owner: str(e.data.providerUnitId) };
}

/** Who called: the client (a business system), else the account, as the event names it. */
function clientOf(e: Seen): string | null {
  return str(e.data.clientId) ?? str(e.data.accountId) ?? e.actorClientId ?? e.actorAccountId;
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function longestRun(seqs: number[]): number {
  let best = 0;
  let run = 0;
  let prev = Number.NaN;
  for (const s of seqs) {
    run = s === prev + 1 ? run + 1 : 1;
    prev = s;
    best = Math.max(best, run);
  }
  return best;
}
