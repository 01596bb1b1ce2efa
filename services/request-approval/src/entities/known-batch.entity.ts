import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

/**
 * A data batch data-query accepted (`data.updated`), as far as this service needs it: an
 * objection answered `corrected` names a batch that must exist and be later than the objection.
 */
@Entity('known_batch')
@Index('known_batch_resource_seq', ['resourceCode', 'changeSeq'], { unique: true })
export class KnownBatch extends Base {
  @Column('text')
  resourceCode: string;

  @Column('bigint', { transformer: { to: (v: number) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  changeSeq: number;

  @Column('uuid')
  providerUnitId: string;

  @Column('timestamptz')
  acceptedAt: Date;
}
