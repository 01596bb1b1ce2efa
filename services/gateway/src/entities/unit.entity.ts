import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

export type UnitKind = 'office' | 'provider' | 'consumer';

/** A department (or the office itself). Every account and client belongs to one. */
@Entity('unit')
export class Unit extends Base {
  /** Short stable key used in seeds and URLs of the demo (e.g. `GA`). */
  @Index('unit_key', { unique: true })
  @Column('text')
  key: string;

  @Column('text')
  name: string;

  @Index('unit_credit_code', { unique: true })
  @Column('char', { length: 18 })
  creditCode: string;

  @Column('char', { length: 6 })
  regionCode: string;

  @Column('text')
  kind: UnitKind;

  @Column('text', { nullable: true })
  contactName: string | null;

  @Column('text', { nullable: true })
  contactPhone: string | null;

  @Column('text', { default: 'active' })
  status: 'active' | 'disabled';
}
