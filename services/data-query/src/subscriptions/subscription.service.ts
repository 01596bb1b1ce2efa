import { createHash } from 'node:crypto';
import { grantDenied } from '../grants/grant-denial';
import type { Pool, PoolClient } from 'pg';
import { actorOf, hasRole, isOffice, requireRole, type Principal } from '@gdx/auth';
import { createEvent, decideGrant, type Actor, type NoticeView } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import { AppError, ConflictError, ForbiddenError, NotFoundError } from '@gdx/errors';
import type { EventPublisher } from '@gdx/events';
import { decodeCursor, encodeCursor, isUuidText } from '@gdx/service-kit';
import { keysetPage } from '../shared/keyset-page';
import type { FastifyBaseLogger } from 'fastify';
import type { EntityManager } from 'typeorm';
import { committedSeq, type DatasetRegistry, type DatasetRuntime } from '../datasets/dataset-registry';
import type { GrantCache, GrantEntry } from '../grants/grant-cache';
import { checkItemsKnown, projection } from '../query/row-presenter';
import type { QueryPlanner } from '../query/query-planner';
import { encodePullCursor, type PullPosition } from '../data-call/pull-cursor';
import { SliceReader, type SliceChunk } from '../data-call/slice-reader';
import type { DeliveryLogEntry, DeliveryStatus } from '../entities/webhook-delivery.entity';
import type { PauseKind, SubscriptionStatus } from '../entities/webhook-subscription.entity';
import { newSigningSecret } from './webhook-signature';
import { checkWebhookUrl, type Resolver, type WebhookUrlPolicy } from './webhook-target';

export interface SubscriptionOptions {
  policy: WebhookUrlPolicy;
  resolver?: Resolver;
  maxRows: number;
  secretGraceMs: number;
}

/** A subscription row as the service reads it (the secrets only where they are needed). */
export interface SubscriptionRow {
  id: string;
  unit_id: string;
  resource_code: string;
  items: string[] | null;
  url: string;
  status: SubscriptionStatus;
  pause_kind: PauseKind | null;
  paused_reason: string | null;
  cursor_seq: string;
  last_sequence: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  previous_secret_until: Date | null;
}

const COLUMNS = 'id, unit_id, resource_code, items, url, status, pause_kind, paused_reason, cursor_seq::text AS cursor_seq, last_sequence, created_by, created_at, updated_at, previous_secret_until';

