import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

/** One step of a request's, grant's or case's state machine: who moved it, when, from where to where and why. Never updated. */
@Entity('transition')
@Index('transition_subject', ['subjectId', 'at'])
export class Transition extends Base {
  @Column('text')
  subjectType: 'request' | 'grant' | 'case';

  @Column('uuid')
  subjectId: string;

  @Column('text')
  action: string;

  @Column('text', { nullable: true })
  fromStatus: string | null;

  @Column('text')
  toStatus: string;

  @Column('text')
  actorKind: 'account' | 'client' | 'system';

  @Column('uuid', { nullable: true })
  actorUnitId: string | null;

  @Column('text', { nullable: true })
  actorId: string | null;

  @Column('timestamptz')
  at: Date;

  @Column('text', { nullable: true })
  reason: string | null;
}
