import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';

import type { ItemMask, ItemType, ResourceStatus, Sensitivity, ServiceMode, SharingType } from '@gdx/contracts';

export type { ItemType, ResourceStatus, Sensitivity, SharingType };

/** One 信息项 as stored: optional flags are normalised on write so readers need no defaults. */
export interface ResourceItem {
  key: string;
  label: string;
  type: ItemType;
  length?: number;
  required: boolean;
  queryKey: boolean;
  sensitivity: Sensitivity;
  element?: string;
  authoritative?: boolean;
  codeTable?: string;
  sharing?: SharingType;
  /** Personal and secret items always have one (declared, or the catalogue's default). */
  mask?: ItemMask;
  /** Decimal items only: digits after the decimal point. */
  scale?: number;
}

/**
 * Name and summary as one text, joined by a unit separator (chr(31)) that no search
 * term contains, so a match never spans the two. Queries must use exactly this
 * expression for PostgreSQL to match it to the index.
 */
export const SEARCH_TEXT = (alias: string) => `(${alias}.name || chr(31) || ${alias}.summary)`;

export interface Sharing {
  type: SharingType;
  conditions?: string;
  legalBasis?: string;
}

export interface OpenAttribute {
  open: boolean;
  conditions?: string;
}

/**
 * A catalogue resource (信息资源) with the core metadata of the compilation guideline.
 * The current state lives here; every state it ever had is a ResourceVersion row.
 */
@Entity('resource')
// Chinese substring search (ILIKE '%…%') uses GIN indexes: trigrams of the expression
// SEARCH_TEXT, and the searchBigrams column for two-character terms. They are created by
// a hand-written migration; synchronize: false keeps generated migrations from dropping them.
@Index('resource_search_trgm', { synchronize: false })
@Index('resource_search_bigram', { synchronize: false })
@Index('resource_name_sort', ['name', 'id'])
@Index('resource_updated_sort', ['updatedAt', 'id'])
export class Resource extends Base {
  /** 信息资源代码: classification prefix + '/' + sequence, e.g. 101001/0001. */
  @Index('resource_code', { unique: true })
  @Column('text')
  code: string;

  /** 类 / 项 / 目 / 细目, e.g. ['1', '01', '001']. */
  @Column('text', { array: true })
  classification: string[];

  /** 类 alone (1 base, 2 thematic, 3 departmental), kept as a column for filtering. */
  @Index('resource_class_code')
  @Column('text')
  classCode: string;

  /** For class 1, the base database (基础数据库) key such as '101'; otherwise null. */
  @Index('resource_base_database')
  @Column('text', { nullable: true })
  baseDatabase: string | null;

  @Column('text')
  name: string;

  @Column('text')
  summary: string;

  @Index('resource_provider_unit')
  @Column('uuid')
  providerUnitId: string;

  /** Copied from the gateway's directory when set, so reads never call back. */
  @Column('text')
  providerUnitName: string;

  @Column('text')
  providerCreditCode: string;

  @Column('text')
  format: string;

  @Column('jsonb')
  items: ResourceItem[];

  /** Duplicates sharing.type as a plain column so the filter can use an index. */
  @Index('resource_sharing_type')
  @Column('text')
  sharingType: SharingType;

  @Column('jsonb')
  sharing: Sharing;

  @Column('text', { array: true })
  methods: ServiceMode[];

  @Column('jsonb')
  open: OpenAttribute;

  @Column('text')
  updateCycle: string;

  @Column('text', { array: true })
  relatedCodes: string[];

  @Index('resource_status')
  @Column('text')
  status: ResourceStatus;

  @Column('integer')
  version: number;

  @Column('timestamptz', { nullable: true })
  publishedAt: Date | null;

  /**
   * The distinct lower-cased bigrams of SEARCH_TEXT, for two-character search terms (which
   * contain no trigram). A trigger keeps it (see the search-index migration): the service
   * never writes or reads it, so it is neither selected nor inserted nor updated here.
   */
  @Column({ type: 'text', array: true, select: false, insert: false, update: false, default: () => "'{}'" })
  searchBigrams: string[];
}
