import type { Pool } from 'pg';
import { createEvent, type DeliveryManifest } from '@gdx/contracts';
import type { EventPublisher } from '@gdx/events';
import type { FastifyBaseLogger } from 'fastify';
import type { DeliveryLogEntry, DeliveryStatus } from '../entities/webhook-delivery.entity';
import type { SubscriptionStatus } from '../entities/webhook-subscription.entity';
import type { SubscriptionService } from './subscription.service';
import { signWebhook } from './webhook-signature';
import { postWebhook, SendError } from './webhook-sender';

export interface DeliveryWorkerOptions {
  /** Deliveries sent at once (each the next one of a different subscription). */
  concurrency: number;
  pollMs: number;
  sweepMs: number;
  timeoutMs: number;
  /** How long after its first attempt a failing delivery is dead-lettered. */
  retryMs: number;
  retryBaseMs: number;
  retryCapMs: number;
  /** Signs a delivery's manifest with the platform's manifest key (JWKS-verifiable), sent as `gdx-manifest`. */
  signManifest: (manifest: DeliveryManifest) => string;
}

interface ClaimedDelivery {
  id: string;
  subscription_id: string;
  sequence: number;
  status: DeliveryStatus;
  attempts: number;
  first_attempt_at: Date | null;
  body: string;
  manifest: DeliveryLogEntry;
}

interface SendingSubscription {
  unit_id: string;
  resource_code: string;
  items: string[] | null;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  status: SubscriptionStatus;
}

type Attempt = { ok: true; status: number; address: string; latencyMs: number } | { ok: false; status: number | null; error: string; address: string; latencyMs: number };

/**
 * Sends the deliveries of push subscriptions, in each subscription's order: only a
 * subscription's oldest unacknowledged delivery is ever claimed, so delivery n + 1 leaves after
 * the receiver acknowledged n with a 2xx. Replicas share the work safely: a delivery is claimed
 * with `FOR UPDATE SKIP LOCKED` and held under a lease (a replica that dies mid-send leaves it
 * to another once the lease runs out: at-least-once, the receiver drops a `webhook-id` it has
 * seen). A failed attempt is retried with exponential back-off and full jitter until the retry
 * period since the first attempt has passed; then the delivery is dead-lettered and the
 * subscription paused so later deliveries wait. The grant is decided again before every send.
 * Every delivery, acknowledged or dead-lettered, is on the record (`data.delivered`, kind push).
 */
export class DeliveryWorker {
  private running = false;
  private loop?: Promise<void>;
  private wake: () => void = () => undefined;
  private lastSweep = 0;

