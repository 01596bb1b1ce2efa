import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { CaseStatus, CaseType } from '@gdx/contracts';

/** What only one type of case holds; presented as typed fields of the case view. */
export interface CaseDetails {
  /** Objection: the record keys and items concerned, and the grant they came under. */
  recordKeys?: string[];
  items?: string[];
  grantId?: string;
  /** Complaint: what it is about, and what it concerns. */
  category?: string;
  requestId?: string | null;
  assigneeId?: string | null;
  /** Orders opened from this case (a complaint or an objection upheld). */
  rectificationIds?: string[];
  /** Rectification order: the problems named, by when, how often the report was sent back, and where it came from. */
  problems?: string[];
  dueDate?: string;
  returns?: number;
  originCaseId?: string | null;
  circularId?: string | null;
}

/**
 * A case of the supervisory workflow (§5): an objection (异议), a complaint (投诉) or a
 * rectification order (限期整改). One table and one state machine table for the three,
 * beside the request workflow whose transition log, calendar and sweeper they share.
 * Written texts are not here: they are case documents, never changed once given.
 */
@Entity('supervision_case')
@Index('case_opened_by', ['openedByUnitId', 'id'])
@Index('case_against', ['againstUnitId', 'id'])
@Index('case_deadline', ['deadline'], { where: 'NOT overdue AND deadline IS NOT NULL' })
export class Case extends Base {
  @Column('text')
  type: CaseType;

  @Column('text', { unique: true })
  number: string;

  @Column('text')
  status: CaseStatus;

  @Column('uuid')
  openedByUnitId: string;

  @Column('text')
  openedBy: string;

  @Column('uuid')
  againstUnitId: string;

  @Column('text', { nullable: true })
  resourceCode: string | null;

  @Column('text')
  summary: string;

  /** The instant by which the next party must act; null once nothing is awaited. */
  @Column('timestamptz', { nullable: true })
  deadline: Date | null;

  /** Set by the sweeper when the deadline passed; stays once set (it counts in assessment). */
  @Column('boolean', { default: false })
  overdue: boolean;

  @Column('timestamptz', { nullable: true })
  overdueAt: Date | null;

  @Column('timestamptz', { nullable: true })
  closedAt: Date | null;

  @Column('jsonb')
  details: CaseDetails;

  @Column('integer')
  version: number;
}
