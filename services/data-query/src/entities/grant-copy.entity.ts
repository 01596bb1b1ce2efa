import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

export type GrantStatus = 'active' | 'suspended' | 'revoked' | 'expired';
export type ServiceMode = 'interface' | 'data-call' | 'customization';

export interface RowCondition {
  key: string;
  op: 'eq' | 'in' | 'between';
  value: unknown;
}

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
  rowFilter: { all: RowCondition[] } | null;

  @Column('jsonb')
  modes: ServiceMode[];

  @Column('integer', { nullable: true })
  rateLimitPerSecond: number | null;

  @Column('integer', { nullable: true })
  dailyQuota: number | null;

  @Column('timestamptz', { nullable: true })
  validFrom: Date | null;

  @Column('timestamptz', { nullable: true })
  validTo: Date | null;

  @Column('text')
  status: GrantStatus;

  @Column('integer')
  version: number;

  /** false only when the grant explicitly lets personal items through unmasked. */
  @Column('boolean', { default: true })
  maskPersonal: boolean;
}
