import { Column, Entity, Generated, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { EventEnvelope } from './envelope';

/** Events written in the same transaction as the change they describe; the relay publishes them. */
@Entity('outbox')
@Index('outbox_unpublished', ['seq'], { where: 'published_at IS NULL' })
export class OutboxEvent extends Base {
  @Column('bigint')
  @Generated('increment')
  seq: string;

  @Column('text')
  type: string;

  @Column('jsonb')
  envelope: EventEnvelope;

  @Column('timestamptz', { nullable: true })
  publishedAt: Date | null;
}
