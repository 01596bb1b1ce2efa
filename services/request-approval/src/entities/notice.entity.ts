import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { NoticeStatus, ServiceMode } from '@gdx/contracts';

/** A maintenance notice (Art. 23): the window, what it affects and why. Its versions are in notice_revision. */
@Entity('notice')
@Index('notice_window', ['endsAt', 'startsAt'])
export class Notice extends Base {
  @Column('text', { unique: true })
  number: string;

  @Column('uuid')
  issuerUnitId: string;

  @Column('text')
  issuedBy: string;

  @Column('timestamptz')
  startsAt: Date;

  @Column('timestamptz')
  endsAt: Date;

  @Column('text', { array: true })
  services: ServiceMode[];

  @Column('text', { array: true })
  resourceCodes: string[];

  @Column('text')
  description: string;

  @Column('boolean')
  emergency: boolean;

  @Column('text', { nullable: true })
  emergencyReason: string | null;

  @Column('text')
  status: NoticeStatus;

  @Column('text', { nullable: true })
  cancelReason: string | null;

  @Column('integer')
  version: number;
}
