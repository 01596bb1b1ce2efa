import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

/** A circular (通报批评, Art. 30): published to every unit and permanent; a trigger refuses changes. */
@Entity('circular')
@Index('circular_unit', ['unitId'])
export class Circular extends Base {
  @Column('text', { unique: true })
  number: string;

  @Column('uuid', { unique: true })
  caseId: string;

  @Column('uuid')
  unitId: string;

  @Column('text')
  reason: 'overdue' | 'failed_twice';

  @Column('text')
  text: string;

  @Column('timestamptz')
  publishedAt: Date;
}
