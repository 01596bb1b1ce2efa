import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { ItemView } from '@gdx/contracts';

export type DatasetStatus = 'published' | 'deprecated';

/**
 * The storage of one published catalogue resource: which table holds its rows,
 * the items as the catalogue last described them, and how fresh the data is.
 */
@Entity('dataset')
export class Dataset extends Base {
  @Index('dataset_code', { unique: true })
  @Column('text')
  code: string;

  @Column('text')
  name: string;

  /** Unqualified table name in the rows schema, derived from the code (never from free text). */
  @Index('dataset_table_name', { unique: true })
  @Column('text')
  tableName: string;

  @Column('uuid')
  providerUnitId: string;

  @Column('jsonb')
  items: ItemView[];

  /** The item key batches upsert and delete by; fixed at creation so its unique index never moves. */
  @Column('text')
  upsertKey: string;

  @Column('text')
  status: DatasetStatus;

  /** The catalogue version last applied; older events are ignored. */
  @Column('integer')
  version: number;

  /** Grows by one with every accepted batch; rows carry the sequence that last touched them. */
  @Column('bigint', { default: 0 })
  changeSeq: string;

  /** When a batch was last accepted (drives update timeliness in assessment). */
  @Column('timestamptz', { nullable: true })
  lastUpdatedAt: Date | null;
}