export interface SubscriptionView {
  id: string;
  unitId: string;
  resourceCode: string;
  items: string[] | null;
  url: string;
  status: SubscriptionStatus;
  pauseKind: PauseKind | null;
  pausedReason: string | null;
  cursor: string;
  lastSequence: number;
  previousSecretValidUntil: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export function viewSubscription(r: SubscriptionRow): SubscriptionView {
  return {
    id: r.id,
    unitId: r.unit_id,
    resourceCode: r.resource_code,
    items: r.items,
    url: r.url,
    status: r.status,
    pauseKind: r.pause_kind,
    pausedReason: r.paused_reason,
    cursor: encodePullCursor(r.resource_code, { seq: r.cursor_seq, rowId: null }),
    lastSequence: r.last_sequence,
    previousSecretValidUntil: r.previous_secret_until && r.previous_secret_until.getTime() > Date.now() ? r.previous_secret_until.toISOString() : null,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

interface DeliveryRow {
  id: string;
  sequence: number;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  latency_ms: number | null;
  next_attempt_at: Date;
  first_attempt_at: Date | null;
  delivered_at: Date | null;
  grant_id: string;
  cursor_from: string;
  cursor_to: string;
  rows: number;
  tombstones: number;
  bytes: number;
  sha256: string;
  created_at: Date;
}

const DELIVERY_COLUMNS =
  'id, sequence, status, attempts, last_status_code, last_error, latency_ms, next_attempt_at, first_attempt_at, delivered_at, grant_id, cursor_from, cursor_to, rows, tombstones, bytes, sha256, created_at';

function viewDelivery(d: DeliveryRow) {
  return {
    id: d.id,
    sequence: d.sequence,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.last_status_code,
    lastError: d.last_error,
    latencyMs: d.latency_ms,
    nextAttemptAt: d.status === 'pending' ? d.next_attempt_at.toISOString() : null,
    firstAttemptAt: d.first_attempt_at?.toISOString() ?? null,
    deliveredAt: d.delivered_at?.toISOString() ?? null,
    grantId: d.grant_id,
    cursorFrom: d.cursor_from,
    cursorTo: d.cursor_to,
    rows: d.rows,
    tombstones: d.tombstones,
    bytes: d.bytes,
    sha256: d.sha256,
    createdAt: d.created_at.toISOString(),
  };
}

export interface CreateSubscription {
  resourceCode: string;
  url: string;
  items?: string[];
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

const SYSTEM: Actor = { kind: 'system' };

/**
 * Push subscriptions of the data-call mode (数据调用): a consumer unit's admin names a webhook
 * for a resource it holds a data-call grant for; every accepted provider batch then makes the
 * next numbered deliveries of the changed rows of the unit's slice (masked, filtered,
 * tombstones included, exactly as a pull since the subscription's cursor would read them),
 * which the DeliveryWorker sends in order.
 */
export class SubscriptionService {
  private readonly reader: SliceReader;

  constructor(
    private readonly pool: Pool,
    private readonly datasets: DatasetRegistry,
    private readonly grants: GrantCache,
    planner: QueryPlanner,
    private readonly events: EventPublisher,
    private readonly options: SubscriptionOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.reader = new SliceReader(pool, planner);
  }

  /** The one decision, as a pull takes it: the unit's grant of the data-call mode for these items, now. */
  decide(unitId: string, code: string, items: readonly string[] | null | undefined) {
    return decideGrant(this.grants.forCaller(unitId, code), 'data-call', items ?? undefined, Date.now());
  }

  checkUrl(url: string) {
    return checkWebhookUrl(url, this.options.policy, this.options.resolver);
  }

  async create(p: Principal, body: CreateSubscription, traceparent?: string): Promise<SubscriptionView & { secret: string }> {
    requireRole(p, 'unit_admin');
    const ds = this.datasets.served(body.resourceCode);
    checkItemsKnown(ds, body.items, 'body.items');
    const decision = this.decide(p.unitId, ds.code, body.items);
    if (!decision.ok) throw grantDenied(decision, 'body.items');
    projection(ds, decision.grant, body.items);
    const check = await this.checkUrl(body.url);
    if (!check.ok) throw new AppError(422, 'WEBHOOK_URL_REFUSED', 'Unprocessable', `The webhook URL is refused: ${check.reason}.`, { field: 'body.url', reason: check.reason });
    const id = uuidv7();
    const secret = newSigningSecret();
    const items = body.items?.length ? [...new Set(body.items)] : null;
    const row = await this.events.transaction(async (m, emit) => {
      // From now on: a new subscriber gets the changes committed after this (a full pull gives it the rest).
      const [created] = await m.query<SubscriptionRow[]>(
        `INSERT INTO webhook_subscription (id, unit_id, resource_code, items, url, secret, status, cursor_seq, last_sequence, created_by)
         SELECT $1, $2, $3, $4::jsonb, $5, $6, 'active', change_seq, 0, $7 FROM dataset WHERE id = $8 RETURNING ${COLUMNS}`,
        [id, p.unitId, ds.code, items === null ? null : JSON.stringify(items), body.url, secret, p.subject, ds.id],
      );
      emit(this.changed(actorOf(p), created, 'created', null, traceparent));
      return created;
    });
    return { ...viewSubscription(row), secret };
  }

  private changed(actor: Actor, r: SubscriptionRow, action: 'created' | 'deleted' | 'paused' | 'resumed' | 'secret-rotated' | 'redelivery', reason: string | null, traceparent?: string) {
    return createEvent('subscription.changed', {
      actor,
      subject: r.id,
      traceparent,
      data: { subscriptionId: r.id, unitId: r.unit_id, resourceCode: r.resource_code, action, status: action === 'deleted' ? 'deleted' : r.status, reason, url: r.url },
    });
  }

  async list(p: Principal, q: PageQuery & { resourceCode?: string }) {
    requireRole(p, 'unit_admin', 'office_admin', 'office_auditor');
    const where: [string, unknown][] = [];
    if (!isOffice(p)) where.push(['unit_id = ?', p.unitId]);
    if (q.resourceCode) where.push(['resource_code = ?', q.resourceCode]);
    return keysetPage(this.pool, { table: 'webhook_subscription', columns: COLUMNS, where, cursor: q.cursor, limit: q.limit ?? 50, view: viewSubscription });
  }

  /** The subscription if the caller may see it: its own unit's admin, or the office; anyone else is told there is none. */
  private async visible(p: Principal, id: string): Promise<SubscriptionRow> {
    const { rows } = await this.pool.query<SubscriptionRow>(`SELECT ${COLUMNS} FROM webhook_subscription WHERE id = $1`, [id]);
    const r = rows[0];
    if (!r || (!isOffice(p) && r.unit_id !== p.unitId)) throw new NotFoundError('The subscription', 'SUBSCRIPTION_NOT_FOUND');
    if (!isOffice(p)) requireRole(p, 'unit_admin');
    return r;
  }

  /** For changes: its unit's admin, or (where `office` says so) the office admin. */
  private async changeable(p: Principal, id: string, office: boolean): Promise<SubscriptionRow> {
    const r = await this.visible(p, id);
    if (r.unit_id === p.unitId && hasRole(p, 'unit_admin')) return r;
    if (office && hasRole(p, 'office_admin')) return r;
    throw new ForbiddenError(office ? 'Only the subscribing unit’s admin or the office admin may change a subscription.' : 'Only the subscribing unit’s admin may do this.', 'ROLE_REQUIRED');
  }

  async get(p: Principal, id: string): Promise<SubscriptionView> {
    return viewSubscription(await this.visible(p, id));
  }

  /** The owner unit of a subscription, for the gateway's call record. */
  async ownerOf(id: string): Promise<string | undefined> {
    if (!isUuidText(id)) return undefined;
    const { rows } = await this.pool.query<{ unit_id: string }>('SELECT unit_id FROM webhook_subscription WHERE id = $1', [id]);
    return rows[0]?.unit_id;
  }

  async remove(p: Principal, id: string, traceparent?: string): Promise<void> {
    const r = await this.changeable(p, id, true);
    await this.events.transaction(async (m, emit) => {
      await m.query('DELETE FROM webhook_delivery WHERE subscription_id = $1', [id]);
      await m.query('DELETE FROM webhook_subscription WHERE id = $1', [id]);
      emit(this.changed(actorOf(p), r, 'deleted', null, traceparent));
    });
  }

  async pause(p: Principal, id: string, reason: string | undefined, traceparent?: string): Promise<SubscriptionView> {
    await this.changeable(p, id, true);
    const text = reason?.trim() || 'paused by its unit';
    const r = await this.setStatus(id, 'paused', 'manual', text, actorOf(p), 'paused', traceparent);
    return viewSubscription(r);
  }

  /**
   * Active again: deliveries that were dead-lettered are tried again (a fresh retry period), and
   * the changes committed while it was paused are made into deliveries. Refused while the grant
   * does not allow the data-call mode.
   */
  async resume(p: Principal, id: string, traceparent?: string): Promise<SubscriptionView> {
    const before = await this.changeable(p, id, true);
    const decision = this.decide(before.unit_id, before.resource_code, before.items);
    if (!decision.ok) throw grantDenied(decision);
    const r = await this.events.transaction(async (m, emit) => {
      await m.query(`UPDATE webhook_delivery SET status = 'pending', next_attempt_at = now(), first_attempt_at = NULL, updated_at = now() WHERE subscription_id = $1 AND status = 'dead'`, [id]);
      const [row] = await m.query<[SubscriptionRow[], number]>(
        `UPDATE webhook_subscription SET status = 'active', pause_kind = NULL, paused_reason = NULL, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      emit(this.changed(actorOf(p), row[0], 'resumed', null, traceparent));
      return row[0];
    });
    await this.advance(id).catch((err: unknown) => this.log.error({ err, subscriptionId: id }, 'a resumed subscription could not be caught up'));
    return viewSubscription(r);
  }

  async rotateSecret(p: Principal, id: string, traceparent?: string): Promise<SubscriptionView & { secret: string }> {
    await this.changeable(p, id, false);
    const secret = newSigningSecret();
    const r = await this.events.transaction(async (m, emit) => {
      const [row] = await m.query<[SubscriptionRow[], number]>(
        `UPDATE webhook_subscription SET previous_secret = secret, previous_secret_until = now() + make_interval(secs => $3::double precision), secret = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, secret, this.options.secretGraceMs / 1000],
      );
      emit(this.changed(actorOf(p), row[0], 'secret-rotated', null, traceparent));
      return row[0];
    });
    return { ...viewSubscription(r), secret };
  }

  async deliveries(p: Principal, id: string, q: PageQuery) {
    await this.visible(p, id);
    const limit = q.limit ?? 50;
    const before =
      q.cursor === undefined ? null : decodeCursor(q.cursor, (parts) => (parts.length === 1 && Number.isSafeInteger(parts[0]) && (parts[0] as number) > 0 ? (parts[0] as number) : undefined));
    const { rows } = await this.pool.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery WHERE subscription_id = $1 AND ($2::int IS NULL OR sequence < $2::int) ORDER BY sequence DESC LIMIT $3`,
      [id, before, limit + 1],
    );
    const items = rows.slice(0, limit);
    return { items: items.map(viewDelivery), nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].sequence]) : null };
  }

  /** Sends a dead-lettered (or still pending) delivery again, with a fresh retry period; a subscription it paused is resumed. */
  async redeliver(p: Principal, id: string, sequence: number, traceparent?: string) {
    const sub = await this.changeable(p, id, true);
    const { rows } = await this.pool.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery WHERE subscription_id = $1 AND sequence = $2`, [id, sequence]);
    const d = rows[0];
    if (!d) throw new NotFoundError('The delivery', 'DELIVERY_NOT_FOUND');
    if (d.status === 'delivered') throw new ConflictError('DELIVERY_ALREADY_DELIVERED', 'The receiver acknowledged this delivery; pull from its `cursorFrom` to read its rows again.');
    if (sub.status === 'paused' && sub.pause_kind !== 'dead-letter')
      throw new ConflictError('SUBSCRIPTION_PAUSED', `The subscription is paused (${sub.paused_reason ?? 'paused'}); resume it instead.`);
    const updated = await this.events.transaction(async (m, emit) => {
      const [row] = await m.query<[DeliveryRow[], number]>(
        `UPDATE webhook_delivery SET status = 'pending', next_attempt_at = now(), first_attempt_at = NULL, updated_at = now() WHERE id = $1 RETURNING ${DELIVERY_COLUMNS}`,
        [d.id],
      );
      const [subRows] = await m.query<[SubscriptionRow[], number]>(
        `UPDATE webhook_subscription SET status = 'active', pause_kind = NULL, paused_reason = NULL, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      emit(this.changed(actorOf(p), subRows[0], 'redelivery', `delivery ${sequence}`, traceparent));
      return row[0];
    });
    return viewDelivery(updated);
  }

  /** Pauses a subscription (the system: a dead letter, the grant); an event says so. */
  async setStatus(id: string, status: SubscriptionStatus, kind: PauseKind | null, reason: string | null, actor: Actor = SYSTEM, action: 'paused' | 'resumed' = 'paused', traceparent?: string) {
    return this.events.transaction(async (m, emit) => {
      const [rows] = await m.query<[SubscriptionRow[], number]>(
        `UPDATE webhook_subscription SET status = $2, pause_kind = $3, paused_reason = $4, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, status, kind, reason],
      );
      if (!rows[0]) throw new NotFoundError('The subscription', 'SUBSCRIPTION_NOT_FOUND');
      emit(this.changed(actor, rows[0], action, reason, traceparent));
      return rows[0];
    });
  }

  /** Pauses a subscription inside the caller's transaction; the event to emit with it, or null when there is none. */
  async pauseIn(m: EntityManager, id: string, kind: PauseKind, reason: string) {
    const [rows] = await m.query<[SubscriptionRow[], number]>(
      `UPDATE webhook_subscription SET status = 'paused', pause_kind = $2, paused_reason = $3, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, kind, reason],
    );
    return rows[0] ? this.changed(SYSTEM, rows[0], 'paused', reason) : null;
  }

  /** After a batch of `codes` was accepted: every active subscription of them gets its next deliveries. */
  async onBatches(batches: { resourceCode: string; changeSeq: number }[]): Promise<void> {
    // Batch by batch, in order: a delivery never spans two batches (a large batch spans several deliveries).
    for (const { resourceCode, changeSeq } of batches) {
      const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM webhook_subscription WHERE resource_code = $1 AND status = 'active' ORDER BY id`, [resourceCode]);
      for (const { id } of rows) await this.advance(id, String(changeSeq));
    }
  }

