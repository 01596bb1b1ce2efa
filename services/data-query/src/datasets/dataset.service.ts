import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EventLogger } from '@gdx/events';
import type { ItemView, ResourceView } from '@gdx/contracts';
import { Dataset } from '../entities/dataset.entity';
import { CHANGES_CHANNEL } from '../shared/change-listener';
import { checkResource, columnOf, q, qualified, ROWS_SCHEMA, sqlTypeOf, SYS, tableNameOf, upsertKeyOf } from './resource-model';

interface ColumnInfo {
  column_name: string;
  data_type: string;
  character_maximum_length: number | null;
}

/** information_schema's name of each type we create, to see whether a column already has it. */
function sameType(col: ColumnInfo, item: ItemView): boolean {
  const want = sqlTypeOf(item);
  const varchar = /^varchar\((\d+)\)$/.exec(want);
  if (varchar) return col.data_type === 'character varying' && col.character_maximum_length === Number(varchar[1]);
  return col.data_type === ({ text: 'text', date: 'date', timestamptz: 'timestamp with time zone', bigint: 'bigint', numeric: 'numeric', boolean: 'boolean' } as Record<string, string>)[want];
}

/** Index names stay within PostgreSQL's 63 characters whatever the table and column. */
function indexName(table: string, suffix: string): string {
  const name = `${table}_${suffix}`;
  return name.length <= 63 ? name : `${table.slice(0, 40)}_${createHash('sha1').update(name).digest('hex').slice(0, 16)}`;
}

/** The events that change what data-query stores of a resource; each carries the whole resource. */
export const RESOURCE_EVENTS = ['resource.published', 'resource.updated', 'resource.deprecated'] as const;

/**
 * Turns `resource.*` events into storage: a typed table per published resource,
 * evolved as the catalogue adds items. Columns are added, widened or converted,
 * never dropped: an item the catalogue removes keeps its data, it is just no
 * longer served.
 */
export class DatasetService {
  constructor(private readonly logger: EventLogger) {}

  /**
   * A published or updated resource (`resource.published`, `resource.updated`), in
   * the consumer's transaction: its table created or evolved and its dataset record
   * written. Returns the code it changed, if any.
   */
  async store(m: EntityManager, view: ResourceView): Promise<string | undefined> {
    if (view.status === 'deprecated') return this.deprecate(m, view);
    if (view.status !== 'published') return undefined; // drafts have no storage
    checkResource(view);
    const repo = m.getRepository(Dataset);
    const existing = await repo.findOne({ where: { code: view.code }, lock: { mode: 'pessimistic_write' } });
    if (existing && existing.version >= view.version) return undefined; // an older or repeated version
    const table = existing?.tableName ?? tableNameOf(view.code);
    const upsertKey = existing?.upsertKey ?? upsertKeyOf(view.items);
    if (!view.items.some((i) => i.key === upsertKey)) throw new Error(`resource ${view.code} no longer has its row key ${upsertKey}; refusing the change`);
    await this.ensureTable(m, table, view.items, upsertKey);
    const dataset = existing ?? repo.create({ code: view.code, tableName: table, upsertKey, changeSeq: '0', lastUpdatedAt: null });
    Object.assign(dataset, { name: view.name, providerUnitId: view.providerUnitId, items: view.items, status: 'published', version: view.version });
    await repo.save(dataset);
    await m.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, `dataset:${view.code}`]);
    return view.code;
  }

  /** A deprecated resource (`resource.deprecated`): no new batches or queries; returns the code it changed, if any. */
  async deprecate(m: EntityManager, view: ResourceView): Promise<string | undefined> {
    const repo = m.getRepository(Dataset);
    const existing = await repo.findOne({ where: { code: view.code }, lock: { mode: 'pessimistic_write' } });
    if (!existing || existing.status === 'deprecated' || view.version < existing.version) return undefined;
    // The rows stay: deprecation stops new batches and queries, it deletes nothing.
    existing.status = 'deprecated';
    existing.version = view.version;
    await repo.save(existing);
    await m.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, `dataset:${view.code}`]);
    return view.code;
  }

  private async ensureTable(m: EntityManager, table: string, items: ItemView[], upsertKey: string): Promise<void> {
    const t = qualified(table);
    const cols = items.map((i) => `${q(columnOf(i.key))} ${sqlTypeOf(i)}`);
    // Required items are not NOT NULL in the table: the validator enforces them, and an
    // item made required later must not fail on rows submitted before.
    await m.query(
      `CREATE TABLE IF NOT EXISTS ${t} (${[...cols, `${q(SYS.changeSeq)} bigint NOT NULL`, `${q(SYS.updatedAt)} timestamptz NOT NULL DEFAULT now()`, `${q(SYS.deletedAt)} timestamptz`].join(', ')})`,
    );
    const existing: ColumnInfo[] = await m.query('SELECT column_name, data_type, character_maximum_length FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [
      ROWS_SCHEMA,
      table,
    ]);
    const byName = new Map(existing.map((c) => [c.column_name, c]));
    for (const item of items) {
      const col = columnOf(item.key);
      const info = byName.get(col);
      if (!info) await m.query(`ALTER TABLE ${t} ADD COLUMN ${q(col)} ${sqlTypeOf(item)}`);
      else if (!sameType(info, item)) await this.changeType(m, t, col, info, item);
    }
    const keyCol = columnOf(upsertKey);
    await m.query(`CREATE UNIQUE INDEX IF NOT EXISTS ${q(indexName(table, 'key'))} ON ${t} (${q(keyCol)})`);
    // Other query keys get (key, row key) so a filtered query pages in index order without a sort.
    for (const item of items.filter((i) => i.queryKey && i.key !== upsertKey)) {
      const col = columnOf(item.key);
      await m.query(`CREATE INDEX IF NOT EXISTS ${q(indexName(table, `q_${col}`))} ON ${t} (${q(col)}, ${q(keyCol)})`);
    }
    await m.query(`CREATE INDEX IF NOT EXISTS ${q(indexName(table, 'seq'))} ON ${t} (${q(SYS.changeSeq)})`);
  }

  /**
   * A changed item type: a longer varchar or any other cast that the stored values
   * survive is applied; a shorter length keeps the wider column (the validator
   * enforces the new length); a cast the data does not survive is refused and
   * logged, keeping the column and its data as they are.
   */
  private async changeType(m: EntityManager, t: string, col: string, info: ColumnInfo, item: ItemView): Promise<void> {
    const want = sqlTypeOf(item);
    const shorter = info.data_type === 'character varying' && item.type === 'string' && item.length && info.character_maximum_length && item.length < info.character_maximum_length;
    if (shorter) return;
    await m.query('SAVEPOINT dq_change_type');
    try {
      await m.query(`ALTER TABLE ${t} ALTER COLUMN ${q(col)} TYPE ${want} USING ${q(col)}::${want}`);
      await m.query('RELEASE SAVEPOINT dq_change_type');
    } catch (err) {
      await m.query('ROLLBACK TO SAVEPOINT dq_change_type');
      this.logger.error({ err, table: t, column: col, from: info.data_type, to: want }, 'stored values do not fit the changed item type; the column keeps its type and data');
    }
  }
}