  constructor(
    private readonly pool: Pool,
    private readonly subscriptions: SubscriptionService,
    private readonly events: EventPublisher,
    private readonly options: DeliveryWorkerOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /** New deliveries were made: look now rather than at the next poll. */
  nudge(): void {
    this.wake();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        if (Date.now() - this.lastSweep >= this.options.sweepMs) {
          this.lastSweep = Date.now();
          await this.subscriptions.sweep();
        }
        claimed = await this.tick();
      } catch (err) {
        this.log.error({ err }, 'the delivery worker failed a round');
      }
      if (!claimed && this.running)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
    }
  }

  /** One round: claims the due heads of the subscriptions' queues and sends them. */
  async tick(): Promise<number> {
    const leaseSeconds = this.options.timeoutMs / 1000 + 30;
    const { rows } = await this.pool.query<ClaimedDelivery>(
      `UPDATE webhook_delivery SET lease_until = now() + make_interval(secs => $2::double precision)
       WHERE id IN (
         SELECT d.id FROM webhook_delivery d JOIN webhook_subscription s ON s.id = d.subscription_id
         WHERE d.status = 'pending' AND s.status = 'active' AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())
           AND NOT EXISTS (SELECT 1 FROM webhook_delivery e WHERE e.subscription_id = d.subscription_id AND e.sequence < d.sequence AND e.status <> 'delivered')
         ORDER BY d.next_attempt_at
         LIMIT $1
         FOR UPDATE OF d SKIP LOCKED)
       RETURNING id, subscription_id, sequence, status, attempts, first_attempt_at, body, manifest`,
      [this.options.concurrency, leaseSeconds],
    );
    await Promise.all(rows.map((d) => this.send(d).catch((err: unknown) => this.log.error({ err, deliveryId: d.id }, 'a delivery could not be sent'))));
    return rows.length;
  }

  private async release(id: string): Promise<void> {
    await this.pool.query('UPDATE webhook_delivery SET lease_until = NULL WHERE id = $1', [id]);
  }

  private async send(d: ClaimedDelivery): Promise<void> {
    const { rows } = await this.pool.query<SendingSubscription>(
      'SELECT unit_id, resource_code, items, url, secret, previous_secret, previous_secret_until, status FROM webhook_subscription WHERE id = $1',
      [d.subscription_id],
    );
    const sub = rows[0];
    if (!sub || sub.status !== 'active') return this.release(d.id);
    // The grant decided again before every send: suspended, revoked or expired since the delivery was made stops it.
    const decision = this.subscriptions.decide(sub.unit_id, sub.resource_code, sub.items);
    if (!decision.ok) {
      await this.release(d.id);
      await this.subscriptions.setStatus(d.subscription_id, 'paused', 'grant', `${decision.code}: ${decision.detail}`);
      return;
    }
    const startedAt = new Date();
    const attempt = await this.attempt(d, sub);
    if (attempt.ok) await this.delivered(d, startedAt, attempt);
    else await this.failed(d, startedAt, attempt);
  }

  private async attempt(d: ClaimedDelivery, sub: SendingSubscription): Promise<Attempt> {
    // Checked again at send time, and the request connects to exactly the addresses this check vetted.
    const check = await this.subscriptions.checkUrl(sub.url);
    if (!check.ok) return { ok: false, status: null, error: `the URL is refused: ${check.reason}`, address: '', latencyMs: 0 };
    const timestamp = Math.floor(Date.now() / 1000);
    const secrets = sub.previous_secret && sub.previous_secret_until && sub.previous_secret_until.getTime() > Date.now() ? [sub.secret, sub.previous_secret] : [sub.secret];
    const body = Buffer.from(d.body, 'utf8');
    const headers = {
      'content-type': 'application/x-ndjson',
      'user-agent': 'GDX-Webhooks/1',
      'webhook-id': d.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secrets, d.id, timestamp, body),
      'gdx-subscription-id': d.subscription_id,
      'gdx-delivery-sequence': String(d.sequence),
      'gdx-cursor-from': d.manifest.cursorFrom,
      'gdx-cursor-to': d.manifest.cursorTo,
      'gdx-body-sha256': d.manifest.sha256,
      // A maintenance notice rides in the subscription's order; its body is the notice, not rows.
      'gdx-delivery-kind': d.manifest.notice ? 'notice' : 'rows',
      // The receiver keeps it beside the rows: who got what under which grant, verifiable with the platform's JWKS (Art. 19).
      'gdx-manifest': this.options.signManifest({
        deliveryId: d.id,
        recipientUnitId: d.manifest.recipientUnitId,
        grantId: d.manifest.grantId,
        resourceCode: d.manifest.resourceCode,
        format: 'ndjson',
        cursorFrom: d.manifest.cursorFrom,
        cursorTo: d.manifest.cursorTo,
        records: d.manifest.rows + d.manifest.tombstones,
        bytes: d.manifest.bytes,
        sha256: d.manifest.sha256,
        complete: true,
      }),
    };
    try {
      const r = await postWebhook(check.url, check.addresses, headers, body, this.options.timeoutMs);
      if (r.status >= 200 && r.status < 300) return { ok: true, ...r };
      return { ok: false, status: r.status, error: `answered ${r.status}`, address: r.address, latencyMs: r.latencyMs };
    } catch (err) {
      const e = err instanceof SendError ? err : new SendError(String(err), '', 0);
      return { ok: false, status: null, error: e.message, address: e.address, latencyMs: e.latencyMs };
    }
  }

  private record(d: ClaimedDelivery, outcome: string, address: string, latencyMs: number, attempts: number) {
    const m = d.manifest;
    return createEvent('data.delivered', {
      actor: { kind: 'system' },
      subject: m.resourceCode,
      data: {
        deliveryId: d.id,
        unitId: m.recipientUnitId,
        providerUnitId: m.providerUnitId,
        grantId: m.grantId,
        resourceCode: m.resourceCode,
        mode: 'data-call',
        kind: 'push',
        format: 'ndjson',
        items: m.items,
        cursorFrom: m.cursorFrom,
        cursorTo: m.cursorTo,
        rowCount: m.rows + m.tombstones,
        tombstones: m.tombstones,
        bytes: m.bytes,
        sha256: m.sha256,
        result: 'allowed',
        outcome,
        // A push has no request of the recipient's: its webhook-id stands in.
        requestId: d.id,
        // The receiver's address the delivery went to (a push has no caller).
        sourceAddress: address,
        latencyMs,
        subscriptionId: d.subscription_id,
        sequence: d.sequence,
        attempts,
      },
    });
  }

  private async delivered(d: ClaimedDelivery, startedAt: Date, a: Extract<Attempt, { ok: true }>): Promise<void> {
    await this.events.transaction(async (m, emit) => {
      const [rows] = await m.query<[{ attempts: number }[], number]>(
        `UPDATE webhook_delivery SET status = 'delivered', attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $2), delivered_at = now(),
           last_status_code = $3, last_error = NULL, latency_ms = $4, lease_until = NULL, updated_at = now()
         WHERE id = $1 AND status = 'pending' RETURNING attempts`,
        [d.id, startedAt, a.status, Math.round(a.latencyMs)],
      );
      if (rows[0]) emit(this.record(d, 'complete', a.address, a.latencyMs, rows[0].attempts));
    });
  }

  private async failed(d: ClaimedDelivery, startedAt: Date, a: Extract<Attempt, { ok: false }>): Promise<void> {
    const attempts = d.attempts + 1;
    const first = d.first_attempt_at ?? startedAt;
    const error = a.error.slice(0, 500);
    if (Date.now() - first.getTime() < this.options.retryMs) {
      // Exponential back-off with full jitter: anywhere between now and base × 2^(attempt − 1), capped.
      const ceiling = Math.min(this.options.retryCapMs, this.options.retryBaseMs * 2 ** Math.min(attempts - 1, 40));
      const delayMs = Math.floor(Math.random() * ceiling);
      await this.pool.query(
        `UPDATE webhook_delivery SET attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $2), last_status_code = $3, last_error = $4, latency_ms = $5,
           next_attempt_at = now() + make_interval(secs => $6::double precision), lease_until = NULL, updated_at = now()
         WHERE id = $1 AND status = 'pending'`,
        [d.id, startedAt, a.status, error, Math.round(a.latencyMs), delayMs / 1000],
      );
      return;
    }
    const reason = `delivery ${d.sequence} was dead-lettered after ${attempts} attempts over the retry period (last: ${error})`;
    await this.events.transaction(async (m, emit) => {
      const [rows] = await m.query<[{ attempts: number }[], number]>(
        `UPDATE webhook_delivery SET status = 'dead', attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $2), last_status_code = $3, last_error = $4,
           latency_ms = $5, lease_until = NULL, updated_at = now()
         WHERE id = $1 AND status = 'pending' RETURNING attempts`,
        [d.id, startedAt, a.status, error, Math.round(a.latencyMs)],
      );
      if (!rows[0]) return;
      emit(this.record(d, 'DEAD_LETTERED', a.address, a.latencyMs, rows[0].attempts));
      // Later deliveries wait behind the dead one: the subscription is paused until it is redelivered or resumed.
      const paused = await this.subscriptions.pauseIn(m, d.subscription_id, 'dead-letter', reason);
      if (paused) emit(paused);
    });
  }
}
