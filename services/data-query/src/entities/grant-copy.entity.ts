import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { GrantStatus, RowFilter, ServiceMode } from '@gdx/contracts';

/**
 * data-query's own copy of a grant (zero trust: the gateway checked it, this
 * service checks it again). Kept from `grant.*` events; the id is the grant's id.
 */
@Entity('grant_copy')
@Index('grant_copy_consumer_resource', ['consumerUnitId', 'resourceCode'])
export class GrantCopy extends Base {
  @Column('uuid')
  consumerUnitId: string;

  @Column('uuid')
  providerUnitId: string;

  @Column('text')
  resourceCode: string;

  @Column('jsonb')
  items: string[];

  @Column('jsonb', { nullable: true })
  rowFilter: RowFilter | null;

  @Column('jsonb')
  modes: ServiceMode[];

  @Column('integer', { nullable: true })
  rateLimitPerSecond: number | null;

  @Column('integer', { nullable: true })
  dailyQuota: number | null;

  /** Null only in rows kept before grants had to carry their validity (open-ended). */
  @Column('timestamptz', { nullable: true })
  validFrom: Date | null;

  @Column('timestamptz', { nullable: true })
  validTo: Date | null;

  @Column('text')
  status: GrantStatus;

  @Column('integer')
  version: number;

  /** Items the grant lets leave in clear (§6); null or empty: none. */
  @Column('jsonb', { nullable: true })
  clearItems: string[] | null;

  /** The office-recorded legal basis without which no secret item leaves in clear. */
  @Column('text', { nullable: true })
  clearLegalBasis: string | null;
}
