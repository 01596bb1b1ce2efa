import { Column, Entity, Generated, Index } from 'typeorm';
import { Base } from '@gdx/database';

/**
 * Events written in the same transaction as the change they describe; the relay publishes them.
 * A published row keeps the stream entry id Redis gave it (`streamMs`-`streamSeq`) and stays for
 * the retention window after every consumer group acknowledged it: if Redis loses its streams,
 * the relay publishes again what was not acknowledged (outbox-relay.ts).
 */
@Entity('outbox')
@Index('outbox_unpublished', ['seq'], { where: 'published_at IS NULL' })
@Index('outbox_published_at', ['publishedAt'], { where: 'published_at IS NOT NULL' })
export class OutboxEvent extends Base {
  @Column('bigint')
  @Generated('increment')
  seq: string;

  @Column('text')
  type: string;

  /** The envelope as JSON text, exactly as it is published: jsonb would refuse a NUL or a lone surrogate a caller put in a query. */
  @Column('text')
  envelope: string;

  @Column('timestamptz', { nullable: true })
  publishedAt: Date | null;

  @Column('bigint', { nullable: true })
  streamMs: string | null;

  @Column('bigint', { nullable: true })
  streamSeq: string | null;
}

/**
 * What the relays of one outbox know about a stream (one row per domain): the Redis epoch they
 * published it under and the first entry not yet acknowledged by every consumer group. Rows of
 * the outbox before that entry are on the other side; after it, they are published again when
 * the epoch changes (Redis restarted empty) or the stream goes back in time (restored from an
 * older snapshot).
 */
@Entity('outbox_stream')
@Index('outbox_stream_domain', ['domain'], { unique: true })
export class OutboxStream extends Base {
  @Column('text')
  domain: string;

  @Column('text')
  epoch: string;

  @Column('bigint', { default: 0 })
  ackedMs: string;

  @Column('bigint', { default: 0 })
  ackedSeq: string;
}