  /**
   * The safety net behind the batch events: subscriptions behind their resource are caught up,
   * and those paused because the grant no longer applied are resumed once it applies again.
   */
  async sweep(): Promise<void> {
    const { rows: paused } = await this.pool.query<SubscriptionRow>(`SELECT ${COLUMNS} FROM webhook_subscription WHERE status = 'paused' AND pause_kind = 'grant'`);
    for (const r of paused) if (this.decide(r.unit_id, r.resource_code, r.items).ok) await this.setStatus(r.id, 'active', null, null, SYSTEM, 'resumed');
    const { rows } = await this.pool.query<{ id: string; cursor_seq: string; change_seq: string }>(
      `SELECT s.id, s.cursor_seq::text AS cursor_seq, d.change_seq::text AS change_seq FROM webhook_subscription s JOIN dataset d ON d.code = s.resource_code WHERE s.status = 'active' AND s.cursor_seq < d.change_seq ORDER BY s.id`,
    );
    // One batch (one change sequence) at a time, as the batch events would have made them: a catch-up
    // never folds two batches into one delivery, whichever of it and the event consumer comes first.
    for (const { id, cursor_seq, change_seq } of rows) {
      for (let seq = BigInt(cursor_seq) + 1n; seq <= BigInt(change_seq); seq++) await this.advance(id, String(seq));
    }
  }

