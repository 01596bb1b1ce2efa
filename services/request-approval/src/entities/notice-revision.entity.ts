import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { NoticeView } from '@gdx/contracts';

/** A notice as it stood after each change (announce, amend, cancel), with who changed it. Never updated. */
@Entity('notice_revision')
@Index('notice_revision_notice', ['noticeId', 'version'], { unique: true })
export class NoticeRevision extends Base {
  @Column('uuid')
  noticeId: string;

  @Column('integer')
  version: number;

  @Column('text')
  action: 'announce' | 'amend' | 'cancel';

  @Column('uuid')
  actorUnitId: string;

  @Column('text')
  actorId: string;

  @Column('timestamptz')
  at: Date;

  @Column('text', { nullable: true })
  reason: string | null;

  @Column('jsonb')
  notice: NoticeView;
}
