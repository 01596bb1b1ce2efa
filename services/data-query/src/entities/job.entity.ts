import { Column, Entity, Index } from 'typeorm';
import { Base } from '@gdx/database';
import type { JobKind, JobStatus } from '@gdx/contracts';

/** Where a job's records come from: uploaded by the caller, the caller's granted slice, or another job's result. */
export type JobSource = 'upload' | 'slice' | 'job';
export type JobResultFormat = 'ndjson' | 'csv' | 'json' | 'xml';

/**
 * A customization job (数据定制, §6 mode 3). Its input records and result lines live in the
 * plain tables `job_input` and `job_result` (bulk rows read and written by SQL only, like a
 * resource's rows); this row holds the job's terms, progress and the checkpoint a worker
 * resumes from.
 */
@Entity('job')
@Index('job_unit', ['unitId', 'id'])
@Index('job_status', ['status', 'heartbeatAt'])
export class Job extends Base {
  @Column('uuid')
  unitId: string;

  @Column('text', { nullable: true })
  accountId: string | null;

  @Column('text', { nullable: true })
  clientId: string | null;

  @Column('text')
  kind: JobKind;

  @Column('text')
  resourceCode: string;

  @Column('uuid')
  providerUnitId: string;

  /** The grant the job was accepted under; every chunk is decided again. */
  @Column('uuid')
  grantId: string;

  @Column('text')
  status: JobStatus;

  @Column('text')
  source: JobSource;

  /** The job whose result a `convert` job reads. */
  @Column('uuid', { nullable: true })
  sourceJobId: string | null;

  /** The kind's parameters as validated (conditions, compared items, normalisation, rules…). */
  @Column('jsonb')
  parameters: Record<string, unknown>;

  /** The resource's items the job reads: the grant covers all of them. */
  @Column('jsonb')
  items: string[];

  /** The result's columns in order (CSV header, XML fields). */
  @Column('jsonb')
  columns: string[];

  @Column('text')
  resultFormat: JobResultFormat;

  /** Records to process (null until known). */
  @Column('integer', { nullable: true })
  total: number | null;

  /** Records processed so far (exact: counted in the transaction that wrote their results). */
  @Column('integer', { default: 0 })
  done: number;

  /** Records processed by verdict or outcome. */
  @Column('jsonb', { default: {} })
  counts: Record<string, number>;

  @Column('integer', { default: 0 })
  resultRecords: number;

  @Column('text', { nullable: true })
  resultSha256: string | null;

  /** Where the next chunk starts: the last input record (or source result line) processed. */
  @Column('integer', { default: 0 })
  checkpoint: number;

  /** A slice's next chunk starts after this row key (the key's text). */
  @Column('text', { nullable: true })
  sliceAfter: string | null;

  /** The live work ticket: a ticket naming another is stale and dropped. */
  @Column('uuid', { nullable: true })
  ticket: string | null;

  /** The last time a worker made progress (or the job was queued): a job silent for too long is queued again. */
  @Column('timestamptz', { nullable: true })
  heartbeatAt: Date | null;

  /** Chunks that failed in a row; the job fails after a few. */
  @Column('integer', { default: 0 })
  failures: number;

  @Column('text', { nullable: true })
  error: string | null;

  @Column('timestamptz', { nullable: true })
  startedAt: Date | null;

  @Column('timestamptz', { nullable: true })
  finishedAt: Date | null;

  /** When its input and result are deleted. */
  @Column('timestamptz', { nullable: true })
  expiresAt: Date | null;

  @Column('text')
  requestId: string;

  @Column('text')
  sourceAddress: string;
}