  /**
   * Makes the next deliveries of one subscription: its slice's changes from its cursor up to `until`
   * (a batch's change sequence) or else what is committed now, in deliveries of at most `maxRows` rows and tombstones, each with its body and
   * manifest stored so that every attempt sends the same bytes. The subscription's row is locked
   * meanwhile, so two replicas never number the same changes twice.
   */
  async advance(id: string, until?: string): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { made, pause } = await this.advanceIn(client, id, until);
      await client.query('COMMIT');
      // Nothing is made while the grant does not apply; the cursor stays, so nothing is lost if it applies again.
      if (pause) await this.setStatus(id, 'paused', 'grant', pause);
      return made;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      this.log.error({ err, subscriptionId: id }, 'deliveries could not be made');
      return 0;
    } finally {
      client.release();
    }
  }

  /**
   * A maintenance notice (Art. 23) reaches the consumers it concerns through their webhooks:
   * one delivery, in each active subscription's order, carrying the notice (`{"_notice": …}`,
   * no rows), for every version of a notice naming the subscription's resource or the data-call
   * mode. A redelivered event makes nothing twice; a subscription whose grant does not apply gets nothing.
   */
  async forwardNotice(n: NoticeView): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM webhook_subscription WHERE status = 'active' AND (resource_code = ANY($1::text[]) OR $2) ORDER BY id`, [
      n.resourceCodes,
      n.services.includes('data-call'),
    ]);
    let made = 0;
    for (const { id } of rows) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        made += await this.noticeIn(client, id, n);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    }
    return made;
  }

  private async noticeIn(client: PoolClient, id: string, n: NoticeView): Promise<number> {
    const { rows } = await client.query<SubscriptionRow>(`SELECT ${COLUMNS} FROM webhook_subscription WHERE id = $1 FOR UPDATE`, [id]);
    const sub = rows[0];
    const ds = sub && this.datasets.get(sub.resource_code);
    if (!sub || sub.status !== 'active' || !ds) return 0;
    const decision = this.decide(sub.unit_id, sub.resource_code, sub.items);
    if (!decision.ok) return 0;
    const seen = await client.query(`SELECT 1 FROM webhook_delivery WHERE subscription_id = $1 AND manifest->'notice'->>'id' = $2 AND (manifest->'notice'->>'version')::int = $3`, [
      id,
      n.id,
      n.version,
    ]);
    if (seen.rowCount) return 0;
    const sequence = sub.last_sequence + 1;
    const at = encodePullCursor(ds.code, { seq: sub.cursor_seq, rowId: null });
    await this.storeDelivery(client, sub, ds, decision.grant.id, sequence, {
      items: [],
      cursorFrom: at,
      cursorTo: at,
      rows: 0,
      tombstones: 0,
      notice: { id: n.id, version: n.version },
      body: `${JSON.stringify({ _notice: n })}\n`,
    });
    await client.query('UPDATE webhook_subscription SET last_sequence = $2, updated_at = now() WHERE id = $1', [id, sequence]);
    return 1;
  }

  private async advanceIn(client: PoolClient, id: string, until?: string): Promise<{ made: number; pause?: string }> {
    const { rows } = await client.query<SubscriptionRow>(`SELECT ${COLUMNS} FROM webhook_subscription WHERE id = $1 FOR UPDATE`, [id]);
    const sub = rows[0];
    if (!sub || sub.status !== 'active') return { made: 0 };
    const ds = this.datasets.get(sub.resource_code);
    if (!ds || ds.status !== 'published') return { made: 0 };
    const committed = await committedSeq(client, ds.id);
    // Up to the batch's sequence (never beyond what is committed: batches commit in sequence order).
    const upTo = until !== undefined && BigInt(until) < BigInt(committed) ? until : committed;
    if (BigInt(sub.cursor_seq) >= BigInt(upTo)) return { made: 0 };
    const decision = this.decide(sub.unit_id, sub.resource_code, sub.items);
    let items: string[] | null = null;
    if (decision.ok) {
      try {
        items = projection(ds, decision.grant, sub.items ?? undefined);
      } catch {
        items = null;
      }
    }
    if (!decision.ok || !items) return { made: 0, pause: decision.ok ? 'ITEM_NOT_GRANTED: the grant covers no item the subscription asks for' : `${decision.code}: ${decision.detail}` };
    const grant = decision.grant;
    const start: PullPosition = { seq: sub.cursor_seq, rowId: null };
    const next = this.reader.open({ ds, grant, items, format: 'ndjson', tombstones: true }, start, upTo);
    let from = start;
    let sequence = sub.last_sequence;
    let pending: SliceChunk | null = null;
    const write = async (chunk: SliceChunk, last: boolean) => {
      const to: PullPosition = last ? { seq: upTo, rowId: null } : chunk.last;
      sequence += 1;
      await this.insertDelivery(client, sub, ds, grant, items, sequence, from, to, chunk);
      from = to;
    };
    for (;;) {
      const chunk = await next(this.options.maxRows);
      if (chunk.rows + chunk.tombstones === 0) break;
      if (pending) await write(pending, false);
      pending = chunk;
    }
    if (pending) await write(pending, true);
    await client.query('UPDATE webhook_subscription SET cursor_seq = $2, last_sequence = $3, updated_at = now() WHERE id = $1', [id, upTo, sequence]);
    return { made: sequence - sub.last_sequence };
  }

  private insertDelivery(
    client: PoolClient,
    sub: SubscriptionRow,
    ds: DatasetRuntime,
    grant: GrantEntry,
    items: string[],
    sequence: number,
    from: PullPosition,
    to: PullPosition,
    chunk: SliceChunk,
  ): Promise<void> {
    return this.storeDelivery(client, sub, ds, grant.id, sequence, {
      items,
      cursorFrom: encodePullCursor(ds.code, from),
      cursorTo: encodePullCursor(ds.code, to),
      rows: chunk.rows,
      tombstones: chunk.tombstones,
      body: `${chunk.text}\n`,
    });
  }

  /** A numbered delivery, its body and manifest stored once so that every attempt sends the same bytes. */
  private async storeDelivery(
    client: PoolClient,
    sub: SubscriptionRow,
    ds: DatasetRuntime,
    grantId: string,
    sequence: number,
    d: Pick<DeliveryLogEntry, 'items' | 'cursorFrom' | 'cursorTo' | 'rows' | 'tombstones' | 'notice'> & { body: string },
  ): Promise<void> {
    const { body, ...rest } = d;
    const deliveryId = uuidv7();
    const manifest: DeliveryLogEntry = {
      deliveryId,
      subscriptionId: sub.id,
      sequence,
      recipientUnitId: sub.unit_id,
      providerUnitId: ds.providerUnitId,
      grantId,
      resourceCode: ds.code,
      ...rest,
      bytes: Buffer.byteLength(body),
      sha256: createHash('sha256').update(body).digest('hex'),
    };
    await client.query(
      `INSERT INTO webhook_delivery (id, subscription_id, sequence, status, attempts, next_attempt_at, grant_id, cursor_from, cursor_to, rows, tombstones, bytes, sha256, body, manifest)
       VALUES ($1, $2, $3, 'pending', 0, now(), $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)`,
      [deliveryId, sub.id, sequence, grantId, manifest.cursorFrom, manifest.cursorTo, manifest.rows, manifest.tombstones, manifest.bytes, manifest.sha256, body, JSON.stringify(manifest)],
    );
  }
}
