import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

/** One row per (consumer group, event): the dedupe key that makes redelivery harmless. */
@Entity('processed_event')
@Index('processed_event_group_event', ['consumerGroup', 'eventId'], { unique: true })
export class ProcessedEvent extends Base {
  @Column('text')
  consumerGroup: string;

  @Column('uuid')
  eventId: string;
}
