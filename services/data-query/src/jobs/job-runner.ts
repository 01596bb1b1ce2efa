import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { decideGrant, type Actor, type DeclaredEvent } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import type { EventPublisher, WorkQueue } from '@gdx/events';
import type { FastifyBaseLogger } from 'fastify';
import type { EntityManager } from 'typeorm';
import type { DatasetRegistry, DatasetRuntime } from '../datasets/dataset-registry';
import type { GrantCache, GrantEntry } from '../grants/grant-cache';
import type { QueryPlanner } from '../query/query-planner';
import type { CleanRule, CodeTable } from './job-plan';
import { cleanRecord, normalizeRecord, type InputRecord, type RecordResult } from './job-records';
import { jobEvent, JOB_COLUMNS, type JobRow } from './job-row';
import { compareChunkSql, RESULT_BLOCK, sliceChunkSql } from './job-sql';
import { resultLines } from './result-copy';
import { clientOf } from './job-input';
import type { JobCondition } from './job.schemas';

export interface JobRunnerOptions {
  chunkRecords: number;
  resultTtlMs: number;
  /** A queued or running job without progress for this long gets a new ticket (its worker died, or Redis lost the ticket). */
  stallMs: number;
  sweepMs: number;
  /** Chunks failing in a row before the job fails. */
  maxFailures: number;
}

const SYSTEM: Actor = { kind: 'system' };

interface Step {
  processed: number;
  outcomes: Record<string, number>;
  results: number;
  checkpoint: number;
  sliceAfter: string | null;
  finished: boolean;
  total?: number;
}

class JobStop extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * Works customization jobs one chunk per work ticket. A chunk (reading its records, writing
 * their result lines, counting them, moving the checkpoint, handing on the next ticket) is one
 * transaction under the job row's lock, so a worker killed at any moment leaves the job exactly
 * at its last committed chunk, and whoever takes the ticket over goes on from there with exact
 * counts. Each job has one live ticket at a time, queued behind every other job's: jobs take
 * turns chunk by chunk, so a big job never holds up a small one by more than one chunk.
 */
