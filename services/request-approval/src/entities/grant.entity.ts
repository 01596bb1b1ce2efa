import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { GrantStatus, RowFilter, ServiceMode } from '@gdx/contracts';

/** The only thing that lets data flow (授权): who may read which items of which rows, how, how much, until when. */
@Entity('grant')
@Index('grant_consumer', ['consumerUnitId', 'id'])
@Index('grant_provider', ['providerUnitId', 'id'])
@Index('grant_resource', ['resourceCode'])
@Index('grant_expiry', ['validTo'], { where: "status IN ('active', 'suspended')" })
export class Grant extends Base {
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

  @Column('integer')
  rateLimitPerSecond: number;

  @Column('integer')
  dailyQuota: number;

  @Column('timestamptz')
  validFrom: Date;

  @Column('timestamptz')
  validTo: Date;

  @Column('text')
  purpose: string;

  @Index('grant_request', { unique: true })
  @Column('uuid')
  requestId: string;

  @Column('text')
  status: GrantStatus;

  @Column('text', { nullable: true })
  statusReason: string | null;

  /** Grows with every change, so a cache applying events can drop stale ones. */
  @Column('integer', { default: 1 })
  version: number;

  /**
   * Items served in clear although their sensitivity would mask them (§6): `personal` ones the
   * grant lists; `secret` ones only together with `clearLegalBasis`, recorded by the office.
   */
  @Column('jsonb')
  clearItems: string[];

  /** The office's recorded legal basis for serving the `secret` items of `clearItems` in clear; null when there are none. */
  @Column('text', { nullable: true })
  clearLegalBasis: string | null;

  /** The newer grant for the same consumer unit, resource and mode that took this one's place (state `superseded`). */
  @Column('uuid', { nullable: true })
  supersededBy: string | null;
}
