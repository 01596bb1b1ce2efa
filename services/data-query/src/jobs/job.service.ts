import type { Readable } from 'node:stream';
import { grantDenied } from '../grants/grant-denial';
import type { Pool } from 'pg';
import { actorOf, isOffice, type Principal } from '@gdx/auth';
import { decideGrant, type JobKind, type JobStatus } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import { AppError, ConflictError, ForbiddenError, NotFoundError, TooManyRequestsError } from '@gdx/errors';
import type { EventPublisher } from '@gdx/events';
import { isUuidText } from '@gdx/service-kit';
import { keysetPage } from '../shared/keyset-page';
import type { EntityManager } from 'typeorm';
import type { DatasetRegistry } from '../datasets/dataset-registry';
import type { GrantCache } from '../grants/grant-cache';
import type { QueryPlanner } from '../query/query-planner';
import type { BatchFormat } from '../batches/record-readers';
import { clientOf, ingestInput, inputShape, insertInline, type InputLimits } from './job-input';
import { itemsAsked, planJob, RECORD_COLUMNS } from './job-plan';
import { jobEvent, JOB_COLUMNS, LIVE_STATUSES, viewJob, type JobRow } from './job-row';
import type { JobRunner } from './job-runner';
import { checkConditions, sliceChunkSql } from './job-sql';
import type { CreateJob, JobCondition, JobView } from './job.schemas';
import { resultStream, type ResultFormat } from './job-result';

export interface JobServiceOptions extends InputLimits {
  /** Jobs of one unit waiting for input, queued or running at once. */
  unitConcurrency: number;
  eventsPollMs: number;
}

export interface CallContext {
  requestId: string;
  sourceAddress: string;
  traceparent?: string;
}

const UPLOAD_KINDS: readonly JobKind[] = ['compare', 'clean', 'normalize'];

/**
 * Customization jobs (数据定制, §6 mode 3) as a unit's systems and staff use them: accepted
 * under the unit's grant of the `customization` mode (the one decision), their input
 * streamed into job_input, worked by the JobRunner, their result downloaded in the format
 * asked for. A job is its unit's: the office sees its terms and progress, never its result;
 * every other unit is told there is no such job.
 */
export class JobService {
  constructor(
    private readonly pool: Pool,
    private readonly datasets: DatasetRegistry,
    private readonly grants: GrantCache,
    private readonly planner: QueryPlanner,
    private readonly events: EventPublisher,
    private readonly runner: JobRunner,
    private readonly options: JobServiceOptions,
  ) {}

  async create(p: Principal, body: CreateJob, ctx: CallContext): Promise<JobView> {
    const ds = this.datasets.served(body.resourceCode);
    const source = body.kind === 'convert' && body.parameters.fromJob ? await this.ownSucceeded(p, body.parameters.fromJob, ds.code) : undefined;
    const asked = itemsAsked(body, ds, source?.items);
    const decision = decideGrant(this.grants.forCaller(p.unitId, ds.code), 'customization', asked, Date.now());
    if (!decision.ok) throw grantDenied(decision, 'body.parameters');
    const grant = decision.grant;
    const plan = planJob(body, ds, grant, source);
    if (plan.kind === 'filter' || plan.source === 'slice') {
      checkConditions(ds, (plan.parameters.conditions as JobCondition[] | undefined) ?? []);
      // The grant's row filter compiled now: one this resource cannot apply refuses the job, not its first chunk.
      sliceChunkSql({ ds, grant, items: plan.parameters.items as string[], conditions: [] }, this.planner);
    }
    const records = 'records' in body ? body.records : undefined;
    const upload = UPLOAD_KINDS.includes(plan.kind);
    const id = uuidv7();
    const actor = actorOf(p);
    const row = await this.events.transaction(async (m, emit) => {
      await this.admit(m, p.unitId);
      // Records come after the row (inline, now, or with the upload), which queues the job; a slice job is queued at once.
      const status: JobStatus = upload ? 'awaiting-input' : 'queued';
      const [job] = await m.query<JobRow[]>(
        `INSERT INTO job (id, unit_id, account_id, client_id, kind, resource_code, provider_unit_id, grant_id, status, source, source_job_id, parameters, items, columns, result_format, ticket, heartbeat_at, request_id, source_address)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14::jsonb, $15, $16, now(), $17, $18) RETURNING ${JOB_COLUMNS}`,
        [
          id,
          p.unitId,
          actor.accountId ?? null,
          actor.clientId ?? null,
          plan.kind,
          ds.code,
          ds.providerUnitId,
          grant.id,
          status,
          plan.source,
          plan.sourceJobId,
          JSON.stringify(plan.parameters),
          JSON.stringify(plan.items),
          JSON.stringify(plan.columns),
          plan.resultFormat,
          status === 'queued' ? uuidv7() : null,
          ctx.requestId,
          ctx.sourceAddress,
        ],
      );
      if (records) {
        const input = await insertInline(clientOf(m), id, inputShape(plan.kind as 'compare', ds, plan.parameters), records, this.options.maxFields);
        Object.assign(job, await this.inputTaken(m, job, input));
      }
      if (job.status === 'queued') emit(jobEvent('job.submitted', job, actor, { requestId: ctx.requestId, sourceAddress: ctx.sourceAddress }, ctx.traceparent));
      return job;
    });
    if (row.ticket) await this.runner.enqueue(row.id, row.ticket);
    return viewJob(row);
  }