export class JobRunner {
  private sweeper?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly pool: Pool,
    private readonly datasets: DatasetRegistry,
    private readonly grants: GrantCache,
    private readonly planner: QueryPlanner,
    private readonly events: EventPublisher,
    private readonly queue: WorkQueue,
    private readonly options: JobRunnerOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    this.queue.start();
    this.sweeper = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((err: unknown) => this.log.warn({ err }, 'the job sweep failed; it runs again shortly'))
        .finally(() => (this.sweeping = undefined));
    }, this.options.sweepMs);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    await this.queue.stop();
    await this.sweeping;
  }

  /** Hands a job's ticket to the workers; when Redis is away, the sweep hands out a new one later. */
  async enqueue(jobId: string, ticket: string): Promise<void> {
    await this.queue.push({ job: jobId, ticket }).catch((err: unknown) => this.log.warn({ err, jobId }, 'a job ticket could not be queued; the sweep queues it again'));
  }

  /** One ticket: one chunk of its job, or nothing when the ticket is stale (the job moved on, ended or was taken over). */
  async work({ job: id, ticket }: Record<string, string>): Promise<void> {
    let next: string | null = null;
    try {
      next = await this.events.transaction(async (m, emit) => {
        const [job] = await m.query<JobRow[]>(`SELECT ${JOB_COLUMNS} FROM job WHERE id = $1 FOR UPDATE`, [id]);
        if (!job || job.ticket !== ticket || (job.status !== 'queued' && job.status !== 'running')) return null;
        try {
          return await this.step(m, emit, job);
        } catch (err) {
          if (!(err instanceof JobStop)) throw err;
          await this.end(m, emit, job, 'failed', `${err.code}: ${err.detail}`);
          return null;
        }
      });
    } catch (err) {
      await this.failedChunk(id, ticket, err);
      throw err;
    }
    if (next) await this.enqueue(id, next);
  }

  private async step(m: EntityManager, emit: (e: DeclaredEvent) => void, job: JobRow): Promise<string | null> {
    const ds = this.datasets.get(job.resource_code);
    if (!ds || ds.status !== 'published') throw new JobStop('RESOURCE_DEPRECATED', 'The resource is no longer served.');
    // The grant decided again for every chunk: suspended, revoked or expired since, the job stops here.
    const decision = decideGrant(this.grants.forCaller(job.unit_id, job.resource_code), 'customization', job.items.length ? job.items : undefined, Date.now());
    if (!decision.ok) throw new JobStop(decision.code, decision.detail);
    if (job.status === 'queued') {
      await m.query(`UPDATE job SET status = 'running', started_at = now() WHERE id = $1`, [job.id]);
      job.status = 'running';
      job.started_at = new Date();
      emit(jobEvent('job.started', job, SYSTEM, {}));
    }
    // A chunk is one big set-based statement: compiling it to machine code (JIT) costs more than it saves,
    // and its hash join of a chunk's records wants them in memory rather than in batches on disk.
    await m.query("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'");
    const step = await this.chunk(m, job, ds, decision.grant);
    const counts = { ...job.counts };
    for (const [k, n] of Object.entries(step.outcomes)) counts[k] = (counts[k] ?? 0) + n;
    Object.assign(job, {
      done: job.done + step.processed,
      counts,
      result_records: job.result_records + step.results,
      checkpoint: step.checkpoint,
      slice_after: step.sliceAfter,
      total: step.total ?? job.total,
    });
    if (step.finished) {
      job.total = job.done;
      job.result_sha256 = await this.resultHash(m, job.id);
      await this.end(m, emit, job, 'succeeded', null);
      return null;
    }
    const ticket = uuidv7();
    await m.query(
      `UPDATE job SET done = $2, counts = $3::jsonb, result_records = $4, checkpoint = $5, slice_after = $6, total = $7, ticket = $8, heartbeat_at = now(), failures = 0, updated_at = now() WHERE id = $1`,
      [job.id, job.done, JSON.stringify(counts), job.result_records, job.checkpoint, job.slice_after, job.total, ticket],
    );
    return ticket;
  }

  private async chunk(m: EntityManager, job: JobRow, ds: DatasetRuntime, grant: GrantEntry): Promise<Step> {
    const size = this.options.chunkRecords;
    const p = job.parameters;
    if (job.source === 'upload') {
      const total = job.total ?? 0;
      // Records worked in JavaScript (clean, normalize) are held in memory a chunk at a time: smaller chunks for them.
      const upTo = Math.min(job.checkpoint + (job.kind === 'compare' ? size : Math.min(size, 5_000)), total);
      let outcomes: Record<string, number>;
      if (job.kind === 'compare') {
        // Many records: one pass over the resource hashing them beats a probe of its key index per record (a few
        // microseconds each, cold pages), and the planner, without statistics of a job's records just copied in, cannot tell.
        if (upTo - job.checkpoint > 10_000) await m.query('SET LOCAL enable_nestloop = off');
        const sql = compareChunkSql({ ds, grant, items: p.items as string[], normalize: p.normalize as string[] }, this.planner);
        const rows = await m.query<{ outcome: string; n: number }[]>(sql.text, [job.id, job.checkpoint, upTo, ...sql.values]);
        outcomes = Object.fromEntries(rows.map((r) => [r.outcome, r.n]));
      } else {
        const records = await m.query<InputRecord[]>('SELECT seq, problem, record FROM job_input WHERE job_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq', [job.id, job.checkpoint, upTo]);
        const results: RecordResult[] =
          job.kind === 'clean' ? records.map((r) => cleanRecord(ds, p.rules as Record<string, CleanRule>, r)) : records.map((r) => normalizeRecord(p.fields as Record<string, CodeTable>, r));
        await m.query(
          `INSERT INTO job_result (job_id, seq, lines, block)
           SELECT $1, min(s), count(*), string_agg(l, E'\\n' ORDER BY s) FROM unnest($2::int[], $3::text[]) AS x(s, l) GROUP BY (s - $4 - 1) / ${RESULT_BLOCK}`,
          [job.id, records.map((r) => r.seq), results.map((r) => r.line), job.checkpoint],
        );
        outcomes = {};
        for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      }
      return { processed: upTo - job.checkpoint, outcomes, results: upTo - job.checkpoint, checkpoint: upTo, sliceAfter: null, finished: upTo >= total };
    }
    if (job.source === 'job') {
      const [src] = await m.query<{ status: string; result_records: number }[]>('SELECT status, result_records FROM job WHERE id = $1', [job.source_job_id]);
      if (src?.status !== 'succeeded') throw new JobStop('SOURCE_GONE', 'The job whose result this converts no longer has one.');
      const upTo = Math.min(job.checkpoint + size, src.result_records);
      const [{ n }] = await m.query<{ n: number }[]>(
        // The source's blocks whose first line falls in this chunk's range, whole: none is copied twice.
        'WITH copied AS (INSERT INTO job_result (job_id, seq, lines, block) SELECT $1, seq, lines, block FROM job_result WHERE job_id = $2 AND seq > $3 AND seq <= $4 RETURNING lines) SELECT COALESCE(sum(lines), 0)::int AS n FROM copied',
        [job.id, job.source_job_id, job.checkpoint, upTo],
      );
      return { processed: n, outcomes: { records: n }, results: n, checkpoint: upTo, sliceAfter: null, finished: upTo >= src.result_records, total: src.result_records };
    }
    // The granted slice (filter, convert): the next rows in key order after the last one written.
    const sql = sliceChunkSql({ ds, grant, items: p.items as string[], conditions: (p.conditions as JobCondition[] | undefined) ?? [] }, this.planner);
    let total: number | undefined;
    if (job.total === null) [{ n: total }] = await m.query<{ n: number }[]>(sql.count.text, sql.count.values);
    const [{ n, last }] = await m.query<{ n: number; last: string | null }[]>(sql.text, [job.id, job.result_records, size, job.slice_after, ...sql.values]);
    return { processed: n, outcomes: { records: n }, results: n, checkpoint: job.checkpoint + n, sliceAfter: last ?? job.slice_after, finished: n < size, total };
  }

  /** SHA-256 of the result exactly as `GET …/result` serves it as NDJSON (each line and its line end), in the chunk's transaction. */
  private async resultHash(m: EntityManager, jobId: string): Promise<string> {
    const hash = createHash('sha256');
    for await (const lines of resultLines(clientOf(m), jobId)) hash.update(lines);
    return hash.digest('hex');
  }

  /** Ends a job: its state, its figures and its event, in the transaction that decided it. */
  async end(
    m: EntityManager,
    emit: (e: DeclaredEvent) => void,
    job: JobRow,
    status: 'succeeded' | 'failed' | 'cancelled',
    error: string | null,
    actor: Actor = SYSTEM,
    traceparent?: string,
  ): Promise<void> {
    const expires = status === 'succeeded' ? new Date(Date.now() + this.options.resultTtlMs) : null;
    await m.query(
      `UPDATE job SET status = $2, error = $3, done = $4, counts = $5::jsonb, result_records = $6, result_sha256 = $7, total = $8, checkpoint = $9, ticket = NULL, finished_at = now(), expires_at = $10, updated_at = now() WHERE id = $1`,
      [job.id, status, error, job.done, JSON.stringify(job.counts), job.result_records, status === 'succeeded' ? job.result_sha256 : null, job.total, job.checkpoint, expires],
    );
    job.status = status;
    emit(
      jobEvent(
        'job.finished',
        job,
        actor,
        { counts: job.counts, rowCount: status === 'succeeded' ? job.result_records : 0, resultSha256: status === 'succeeded' ? job.result_sha256 : null, ...(error ? { error } : {}) },
        traceparent,
      ),
    );
  }

  /** A chunk that failed (PostgreSQL away, a bug): counted; after a few in a row the job fails instead of retrying forever. */
  private async failedChunk(id: string, ticket: string, err: unknown): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ failures: number }>('UPDATE job SET failures = failures + 1 WHERE id = $1 AND ticket = $2 RETURNING failures', [id, ticket]);
      if ((rows[0]?.failures ?? 0) < this.options.maxFailures) return;
      this.log.error({ err, jobId: id }, 'a job failed: its chunks keep failing');
      await this.events.transaction(async (m, emit) => {
        const [job] = await m.query<JobRow[]>(`SELECT ${JOB_COLUMNS} FROM job WHERE id = $1 AND ticket = $2 FOR UPDATE`, [id, ticket]);
        if (job) await this.end(m, emit, job, 'failed', 'INTERNAL: the job could not be completed.');
      });
    } catch {
      // PostgreSQL itself is away: the ticket stays pending and is tried again.
    }
  }

  /**
   * After a crash (or on a promoted standby) PostgreSQL has emptied the unlogged job tables, and
   * the marker row with them: the jobs that had data there end (queued and running ones failed,
   * succeeded ones expired) rather than resume on nothing or serve a partial result.
   */
  private async storageCheck(): Promise<void> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM job_storage');
    if (rowCount) return;
    const lost = 'STORAGE_LOST: PostgreSQL lost the job’s working data (a crash or a failover); submit the job again.';
    const ended = await this.events.transaction(async (m, emit) => {
      // One replica does it: the others wait for the lock and then find the marker back.
      await m.query('LOCK TABLE job_storage IN EXCLUSIVE MODE');
      const [{ n }] = await m.query<{ n: number }[]>('SELECT count(*)::int AS n FROM job_storage');
      if (n) return 0;
      const jobs = await m.query<JobRow[]>(`SELECT ${JOB_COLUMNS} FROM job WHERE status IN ('queued', 'running', 'succeeded') FOR UPDATE`);
      for (const job of jobs) {
        if (job.status === 'succeeded') {
          await m.query(`UPDATE job SET status = 'expired', error = $2, updated_at = now() WHERE id = $1`, [job.id, lost]);
          job.status = 'expired';
          emit(jobEvent('job.expired', job, SYSTEM, {}));
        } else await this.end(m, emit, job, 'failed', lost);
      }
      await m.query('INSERT INTO job_storage VALUES (true)');
      return jobs.length;
    });
    if (ended) this.log.error({ jobs: ended }, 'the unlogged job tables were emptied (a crash or a failover): their jobs ended with STORAGE_LOST');
  }

  /** Housekeeping on every replica (each row taken by one): stalled jobs queued again, results past their time deleted, inputs of ended jobs dropped. */
  async sweep(): Promise<void> {
    await this.storageCheck();
    const { rows: stalled } = await this.pool.query<{ id: string; ticket: string }>(
      `UPDATE job SET ticket = gen_random_uuid(), heartbeat_at = now() WHERE status IN ('queued', 'running') AND heartbeat_at < now() - make_interval(secs => $1) RETURNING id, ticket::text`,
      [this.options.stallMs / 1000],
    );
    for (const s of stalled) await this.enqueue(s.id, s.ticket);
    // A job whose input never came holds a place of its unit's: given up on after the result's retention.
    await this.events.transaction(async (m, emit) => {
      const abandoned = await m.query<JobRow[]>(`SELECT ${JOB_COLUMNS} FROM job WHERE status = 'awaiting-input' AND created_at <= now() - make_interval(secs => $1) LIMIT 50 FOR UPDATE SKIP LOCKED`, [
        this.options.resultTtlMs / 1000,
      ]);
      for (const job of abandoned) await this.end(m, emit, job, 'cancelled', 'INPUT_NEVER_GIVEN: the job’s input did not arrive within its retention time.');
    });
    for (;;) {
      const expired = await this.events.transaction(async (m, emit) => {
        const rows = await m.query<JobRow[]>(`SELECT ${JOB_COLUMNS} FROM job WHERE status = 'succeeded' AND expires_at <= now() ORDER BY expires_at LIMIT 10 FOR UPDATE SKIP LOCKED`);
        for (const job of rows) {
          await m.query('DELETE FROM job_result WHERE job_id = $1', [job.id]);
          await m.query('DELETE FROM job_input WHERE job_id = $1', [job.id]);
          await m.query(`UPDATE job SET status = 'expired', updated_at = now() WHERE id = $1`, [job.id]);
          job.status = 'expired';
          emit(jobEvent('job.expired', job, SYSTEM, {}));
        }
        return rows.length;
      });
      if (expired < 10) break;
    }
    // What an ended job no longer needs: its input once it ended, its result unless it succeeded.
    const { rows: ended } = await this.pool.query<{ id: string; status: string }>(
      `SELECT j.id, j.status FROM job j WHERE j.status IN ('succeeded', 'failed', 'cancelled') AND j.finished_at > now() - interval '30 days'
         AND (EXISTS (SELECT 1 FROM job_input i WHERE i.job_id = j.id) OR (j.status <> 'succeeded' AND EXISTS (SELECT 1 FROM job_result r WHERE r.job_id = j.id))) LIMIT 20`,
    );
    for (const e of ended) {
      await this.pool.query('DELETE FROM job_input WHERE job_id = $1', [e.id]);
      if (e.status !== 'succeeded') await this.pool.query('DELETE FROM job_result WHERE job_id = $1', [e.id]);
    }
  }
}
