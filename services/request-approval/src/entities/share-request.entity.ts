import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { RowFilter, ServiceMode } from '@gdx/contracts';

/** How a request is decided, fixed when it is filed from the resource's sharing type. */
export type RequestTrack = 'unconditional' | 'conditional' | 'none' | 'uncatalogued';

export type RequestStatus = 'awaiting_filing' | 'provider_review' | 'office_review' | 'granted' | 'refused' | 'withdrawn';

export interface Attachment {
  name: string;
  size: number;
  sha256: string;
  mediaType: string;
}

/** What a reviewer lets through; each field narrows what was asked. */
export interface GrantTerms {
  resourceCode?: string;
  items?: string[];
  /** Items to be served in clear (a subset of `items`); what was asked, possibly narrowed. */
  clearItems?: string[];
  rowFilter?: RowFilter | null;
  rateLimitPerSecond?: number;
  dailyQuota?: number;
  validFrom?: string;
  validTo?: string;
}

export interface ReviewRecord {
  decision: 'approve' | 'refuse';
  unitId: string;
  by: string;
  at: string;
  terms?: GrantTerms;
  legalBasis?: string;
  comment?: string;
}

export interface OfficeDecisionRecord {
  decision: 'confirm' | 'return' | 'refuse';
  by: string;
  at: string;
  legalBasis?: string;
  /** The legal basis for serving `secret` items in clear, when the grant does. */
  clearLegalBasis?: string;
  comment?: string;
}

/** A unit's request for a resource (共享申请), from filing to grant or refusal. */
@Entity('share_request')
@Index('share_request_applicant', ['applicantUnitId', 'id'])
@Index('share_request_provider', ['providerUnitId', 'id'])
@Index('share_request_deadline', ['providerDeadline'], { where: "status = 'provider_review' AND NOT delayed" })
export class ShareRequest extends Base {
  @Column('uuid')
  applicantUnitId: string;

  /** The account (or client) that filed it. */
  @Column('text')
  filedBy: string;

  @Column('text')
  track: RequestTrack;

  @Column('text', { nullable: true })
  resourceCode: string | null;

  @Column('text', { nullable: true })
  resourceName: string | null;

  @Column('integer', { nullable: true })
  resourceVersion: number | null;

  /** Who answers: the resource's provider, or for an out-of-catalogue need the unit the applicant named. */
  @Column('uuid')
  providerUnitId: string;

  /** Out of catalogue: the need in the applicant's words. */
  @Column('text', { nullable: true })
  need: string | null;

  @Column('jsonb')
  items: string[];

  /** Items the applicant asks to receive in clear, with its purpose (§6); a subset of `items`. */
  @Column('jsonb')
  clearItems: string[];

  @Column('text')
  serviceMode: ServiceMode;

  @Column('text')
  purpose: string;

  /** The statutory duty the data serves (履职依据). */
  @Column('text')
  dutyBasis: string;

  /** Expected records or calls per day. */
  @Column('integer')
  expectedVolume: number;

  @Column('timestamptz')
  validFrom: Date;

  @Column('timestamptz')
  validTo: Date;

  @Column('jsonb')
  attachments: Attachment[];

  @Column('text')
  status: RequestStatus;

  @Column('timestamptz', { nullable: true })
  submittedAt: Date | null;

  /** End of the provider's answer period (exclusive); null when no provider answer is awaited. */
  @Column('timestamptz', { nullable: true })
  providerDeadline: Date | null;

  /** Flagged once the provider missed a deadline (delayed provision); it stays, as it counts in assessment. */
  @Column('boolean', { default: false })
  delayed: boolean;

  @Column('timestamptz', { nullable: true })
  delayedAt: Date | null;

  @Column('jsonb', { nullable: true })
  review: ReviewRecord | null;

  @Column('jsonb', { nullable: true })
  officeDecision: OfficeDecisionRecord | null;

  /** The record form (备案表) of an unconditional request, as filed. */
  @Column('jsonb', { nullable: true })
  filingForm: Record<string, unknown> | null;

  @Column('uuid', { nullable: true })
  grantId: string | null;

  @Column('timestamptz', { nullable: true })
  closedAt: Date | null;

  @Column('integer', { default: 1 })
  version: number;
}
