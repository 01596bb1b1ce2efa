import { randomInt } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope } from '@gdx/events';
import { isOffice, type Principal } from '@gdx/auth';
import { NotFoundError } from '@gdx/errors';
import { draftFromEvent } from './audit-record.mapper';
import type { AuditRecord, RecordDraft } from './audit-record.model';
import type { AuditRecordRepository, PageKey, RecordFilter, Visibility } from './audit-record.repository';
import type { ChainService } from './chain.service';
import { setWriterRole } from './writer-role';
import { decodeCursor, encodeCursor } from '@gdx/service-kit';

export interface IngestResult {
  written: number;
  duplicates: number;
}

/**
 * The trail's rules: every event becomes exactly one record (the event id is
 * claimed in the same transaction that writes the record), records are chained,
 * and a unit reads only the records about its own calls and its own resources.
 */
export class AuditRecordService {
  /** Where this replica starts looking for a free chain; rotates so chains grow evenly. */
  private nextChain: number;

  constructor(
    private readonly db: DataSource,
    private readonly records: AuditRecordRepository,
    private readonly chains: ChainService,
    private readonly options: { chains: number; writerRole: string },
    /** Read models kept beside the trail, written in the same transaction as the records (each event counts once). */
    private readonly alongside?: (m: EntityManager, written: readonly RecordDraft[]) => Promise<void>,
  ) {
    this.nextChain = randomInt(options.chains);
  }

  /** One transaction per batch: claim ids, lock a chain, link, insert. Throwing leaves the batch unacknowledged. */
  async ingest(events: EventEnvelope[]): Promise<IngestResult> {
    const recordedAt = new Date().toISOString();
    const drafts = new Map<string, RecordDraft>();
    for (const e of events) {
      const draft = draftFromEvent(e, recordedAt);
      if (!drafts.has(draft.id)) drafts.set(draft.id, draft);
    }
    const written = await this.db.transaction(async (m) => {
      await setWriterRole(m, this.options.writerRole);
      const seen = await this.records.claim(m, [...drafts.values()]);
      // The stream's order is kept on the chain.
      const todo = seen.size ? [...drafts.values()].filter((d) => !seen.has(d.id)) : [...drafts.values()];
      if (!todo.length) return 0;
      const chain = await this.records.lockChain(m, this.options.chains, this.nextChain++);
      const head = await this.records.head(m, chain);
      await this.records.insert(m, this.chains.link(todo, head));
      await this.alongside?.(m, todo);
      return todo.length;
    });
    return { written, duplicates: events.length - written };
  }

  async get(principal: Principal, id: string): Promise<AuditRecord> {
    const record = await this.records.findById(id, visibilityOf(principal));
    if (!record) throw new NotFoundError('The audit record');
    return record;
  }

  async page(principal: Principal, filter: RecordFilter, limit: number, cursor?: string): Promise<{ items: AuditRecord[]; nextCursor: string | null }> {
    const items = await this.records.search(filter, visibilityOf(principal), limit + 1, cursor ? pageKey(cursor) : undefined);
    const more = items.length > limit;
    if (more) items.length = limit;
    const last = items[items.length - 1];
    return { items, nextCursor: more && last ? pageCursor({ occurredAt: last.occurredAt, id: last.id }) : null };
  }

  /** Every matching record, page by page, for CSV and NDJSON exports of a search. */
  async *all(principal: Principal, filter: RecordFilter, pageSize = 1000): AsyncGenerator<AuditRecord> {
    const visibility = visibilityOf(principal);
    let after: PageKey | undefined;
    for (;;) {
      const page = await this.records.search(filter, visibility, pageSize, after);
      yield* page;
      if (page.length < pageSize) return;
      const last = page[page.length - 1];
      after = { occurredAt: last.occurredAt, id: last.id };
    }
  }
}

/** The office sees the whole trail; a unit (any of its roles) its calls and the calls on its resources. */
export function visibilityOf(p: Principal): Visibility {
  return isOffice(p) ? { all: true } : { all: false, unitId: p.unitId };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function pageCursor(key: PageKey): string {
  return encodeCursor([key.occurredAt, key.id]);
}

/** The form pageCursor writes (toISOString): anything else, `"1"` included, which Date.parse takes, is refused. */
const ISO_MILLIS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function isCursorTime(v: unknown): v is string {
  if (typeof v !== 'string' || !ISO_MILLIS_UTC.test(v)) return false;
  const d = new Date(v);
  // A real instant (no 30 February), written back the same, in a year PostgreSQL takes.
  return !Number.isNaN(d.getTime()) && d.toISOString() === v && d.getUTCFullYear() >= 1;
}

/** Exactly what pageCursor gives out, else 400 INVALID_CURSOR: a forged cursor never reaches the SQL. */
export function pageKey(cursor: string): PageKey {
  return decodeCursor(cursor, (parts) => {
    if (parts.length !== 2) return undefined;
    const [occurredAt, id] = parts;
    return isCursorTime(occurredAt) && typeof id === 'string' && UUID.test(id) ? { occurredAt, id } : undefined;
  });
}
