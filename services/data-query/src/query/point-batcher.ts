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
}

/**
 * Coalesces concurrent row-key lookups. A lookup goes out at once while fewer
 * than `maxInFlight` statements of its group are running (no added latency when
 * idle); beyond that, lookups wait for the next free slot and leave together as
 * one `key = ANY($1)` statement. Under load one round trip, one parse and one
 * socket write serve many callers: on the hot path the database round trips,
 * not the SQL, are what costs.
 *
 * A group is a statement plus its filter values, so only lookups under the same
 * row filter ever share a statement, and each caller receives only the rows of
 * its own key.
 */
export class PointBatcher {
  private readonly groups = new Map<string, Group>();

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
        group = { query, inFlight: 0, pending: [] };
        this.groups.set(query.batchKey, group);
      }
      const waiter = { key: query.key, resolve, reject };
      if (group.inFlight < this.maxInFlight) this.dispatch(group, [waiter]);
      else group.pending.push(waiter);
    });
  }

  private dispatch(group: Group, waiters: Waiter[]): void {
    group.inFlight++;
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
        if (group.pending.length) this.dispatch(group, group.pending.splice(0, this.maxKeys));
        else if (!group.inFlight && this.groups.get(group.query.batchKey) === group) this.groups.delete(group.query.batchKey);
      });
  }
}
