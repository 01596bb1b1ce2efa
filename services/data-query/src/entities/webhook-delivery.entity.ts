import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/** What a delivery carries, as the record and the delivery log describe it; never the rows. */
export interface DeliveryLogEntry {
  deliveryId: string;
  subscriptionId: string;
  sequence: number;
  recipientUnitId: string;
  providerUnitId: string;
  grantId: string;
  resourceCode: string;
  items: string[];
  cursorFrom: string;
  cursorTo: string;
  rows: number;
  tombstones: number;
  bytes: number;
  sha256: string;
  /** A delivery carrying a maintenance notice (no rows): which notice, at which version. */
  notice?: { id: string; version: number };
}

/**
 * One numbered delivery of a push subscription: its body is made once (NDJSON rows and
 * tombstones, as granted when it was made), so every attempt sends the same bytes under the
 * same `webhook-id` (the id). The delivery log is these rows.
 */
@Entity('webhook_delivery')
@Index('webhook_delivery_subscription_sequence', ['subscriptionId', 'sequence'], { unique: true })
@Index('webhook_delivery_due', ['status', 'nextAttemptAt'])
export class WebhookDelivery extends Base {
  @Column('uuid')
  subscriptionId: string;

  @Column('integer')
  sequence: number;

  @Column('text')
  status: DeliveryStatus;

  @Column('integer', { default: 0 })
  attempts: number;

  @Column('integer', { nullable: true })
  lastStatusCode: number | null;

  @Column('text', { nullable: true })
  lastError: string | null;

  @Column('integer', { nullable: true })
  latencyMs: number | null;

  @Column('timestamptz')
  nextAttemptAt: Date;

  @Column('timestamptz', { nullable: true })
  firstAttemptAt: Date | null;

  @Column('timestamptz', { nullable: true })
  deliveredAt: Date | null;

  /** A worker holds the delivery until then (several replicas: each sends what it claimed). */
  @Column('timestamptz', { nullable: true })
  leaseUntil: Date | null;

  @Column('uuid')
  grantId: string;

  @Column('text')
  cursorFrom: string;

  @Column('text')
  cursorTo: string;

  @Column('integer')
  rows: number;

  @Column('integer')
  tombstones: number;

  @Column('integer')
  bytes: number;

  @Column('text')
  sha256: string;

  @Column('text')
  body: string;

  @Column('jsonb')
  manifest: DeliveryLogEntry;
}
