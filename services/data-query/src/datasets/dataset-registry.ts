import type { Pool } from 'pg';
import { AppError, NotFoundError } from '@gdx/errors';
import type { DatasetStatus } from '../entities/dataset.entity';
import type { ItemView } from '@gdx/contracts';
import { columnOf, q, qualified } from './resource-model';

/** A dataset as the hot paths use it: columns resolved once, statements cached per shape. */
export interface DatasetRuntime {
  id: string;
  code: string;
  name: string;
  tableName: string;
  /** `"data_query_rows"."r_101001_0001"` */
  table: string;
  providerUnitId: string;
  items: ItemView[];
  itemsByKey: Map<string, ItemView>;
  columnByKey: Map<string, string>;
  upsertKey: string;
  /** Position of each item (and of the row key) in the rows a statement returns. */
  indexByKey: Map<string, number>;
  keyIndex: number;
  /** `"id_number", "name", …`: every item column, in item order. */
  selectList: string;
  status: DatasetStatus;
  version: number;
  /** Named prepared statements by query shape; dropped with the runtime when the dataset changes. */
  statements: Map<string, { name: string; text: string }>;
}

interface DatasetRow {
  id: string;
  code: string;
  name: string;
  table_name: string;
  provider_unit_id: string;
  items: ItemView[];
  upsert_key: string;
  status: DatasetStatus;
  version: number;
}

const SELECT = 'SELECT id, code, name, table_name, provider_unit_id, items, upsert_key, status, version FROM dataset';

function runtimeOf(r: DatasetRow): DatasetRuntime {
  return {
    id: r.id,
    code: r.code,
    name: r.name,
    tableName: r.table_name,
    table: qualified(r.table_name),
    providerUnitId: r.provider_unit_id,
    items: r.items,
    itemsByKey: new Map(r.items.map((i) => [i.key, i])),
    columnByKey: new Map(r.items.map((i) => [i.key, columnOf(i.key)])),
    upsertKey: r.upsert_key,
    indexByKey: new Map(r.items.map((i, n) => [i.key, n])),
    keyIndex: r.items.findIndex((i) => i.key === r.upsert_key),
    selectList: r.items.map((i) => q(columnOf(i.key))).join(', '),
    status: r.status,
    version: r.version,
    statements: new Map(),
  };
}

/**
 * Every replica's in-memory view of the datasets, so a query does not read the
 * dataset table. Reloaded per code on change notifications and in full now and then.
 */
export class DatasetRegistry {
  private byCode = new Map<string, DatasetRuntime>();

  constructor(private readonly pool: Pool) {}

  get(code: string): DatasetRuntime | undefined {
    return this.byCode.get(code);
  }

  /** The published dataset a mode serves, or why there is none: 404 unknown, 410 deprecated. */
  served(code: string): DatasetRuntime {
    const ds = this.byCode.get(code);
    if (!ds) throw new NotFoundError('The resource', 'RESOURCE_NOT_FOUND');
    if (ds.status !== 'published') throw new AppError(410, 'RESOURCE_DEPRECATED', 'Gone', 'The resource is deprecated and no longer served.');
    return ds;
  }

  async loadAll(): Promise<void> {
    const { rows } = await this.pool.query<DatasetRow>(SELECT);
    const next = new Map<string, DatasetRuntime>();
    for (const r of rows) {
      const old = this.byCode.get(r.code);
      // Keep the runtime (and its prepared statements) of a dataset that did not change.
      next.set(r.code, old && old.version === r.version && old.status === r.status ? old : runtimeOf(r));
    }
    this.byCode = next;
  }

  async reload(code: string): Promise<void> {
    const { rows } = await this.pool.query<DatasetRow>(`${SELECT} WHERE code = $1`, [code]);
    if (rows[0]) this.byCode.set(code, runtimeOf(rows[0]));
    else this.byCode.delete(code);
  }
}

/**
 * The resource's change sequence as committed now. Batches take their sequence under the dataset
 * row's lock and commit in sequence order, so no later commit adds a row at or below it: a pull or
 * a delivery bounded by it misses nothing when the next one starts there.
 */
export async function committedSeq(db: Pick<Pool, 'query'>, datasetId: string): Promise<string> {
  const { rows } = await db.query<{ change_seq: string }>('SELECT change_seq::text AS change_seq FROM dataset WHERE id = $1', [datasetId]);
  return rows[0]?.change_seq ?? '0';
}
