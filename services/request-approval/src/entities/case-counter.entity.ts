import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

/** The last number given per prefix and year (YY-2026-0001 …): one row, incremented under its lock. */
@Entity('case_counter')
@Index('case_counter_prefix_year', ['prefix', 'year'], { unique: true })
export class CaseCounter extends Base {
  @Column('text')
  prefix: string;

  @Column('integer')
  year: number;

  @Column('integer')
  last: number;
}
