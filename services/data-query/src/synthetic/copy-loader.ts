import { createReadStream } from 'node:fs';
import type { Client, PoolClient } from 'pg';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { q, SYS } from '../datasets/resource-model';
import { readRecords } from '../batches/record-readers';
import type { BoundValue } from '../datasets/item-values';
import { RowValidator } from '../batches/row-validator';

interface PgConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

/**
 * COPY … FROM STDIN as a pg "submittable" (the protocol pg itself speaks for
 * COPY), so no extra package is needed: pg calls submit(), the server answers
 * CopyInResponse, and we stream the rows in with back-pressure.
 */
class CopyIn {
  private resolve!: (rows: number) => void;
  private reject!: (err: Error) => void;
  readonly done = new Promise<number>((res, rej) => {
    this.resolve = res;
    this.reject = rej;
  });
  private rowCount = 0;
  private error?: Error;

  constructor(
    private readonly text: string,
    private readonly source: AsyncIterable<Buffer>,
  ) {}

  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    void (async () => {
      try {
        for await (const chunk of this.source) {
          connection.sendCopyFromChunk(chunk);
          if (connection.stream.writableNeedDrain) await new Promise((r) => connection.stream.once('drain', r));
        }
        connection.endCopyFrom();
      } catch (err) {
        this.error = err as Error;
        connection.sendCopyFail(String((err as Error).message ?? err));
      }
    })();
  }

  handleCommandComplete(msg: { text?: string }): void {
    this.rowCount = Number(/(\d+)$/.exec(msg.text ?? '')?.[1] ?? 0);
  }

  handleReadyForQuery(): void {
    if (this.error) this.reject(this.error);
    else this.resolve(this.rowCount);
  }

  handleError(err: Error): void {
    this.error ??= err;
  }

  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCopyData(): void {}
  handlePortalSuspended(): void {}
}

function copyText(v: BoundValue): string {
  if (v === null) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  return /[\\\t\n\r]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : v;
}

/**
 * Loads an NDJSON file of valid rows straight into a dataset's (empty) table with
 * COPY: the benchmark and bulk-initialisation path. Every row still passes the
 * same validator as a batch; the first invalid row aborts the load. The rows get
 * one new change sequence and the dataset's last update moves, as for a batch.
 */
export async function copyNdjsonIntoDataset(client: Client | PoolClient, ds: DatasetRuntime, file: string): Promise<number> {
  const validator = new RowValidator(ds.items, ds.upsertKey);
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ change_seq: string }>(
      `UPDATE data_query.dataset SET change_seq = change_seq + 1, last_updated_at = now(), updated_at = now() WHERE id = $1 RETURNING change_seq`,
      [ds.id],
    );
    const seq = rows[0].change_seq;
    async function* encoded(): AsyncGenerator<Buffer> {
      let n = 0;
      for await (const records of readRecords('ndjson', createReadStream(file), 1_048_576)) {
        const lines: string[] = [];
        for (const record of records) {
          n++;
          const valid = validator.validate(record, n, (e) => {
            throw new Error(`row ${e.row}: ${e.item ?? 'record'} ${e.reason}`);
          });
          if (valid?.op === 'upsert') lines.push(`${valid.values.map(copyText).join('\t')}\t${seq}`);
        }
        if (lines.length) yield Buffer.from(`${lines.join('\n')}\n`);
      }
    }
    const columns = [...ds.items.map((i) => q(ds.columnByKey.get(i.key)!)), q(SYS.changeSeq)].join(', ');
    const copy = new CopyIn(`COPY ${ds.table} (${columns}) FROM STDIN`, encoded());
    client.query(copy as never);
    const count = await copy.done;
    await client.query('COMMIT');
    await client.query(`ANALYZE ${ds.table}`);
    return count;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
