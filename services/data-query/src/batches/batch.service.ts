import { actorOf, hasRole, hasScope, type Principal } from '@gdx/auth';
import { AppError, BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '@gdx/errors';
import { type EventPublisher } from '@gdx/events';
import { createEvent } from '@gdx/contracts';
import type { DatasetRegistry, DatasetRuntime } from '../datasets/dataset-registry';
import { BatchFormatError, readRecords, RecordParseError, type BatchFormat } from './record-readers';
import { RowValidator, type RowError } from './row-validator';
import { RowWriter } from './row-writer';

export interface BatchOptions {
  chunkRows: number;
  maxErrors: number;
  maxRecordChars: number;
}

export interface BatchResult {
  resourceCode: string;
  changeSeq: number;
  rows: number;
  upserted: number;
  deleted: number;
  unmatchedDeletes: number;
  lastUpdatedAt: string;
}

/** A batch with invalid rows: nothing of it was written. The report lists up to `maxErrors` rows and counts all. */
export class BatchRejectedError extends AppError {
  constructor(rows: number, errorCount: number, errors: RowError[]) {
    super(422, 'BATCH_REJECTED', 'Batch rejected', `${errorCount} problem(s) in ${rows} record(s); nothing was written. Correct the rows listed and submit the whole batch again.`, {
      rows,
      errorCount,
      truncated: errorCount > errors.length,
      errors,
    });
  }
}

/**
 * Provider submissions. A batch is applied whole or not at all: it streams
 * through validation and chunked writes inside one transaction, and any invalid
 * row makes the transaction roll back after the rest of the body was still
 * checked, so the provider gets every problem in one report.
 */
export class BatchService {
  constructor(
    private readonly registry: DatasetRegistry,
    private readonly events: EventPublisher,
    private readonly options: BatchOptions,
  ) {}

  /** The dataset a provider may submit to, or the reason it may not. */
  async target(principal: Principal, code: string): Promise<DatasetRuntime> {
    // A dataset created by another replica moments ago may not have reached this one's cache yet.
    let ds = this.registry.get(code);
    if (!ds) {
      await this.registry.reload(code);
      ds = this.registry.get(code);
    }
    if (!ds) throw new NotFoundError('The resource', 'RESOURCE_NOT_FOUND');
    if (principal.unitId !== ds.providerUnitId) throw new ForbiddenError('Only the providing unit submits data for this resource.', 'NOT_PROVIDER');
    // §2: staff of the providing unit, or its business system once its unit admin gave it the scope data:submit.
    if (!hasRole(principal, 'unit_admin', 'unit_operator') && !hasScope(principal, 'data:submit')) {
      throw new ForbiddenError('Submitting data needs the role unit_admin or unit_operator, or a client given the scope data:submit.', 'ROLE_REQUIRED');
    }
    if (ds.status !== 'published') throw new ConflictError('RESOURCE_DEPRECATED', 'The resource is deprecated and takes no more data.');
    return ds;
  }

  async submit(principal: Principal, ds: DatasetRuntime, format: BatchFormat, body: AsyncIterable<Buffer | string>, traceparent?: string): Promise<BatchResult> {
    const validator = new RowValidator(ds.items, ds.upsertKey);
    const errors: RowError[] = [];
    let errorCount = 0;
    const report = (e: RowError) => {
      if (errors.length < this.options.maxErrors) errors.push(e);
      errorCount++;
    };
    try {
      return await this.events.transaction(async (m, emit) => {
        // Taking the next sequence first locks the dataset row: batches of one resource
        // commit in sequence order, which incremental pulls by sequence rely on.
        const [seqRows] = await m.query<[{ change_seq: string; last_updated_at: Date }[], number]>(
          `UPDATE dataset SET change_seq = change_seq + 1, last_updated_at = now(), updated_at = now() WHERE id = $1 AND status = 'published' RETURNING change_seq, last_updated_at`,
          [ds.id],
        );
        if (!seqRows.length) throw new ConflictError('RESOURCE_DEPRECATED', 'The resource is deprecated and takes no more data.');
        const { change_seq: changeSeq, last_updated_at: lastUpdatedAt } = seqRows[0];
        const writer = new RowWriter(m, ds, changeSeq, this.options.chunkRows);
        let rows = 0;
        for await (const records of readRecords(format, body, this.options.maxRecordChars)) {
          for (const record of records) {
            rows++;
            if (record instanceof RecordParseError) {
              report({ row: rows, item: null, reason: record.reason });
              continue;
            }
            const valid = validator.validate(record, rows, report);
            // After the first problem nothing more is written (it will be rolled back), but every row is still checked.
            if (valid && !errorCount) await writer.add(valid);
          }
        }
        if (errorCount) throw new BatchRejectedError(rows, errorCount, errors);
        if (!rows) throw new BadRequestError('EMPTY_BATCH', 'The batch holds no records.');
        await writer.flush();
        const result: BatchResult = {
          resourceCode: ds.code,
          changeSeq: Number(changeSeq),
          rows,
          upserted: writer.upserted,
          deleted: writer.deleted,
          unmatchedDeletes: writer.unmatchedDeletes,
          lastUpdatedAt: lastUpdatedAt.toISOString(),
        };
        emit(
          createEvent('data.updated', {
            actor: actorOf(principal),
            subject: ds.code,
            data: { ...result, providerUnitId: ds.providerUnitId, inserted: writer.inserted, revived: writer.revived },
            traceparent,
          }),
        );
        return result;
      });
    } catch (err) {
      if (err instanceof BatchFormatError) throw new BadRequestError('MALFORMED_BATCH', `${err.message} Nothing was written.`);
      throw err;
    }
  }
}
