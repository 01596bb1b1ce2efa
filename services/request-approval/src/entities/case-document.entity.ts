import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { Attachment } from './share-request.entity';

export const DOCUMENT_KINDS = ['statement', 'answer', 'acceptance', 'escalation', 'decision', 'assignment', 'report', 'review', 'withdrawal'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** A written text of a case (the objection itself, an answer, a report, a decision). Never updated: a trigger refuses it. */
@Entity('case_document')
@Index('case_document_case', ['caseId', 'at'])
export class CaseDocument extends Base {
  @Column('uuid')
  caseId: string;

  @Column('text')
  kind: DocumentKind;

  @Column('uuid')
  authorUnitId: string;

  @Column('text')
  authorKind: 'account' | 'client';

  @Column('text')
  authorId: string;

  @Column('text')
  text: string;

  @Column('jsonb')
  attachments: Attachment[];

  /** What the text decides, in machine-readable form (an objection's outcome and correcting batch, a decision). */
  @Column('jsonb', { nullable: true })
  outcome: Record<string, unknown> | null;

  @Column('timestamptz')
  at: Date;
}
