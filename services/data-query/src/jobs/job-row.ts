import type { JobKind, JobStatus } from '@gdx/contracts';
import { createEvent, type Actor, type EventData } from '@gdx/contracts';
import type { JobResultFormat, JobSource } from '../entities/job.entity';
import type { JobView } from './job.schemas';

/** A job row as the service and the runner read it (snake_case, as pg answers). */
export interface JobRow {
  id: string;
  unit_id: string;
  account_id: string | null;
  client_id: string | null;
  kind: JobKind;
  resource_code: string;
  provider_unit_id: string;
  grant_id: string;
  status: JobStatus;
  source: JobSource;
  source_job_id: string | null;
  parameters: Record<string, unknown>;
  items: string[];
  columns: string[];
  result_format: JobResultFormat;
  total: number | null;
  done: number;
  counts: Record<string, number>;
  result_records: number;
  result_sha256: string | null;
  checkpoint: number;
  slice_after: string | null;
  ticket: string | null;
  failures: number;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  expires_at: Date | null;
  request_id: string;
  source_address: string;
}

export const JOB_COLUMNS =
  'id, unit_id, account_id, client_id, kind, resource_code, provider_unit_id, grant_id, status, source, source_job_id, parameters, items, columns, result_format, total, done, counts, result_records, result_sha256, checkpoint, slice_after, ticket, failures, error, created_at, started_at, finished_at, expires_at, request_id, source_address';

/** States a job can still change from. */
export const LIVE_STATUSES: readonly JobStatus[] = ['awaiting-input', 'queued', 'running'];

export function viewJob(r: JobRow): JobView {
  return {
    id: r.id,
    unitId: r.unit_id,
    kind: r.kind,
    resourceCode: r.resource_code,
    grantId: r.grant_id,
    status: r.status,
    source: r.source,
    parameters: r.parameters,
    items: r.items,
    columns: r.columns,
    resultFormat: r.result_format,
    progress: { done: r.done, total: r.total },
    counts: r.counts,
    resultRecords: r.result_records,
    resultSha256: r.result_sha256,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    finishedAt: r.finished_at?.toISOString() ?? null,
    expiresAt: r.expires_at?.toISOString() ?? null,
  };
}

type JobEventType = 'job.submitted' | 'job.started' | 'job.finished' | 'job.expired';

/**
 * A job's event (on the record of both its unit and the resource's provider): its terms and figures,
 * never its records. Only the event of a call (submitted) names the call's request id and address.
 */
export function jobEvent<T extends JobEventType>(type: T, r: JobRow, actor: Actor, extra: Omit<EventData<T>, keyof EventData<'job.submitted'>> & Partial<EventData<T>>, traceparent?: string) {
  const data = {
    jobId: r.id,
    unitId: r.unit_id,
    ...(r.account_id ? { accountId: r.account_id } : {}),
    ...(r.client_id ? { clientId: r.client_id } : {}),
    providerUnitId: r.provider_unit_id,
    grantId: r.grant_id,
    resourceCode: r.resource_code,
    mode: 'customization' as const,
    kind: r.kind,
    status: r.status,
    items: r.items,
    records: r.total,
    ...extra,
  } as EventData<T>;
  return createEvent(type, { actor, subject: r.id, traceparent, data });
}
