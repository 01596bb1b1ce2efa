import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ServiceUnavailableError } from '@gdx/errors';
import { deliveryTracePath, PULL_CURSOR_LINE_PREFIX, PULL_TRAILER_LINE_PREFIX, type DeliveryTraceRequest, type DeliveryTraceResult, type EventData } from '@gdx/contracts';

/** A delivery the trace found, as its `data.delivered` record says. */
export interface TracedDelivery {
  recordId: string;
  deliveryId: string;
  deliveredAt: string;
  recipientUnitId: string;
  grantId: string;
  resourceCode: string;
  kind: string;
  format: string;
  rows: number;
  sha256: string;
  outcome: string;
  match: 'exact' | 'sample';
  /** Sample rows found in the delivery (match `sample`). */
  matchedRows?: number;
}

interface DeliveryRow {
  event_id: string;
  occurred_at: Date;
  /** As the contracts declare it: the trail keeps the event's data as it came. */
  data: EventData<'data.delivered'>;
}

const COLUMNS = 'event_id, occurred_at, data';
/** Deliveries of one resource a sample is compared with at most (the newest). */
const SAMPLE_CANDIDATES = 200;

function view(r: DeliveryRow, match: TracedDelivery['match'], matchedRows?: number): TracedDelivery {
  const d = r.data;
  return {
    recordId: r.event_id,
    deliveryId: d.deliveryId,
    deliveredAt: r.occurred_at.toISOString(),
    recipientUnitId: d.unitId,
    grantId: d.grantId,
    resourceCode: d.resourceCode,
    kind: d.kind,
    format: d.format,
    rows: d.rowCount,
    sha256: d.sha256,
    outcome: d.outcome,
    match,
    ...(matchedRows !== undefined ? { matchedRows } : {}),
  };
}

/**
 * Art. 19 (no passing data on to third parties): given a leaked file, its SHA-256 or a sample
 * of its rows, which deliveries could have produced it. A hash is looked up among the
 * deliveries' records (each holds the SHA-256 of what it sent); a sample is handed to
 * data-query, which rebuilds each candidate delivery's slice as it was presented and counts
 * the sample rows in it (through the gateway, as the auditor, so the call is on the record).
 */
export class DeliveryTraceService {
  constructor(
    private readonly db: DataSource,
    private readonly gatewayUrl: string,
  ) {}

  /** The hashes a file may have been recorded under: the whole body, and for NDJSON its records without the cursor and trailer lines. */
  fileHashes(file: string): string[] {
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const lines = file.split('\n').filter((l) => l && !l.startsWith(PULL_CURSOR_LINE_PREFIX) && !l.startsWith(PULL_TRAILER_LINE_PREFIX));
    return [...new Set([sha(file), sha(lines.map((l) => `${l}\n`).join(''))])];
  }

  /** Sample rows from a file: NDJSON records or a JSON array's objects (CSV carries no types to compare with). */
  fileRows(file: string): Record<string, unknown>[] {
    const objects = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v : [v]).filter((o): o is Record<string, unknown> => !!o && typeof o === 'object' && !Array.isArray(o));
    try {
      return objects(JSON.parse(file)).slice(0, 100);
    } catch {
      const rows: Record<string, unknown>[] = [];
      for (const line of file.split('\n')) {
        if (rows.length >= 100) break;
        try {
          rows.push(...objects(JSON.parse(line)).filter((o) => !('_cursor' in o) && !('_end' in o) && !('_deleted' in o)));
        } catch {
          // not a JSON line: not a record
        }
      }
      return rows;
    }
  }

  async byHashes(hashes: string[]): Promise<TracedDelivery[]> {
    const rows: DeliveryRow[] = await this.db.query(`SELECT ${COLUMNS} FROM audit_record WHERE type = 'data.delivered' AND data->>'sha256' = ANY($1::text[]) ORDER BY occurred_at DESC LIMIT 100`, [
      hashes,
    ]);
    return rows.map((r) => view(r, 'exact'));
  }

  async bySample(resourceCode: string, sample: Record<string, unknown>[], authorization: string, requestId: string): Promise<TracedDelivery[]> {
    const candidates: DeliveryRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM audit_record WHERE type = 'data.delivered' AND resource_code = $1 AND (data->>'rowCount')::bigint > 0 ORDER BY occurred_at DESC LIMIT ${SAMPLE_CANDIDATES}`,
      [resourceCode],
    );
    if (!candidates.length) return [];
    let res: Response;
    try {
      res = await fetch(`${this.gatewayUrl}${deliveryTracePath(resourceCode)}`, {
        method: 'POST',
        headers: { authorization, 'x-request-id': `${requestId}-trace`, 'content-type': 'application/json' },
        body: JSON.stringify({
          deliveries: candidates.map(({ data: d }) => ({ deliveryId: d.deliveryId, grantId: d.grantId, items: d.items, cursorFrom: d.cursorFrom, cursorTo: d.cursorTo })),
          rows: sample,
        } satisfies DeliveryTraceRequest),
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      throw new ServiceUnavailableError('data-query is not answering, so the sample cannot be traced; try again shortly.', 'TRACE_UNAVAILABLE');
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ServiceUnavailableError('data-query could not trace the sample; try again shortly.', 'TRACE_UNAVAILABLE');
    }
    const { results } = (await res.json()) as DeliveryTraceResult;
    const matched = new Map(results.filter((r) => r.matched > 0).map((r) => [r.deliveryId, r.matched]));
    return candidates
      .filter((c) => matched.has(c.data.deliveryId))
      .map((c) => view(c, 'sample', matched.get(c.data.deliveryId)))
      .sort((a, b) => (b.matchedRows ?? 0) - (a.matchedRows ?? 0));
  }
}
