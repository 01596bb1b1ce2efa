import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { Role } from '@gdx/auth';

/** A member of staff who signs in with a password. */
@Entity('account')
export class Account extends Base {
  @Index('account_unit')
  @Column('uuid')
  unitId: string;

  @Index('account_username', { unique: true })
  @Column('text')
  username: string;

  @Column('text')
  displayName: string;

  @Column('text', { array: true })
  roles: Role[];

  @Column('text')
  passwordHash: string;

  @Column('integer', { default: 0 })
  failedLogins: number;

  @Column('timestamptz', { nullable: true })
  lockedUntil: Date | null;

  @Column('text', { default: 'active' })
  status: 'active' | 'disabled';
}
