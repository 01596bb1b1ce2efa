import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

export type SubscriptionStatus = 'active' | 'paused';
/** Who or what paused a subscription: its unit (or the office), a dead-lettered delivery, or the grant no longer applying. */
export type PauseKind = 'manual' | 'dead-letter' | 'grant';

/**
 * A push subscription of the data-call mode (数据调用): a consumer unit's webhook that
 * receives the changed rows of its granted slice of a resource, in numbered deliveries.
 */
@Entity('webhook_subscription')
@Index('webhook_subscription_unit', ['unitId'])
@Index('webhook_subscription_resource', ['resourceCode', 'status'])
export class WebhookSubscription extends Base {
  @Column('uuid')
  unitId: string;

  @Column('text')
  resourceCode: string;

  /** The items asked for; null: every item the grant covers (as it is when each delivery is made). */
  @Column('jsonb', { nullable: true })
  items: string[] | null;

  @Column('text')
  url: string;

  /**
   * The signing secret (`whsec_…`), shown to the unit once. Kept in clear in the service's
   * own schema for now: it must be read back to sign every delivery, so hashing is no
   * option; encrypting it under a KMS-held key is future work (out of scope here).
   */
  @Column('text')
  secret: string;

  /** The secret before the last rotation, still signed with until `previousSecretUntil`. */
  @Column('text', { nullable: true })
  previousSecret: string | null;

  @Column('timestamptz', { nullable: true })
  previousSecretUntil: Date | null;

  @Column('text')
  status: SubscriptionStatus;

  @Column('text', { nullable: true })
  pauseKind: PauseKind | null;

  @Column('text', { nullable: true })
  pausedReason: string | null;

  /** The resource's change sequence up to which deliveries have been made (included). */
  @Column('bigint')
  cursorSeq: string;

  /** The sequence number of the last delivery made (1, 2, 3 …; 0: none yet). */
  @Column('integer', { default: 0 })
  lastSequence: number;

  /** The account that created it. */
  @Column('text')
  createdBy: string;
}
