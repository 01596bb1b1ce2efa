import type { Pool, QueryConfig } from 'pg';
import type { PointQuery } from './query-planner';

interface Waiter {
  key: string;
  resolve: (rows: unknown[][]) => void;
  reject: (err: unknown) => void;
}

interface Group {
  query: PointQuery;
  inFlight: number;
  pending: Waiter[];
  scheduled: boolean;
}

/**
 * Coalesces concurrent row-key lookups. Lookups made in the same turn of the
 * event loop (requests that arrived together) leave together at the end of it
 * as one `key = ANY($1)` statement; when `maxInFlight` statements of a group are
 * already running, further lookups wait for the next free slot and join the
 * next statement. Under load one round trip, one parse and one socket write
 * serve many callers: on the hot path the round trips and system calls, not the
 * SQL, are what costs. When idle, a lookup waits for nothing but the end of the
 * current turn.
 *
 * A group is a statement plus its filter values, so only lookups under the same
 * row filter ever share a statement, and each caller receives only the rows of
 * its own key.
 */
export class PointBatcher {
  private readonly groups = new Map<string, Group>();
  /** Lookups answered and statements sent: their ratio is the batching achieved. */
  readonly stats = { lookups: 0, statements: 0 };

  constructor(
    private readonly pool: Pool,
    private readonly types: QueryConfig['types'],
    private readonly maxInFlight: number,
    private readonly maxKeys = 100,
  ) {}

  lookup(query: PointQuery): Promise<unknown[][]> {
    return new Promise((resolve, reject) => {
      let group = this.groups.get(query.batchKey);
      if (!group) {
        group = { query, inFlight: 0, pending: [], scheduled: false };
        this.groups.set(query.batchKey, group);
      }
      group.pending.push({ key: query.key, resolve, reject });
      if (!group.scheduled && group.inFlight < this.maxInFlight) {
        group.scheduled = true;
        setImmediate(() => this.flush(group));
      }
    });
  }

  private flush(group: Group): void {
    group.scheduled = false;
    while (group.pending.length && group.inFlight < this.maxInFlight) this.dispatch(group, group.pending.splice(0, this.maxKeys));
  }

  private dispatch(group: Group, waiters: Waiter[]): void {
    group.inFlight++;
    this.stats.statements++;
    this.stats.lookups += waiters.length;
    const { name, text, values, keyIndex } = group.query;
    const keys = [...new Set(waiters.map((w) => w.key))];
    this.pool
      .query({ name, text, values: [keys, ...values], rowMode: 'array', types: this.types })
      .then(
        ({ rows }) => {
          const byKey = new Map<string, unknown[][]>();
          for (const row of rows as unknown[][]) {
            const k = String(row[keyIndex]);
            const list = byKey.get(k);
            if (list) list.push(row);
            else byKey.set(k, [row]);
          }
          for (const w of waiters) w.resolve(byKey.get(w.key) ?? []);
        },
        (err: unknown) => {
          for (const w of waiters) w.reject(err);
        },
      )
      .finally(() => {
        group.inFlight--;
        if (group.pending.length) this.flush(group);
        else if (!group.inFlight && !group.scheduled && this.groups.get(group.query.batchKey) === group) this.groups.delete(group.query.batchKey);
      });
  }
}