  /** Per-unit admission: a unit's jobs not yet ended are limited (taken under a lock, so two calls at once cannot both pass). */
  private async admit(m: EntityManager, unitId: string): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [unitId]);
    const [{ n }] = await m.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM job WHERE unit_id = $1 AND status IN ('awaiting-input', 'queued', 'running')`, [unitId]);
    if (n >= this.options.unitConcurrency)
      throw new TooManyRequestsError(`Your unit has ${n} jobs waiting or running, the most it may have at once; submit this one when one of them has ended.`, 30, {}, 'TOO_MANY_JOBS');
  }

  /** The job's input has arrived: its count, its columns (for the kinds whose fields the upload decides), queued with a ticket. */
  private async inputTaken(m: EntityManager, job: JobRow, input: { records: number; fields: string[] }): Promise<Partial<JobRow>> {
    const layout = job.kind === 'clean' || job.kind === 'normalize' ? RECORD_COLUMNS[job.kind] : null;
    const columns = layout ? [...layout.head, ...input.fields, ...layout.tail] : job.columns;
    const ticket = uuidv7();
    await m.query(`UPDATE job SET status = 'queued', total = $2, columns = $3::jsonb, ticket = $4, heartbeat_at = now(), updated_at = now() WHERE id = $1`, [
      job.id,
      input.records,
      JSON.stringify(columns),
      ticket,
    ]);
    return { status: 'queued', total: input.records, columns, ticket };
  }

  /** `PUT …/input`: the job's records, streamed into job_input in the transaction that queues the job. */
  async upload(p: Principal, id: string, format: BatchFormat, body: Readable, ctx: CallContext): Promise<JobView> {
    const own = await this.own(p, id);
    if (own.status !== 'awaiting-input') throw new ConflictError('INPUT_ALREADY_GIVEN', `The job is ${own.status}; its input was given already.`);
    const ds = this.datasets.served(own.resource_code);
    const row = await this.events.transaction(async (m, emit) => {
      const [job] = await m.query<JobRow[]>(`SELECT ${JOB_COLUMNS} FROM job WHERE id = $1 FOR UPDATE`, [id]);
      if (job.status !== 'awaiting-input') throw new ConflictError('INPUT_ALREADY_GIVEN', `The job is ${job.status}; its input was given already.`);
      const input = await ingestInput(clientOf(m), id, inputShape(job.kind as 'compare', ds, job.parameters), format, body, this.options);
      Object.assign(job, await this.inputTaken(m, job, input));
      emit(jobEvent('job.submitted', job, actorOf(p), { requestId: ctx.requestId, sourceAddress: ctx.sourceAddress }, ctx.traceparent));
      return job;
    });
    await this.runner.enqueue(row.id, row.ticket!);
    return viewJob(row);
  }

  private async row(id: string): Promise<JobRow | undefined> {
    if (!isUuidText(id)) return undefined;
    const { rows } = await this.pool.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM job WHERE id = $1`, [id]);
    return rows[0];
  }

  /** Its unit sees a job whole, the office its terms and progress; to anyone else there is none. */
  private async visible(p: Principal, id: string): Promise<JobRow> {
    const r = await this.row(id);
    if (!r || (r.unit_id !== p.unitId && !isOffice(p))) throw new NotFoundError('The job', 'JOB_NOT_FOUND');
    return r;
  }

  /** What only the job's unit may do (its input, result, cancel); the office is told so. */
  private async own(p: Principal, id: string): Promise<JobRow> {
    const r = await this.visible(p, id);
    if (r.unit_id !== p.unitId)
      throw new ForbiddenError('Only the unit that submitted a job may give its input, cancel it or read its result; the office sees its terms and progress.', 'NOT_JOB_OWNER');
    return r;
  }

  private async ownSucceeded(p: Principal, id: string, code: string): Promise<{ id: string; items: string[]; columns: string[] }> {
    const r = await this.row(id);
    if (!r || r.unit_id !== p.unitId || r.resource_code !== code) throw new NotFoundError('The source job', 'JOB_NOT_FOUND');
    if (r.status !== 'succeeded') throw new ConflictError('SOURCE_NOT_READY', `The source job is ${r.status}; only a succeeded job’s result can be converted.`, { field: 'body.parameters.fromJob' });
    return { id: r.id, items: r.items, columns: r.columns };
  }

  /** For the gateway's record of a call on a job: the other party (the job's unit for the office, the resource's provider for the unit). */
  async partyOf(p: Principal, id: string | undefined, resourceCode: string | undefined): Promise<string | undefined> {
    if (id === undefined) return resourceCode ? this.datasets.get(resourceCode)?.providerUnitId : undefined;
    const r = await this.row(id);
    if (!r) return undefined;
    return r.unit_id === p.unitId ? r.provider_unit_id : r.unit_id;
  }

  async get(p: Principal, id: string): Promise<JobView> {
    return viewJob(await this.visible(p, id));
  }

  async list(p: Principal, q: { limit?: number; cursor?: string; status?: JobStatus; kind?: JobKind; resourceCode?: string }) {
    const where: [string, unknown][] = [];
    if (!isOffice(p)) where.push(['unit_id = ?', p.unitId]);
    if (q.status) where.push(['status = ?', q.status]);
    if (q.kind) where.push(['kind = ?', q.kind]);
    if (q.resourceCode) where.push(['resource_code = ?', q.resourceCode]);
    return keysetPage(this.pool, { table: 'job', columns: JOB_COLUMNS, where, cursor: q.cursor, limit: q.limit ?? 50, view: viewJob });
  }

  async cancel(p: Principal, id: string, traceparent?: string): Promise<JobView> {
    await this.own(p, id);
    const row = await this.events.transaction(async (m, emit) => {
      // Waits for a chunk in progress to commit: the counts stay those of the chunks done.
      const [job] = await m.query<JobRow[]>(`SELECT ${JOB_COLUMNS} FROM job WHERE id = $1 FOR UPDATE`, [id]);
      if (!LIVE_STATUSES.includes(job.status)) throw new ConflictError('JOB_ENDED', `The job is ${job.status} already.`);
      await this.runner.end(m, emit, job, 'cancelled', null, actorOf(p), traceparent);
      return job;
    });
    return viewJob((await this.row(row.id))!);
  }

  /** The result, streamed from job_result in the format asked for. */
  async result(p: Principal, id: string, format: ResultFormat | undefined): Promise<{ job: JobView; format: ResultFormat; body: Readable }> {
    const r = await this.own(p, id);
    if (r.status === 'expired')
      throw new AppError(
        410,
        'RESULT_EXPIRED',
        'Gone',
        r.error ? `The job’s result is gone (${r.error})` : `The job’s result was deleted when its retention ended${r.expires_at ? ` (${r.expires_at.toISOString()})` : ''}.`,
      );
    if (r.status !== 'succeeded') throw new ConflictError('RESULT_NOT_READY', `The job is ${r.status}; a result is there once it has succeeded.`);
    const chosen = format ?? r.result_format;
    return { job: viewJob(r), format: chosen, body: resultStream(this.pool, r.id, r.columns, chosen) };
  }

  /** Progress as Server-Sent Events: a `progress` event whenever it changes, then `end` with the final state. */
  async progress(p: Principal, id: string, signal: AbortSignal): Promise<AsyncGenerator<string>> {
    await this.visible(p, id);
    const poll = this.options.eventsPollMs;
    const read = (jobId: string) => this.row(jobId);
    return (async function* () {
      let last = '';
      let quiet = 0;
      yield `retry: ${Math.max(poll, 1000)}\n\n`;
      while (!signal.aborted) {
        const r = await read(id);
        if (!r) return;
        const view = viewJob(r);
        const text = JSON.stringify({ status: view.status, progress: view.progress, counts: view.counts, error: view.error });
        const ended = !LIVE_STATUSES.includes(r.status);
        if (text !== last) {
          last = text;
          quiet = 0;
          yield `event: ${ended ? 'end' : 'progress'}\nid: ${r.done}\ndata: ${ended ? JSON.stringify(view) : text}\n\n`;
        } else if (++quiet * poll >= 15_000) {
          quiet = 0;
          yield ': keep-alive\n\n';
        }
        if (ended) return;
        await new Promise((res) => setTimeout(res, poll));
      }
    })();
  }
}
