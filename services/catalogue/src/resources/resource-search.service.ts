import { isOffice, type Principal } from '@gdx/auth';
import type { DataSource, SelectQueryBuilder } from 'typeorm';
import { Resource, SEARCH_TEXT } from '../entities/resource.entity';
import type { SearchQuery, SortKey } from './resource.schemas';
import { resourceFromRow, viewResource } from './resource.view';
import { decodeCursor, encodeCursor, isTimestampText, isUuidText } from '@gdx/service-kit';

type SortField = 'code' | 'name' | 'updatedAt' | 'publishedAt';

/**
 * Sort expressions and the type their cursor value is cast back to. Drafts have no
 * publication date; they sort as -infinity so the key is never NULL and keyset
 * comparison stays total.
 */
const SORT: Record<SortField, { expr: string; cast: string; unique?: boolean }> = {
  // Codes are unique: no tie-breaker, so the code index alone gives the order.
  code: { expr: 'r.code', cast: 'text', unique: true },
  name: { expr: 'r.name', cast: 'text' },
  updatedAt: { expr: 'r.updated_at', cast: 'timestamptz' },
  publishedAt: { expr: "coalesce(r.published_at, '-infinity'::timestamptz)", cast: 'timestamptz' },
};

/** LIKE wildcards in the user's text match themselves. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

interface Cursor {
  sort: SortKey;
  value: string;
  id: string;
}

function cursorOf(c: Cursor): string {
  return encodeCursor([c.sort, c.value, c.id]);
}

function cursorFrom(raw: string, sort: SortKey): Cursor {
  return decodeCursor(
    raw,
    (parts) => {
      if (parts.length !== 3) return undefined;
      const [s, value, id] = parts;
      // The value is cast back to the sort key's type in SQL: it must be one PostgreSQL takes.
      const typed = SORT[sort.replace(/^-/, '') as SortField].cast === 'timestamptz' ? isTimestampText(value) : typeof value === 'string';
      return s === sort && typed && typeof value === 'string' && isUuidText(id) ? { sort, value, id } : undefined;
    },
    'querystring.cursor',
    'cursor does not belong to this search (or sort order); start again without it.',
  );
}

/**
 * Browse and search: substring match on name and summary (a GIN trigram index), filters,
 * and keyset pagination on (sort key, id), which stays stable while rows are added.
 */
export class ResourceSearchService {
  constructor(private readonly db: DataSource) {}

  async search(viewer: Principal, query: SearchQuery) {
    const sort = (query.sort ?? 'code') as SortKey;
    const limit = query.limit ?? 50;
    const qb = this.query(viewer, query);
    // Raw rows mapped by hand: TypeORM's entity hydration cost more than the query itself.
    const raw = await qb.getRawMany<Record<string, unknown>>();
    const page = raw.slice(0, limit).map((row) => resourceFromRow(row, 'r_'));
    const last = raw.length > limit ? page[limit - 1] : undefined;
    return {
      items: page.map(viewResource),
      nextCursor: last ? cursorOf({ sort, value: String(raw[limit - 1].sort_value), id: last.id }) : null,
    };
  }

  /** The query a search runs (exposed for the benchmark, which runs the same SQL through plain pg). */
  query(viewer: Principal, query: SearchQuery): SelectQueryBuilder<Resource> {
    const sort = (query.sort ?? 'code') as SortKey;
    const desc = sort.startsWith('-');
    const { expr, cast, unique } = SORT[sort.replace(/^-/, '') as SortField];
    const qb = this.db.getRepository(Resource).createQueryBuilder('r').addSelect(`(${expr})::text`, 'sort_value');
    if (!isOffice(viewer)) qb.andWhere("(r.status <> 'draft' OR r.provider_unit_id = :viewerUnit)", { viewerUnit: viewer.unitId });
    const q = query.q?.trim();
    if (q) qb.andWhere(`${SEARCH_TEXT('r')} ILIKE :pattern`, { pattern: `%${likeEscape(q)}%` });
    // A two-character term has no trigram; the bigram index finds its candidates instead.
    if (q && [...q].length === 2) qb.andWhere('r.search_bigrams @> ARRAY[lower(:bigram)]', { bigram: q });
    if (query.provider) qb.andWhere('r.provider_unit_id = :provider', { provider: query.provider });
    if (query.class) qb.andWhere('r.class_code = :classCode', { classCode: query.class });
    if (query.baseDatabase) qb.andWhere('r.base_database = :baseDatabase', { baseDatabase: query.baseDatabase });
    if (query.sharingType) qb.andWhere('r.sharing_type = :sharingType', { sharingType: query.sharingType });
    if (query.method) qb.andWhere(':method = ANY(r.methods)', { method: query.method });
    if (query.updateCycle) qb.andWhere('r.update_cycle = :updateCycle', { updateCycle: query.updateCycle });
    if (query.status) qb.andWhere('r.status = :status', { status: query.status });
    if (query.cursor) {
      const c = cursorFrom(query.cursor, sort);
      const op = desc ? '<' : '>';
      if (unique) qb.andWhere(`${expr} ${op} CAST(:after AS ${cast})`, { after: c.value });
      else qb.andWhere(`(${expr}, r.id) ${op} (CAST(:after AS ${cast}), CAST(:afterId AS uuid))`, { after: c.value, afterId: c.id });
    }
    const dir = desc ? 'DESC' : 'ASC';
    qb.orderBy(expr, dir);
    if (!unique) qb.addOrderBy('r.id', dir);
    return qb.limit((query.limit ?? 50) + 1);
  }
}
