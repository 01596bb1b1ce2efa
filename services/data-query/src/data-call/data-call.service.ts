import { createHash } from 'node:crypto';
import { grantDenied } from '../grants/grant-denial';
import { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { actorOf, type Principal } from '@gdx/auth';
import { createEvent, decideGrant, PULL_HEADERS, type PullTrailer } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import { AppError, TooManyRequestsError } from '@gdx/errors';
import type { EventPublisher } from '@gdx/events';
import type { FastifyBaseLogger } from 'fastify';
import { committedSeq, type DatasetRegistry, type DatasetRuntime } from '../datasets/dataset-registry';
import type { GrantCache, GrantEntry } from '../grants/grant-cache';
import { checkItemsKnown, projection } from '../query/row-presenter';
import type { QueryPlanner } from '../query/query-planner';
import { decodePullCursor, encodePullCursor, type PullPosition } from './pull-cursor';
import { pullFrame, type PullFormatName } from './pull-formats';
import type { RowQuota } from './row-quota';
import { SliceReader, type ScanInfo, type SliceChunk } from './slice-reader';
import { DeliveryTrace } from './delivery-trace';

export interface PullCall {
  principal: Principal;
  code: string;
  format: PullFormatName;
  since?: string;
  items?: string[];
  requestId: string;
  sourceAddress: string;
  elapsedMs: () => number;
  traceparent?: string;
}

/** What a pull answers before its first row: the stream and the headers that describe it. */
export interface PullStart {
  deliveryId: string;
  headers: Record<string, string>;
  body: Readable;
}

export interface DataCallOptions {
  chunkRows: number;
  /** Ranges of a full pull's scan read ahead at once. */
  readAhead: number;
}

class PullStopped extends Error {}

/** Why a pull stopped before its end, in the trailer line and on the record. */
class Stop {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {}
}

/**
 * Data calls (数据调用), mode 2: the caller unit's granted slice of a resource, streamed
 * chunk by chunk (never built in memory), full or incremental from a cursor, under exactly
 * the grant's terms as an interface query is (items, row filter, masking, validity, state),
 * the rows counted against the grant's daily quota. The grant is decided again before every
 * chunk, so a pull stops within a chunk of a suspension or revocation. Every pull, whole or
 * stopped, leaves a `data.delivered` record with its manifest (cursor range, rows, SHA-256 of
 * the rows as sent); refusals before the first row are recorded by the gateway's call record.
 */
export class DataCallService {
  private readonly reader: SliceReader;

  constructor(
    private readonly pool: Pool,
    private readonly datasets: DatasetRegistry,
    private readonly grants: GrantCache,
    private readonly planner: QueryPlanner,
    private readonly quota: RowQuota,
    private readonly events: EventPublisher,
    private readonly options: DataCallOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.reader = new SliceReader(pool, planner);
  }

  /** The trace of leaked rows back to deliveries, over the same slices and presentation as the pulls. */
  tracer(): DeliveryTrace {
    return new DeliveryTrace(this.pool, this.datasets, this.grants, this.planner);
  }

  /** The caller's grant for a pull of `code`, or the reason there is none: the one decision, as at the gateway. */
  private decide(principal: Principal, ds: DatasetRuntime, items: string[] | undefined): GrantEntry {
    const decision = decideGrant(this.grants.forCaller(principal.unitId, ds.code), 'data-call', items, Date.now());
    if (!decision.ok) throw grantDenied(decision, 'querystring.items');
    return decision.grant;
  }

  async pull(call: PullCall): Promise<PullStart> {
    const ds = this.datasets.served(call.code);
    checkItemsKnown(ds, call.items, 'querystring.items');
    const from = call.since === undefined ? null : decodePullCursor(ds.code, call.since);
    const grant = this.decide(call.principal, ds, call.items);
    const items = projection(ds, grant, call.items);
    const { remaining, resetSeconds } = await this.quota.remaining(grant.id, grant.dailyQuota);
    const limits = { 'ratelimit-limit': String(grant.dailyQuota), 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(resetSeconds) };
    if (remaining <= 0) throw new TooManyRequestsError(`The grant's daily quota of ${grant.dailyQuota} rows is used up.`, resetSeconds, limits, 'QUOTA_EXCEEDED');
    const committed = await committedSeq(this.pool, ds.id);
    // A cursor from beyond what was committed (forged or from a restored backup) is the caller's to correct.
    if (from && BigInt(from.seq) > BigInt(committed))
      throw new AppError(400, 'INVALID_CURSOR', 'Bad request', 'The cursor is ahead of the resource’s data; start a full pull without it.', { field: 'querystring.since' });
    // A full pull resumed goes on up to where it began: what changed since comes with the incremental pull after it.
    const upTo = from?.scan ? from.seq : committed;
    const scan = from && !from.scan ? null : await this.reader.scanInfo(ds);
    if (from?.scan && scan && from.scan.filenode !== scan.filenode)
      throw new AppError(400, 'INVALID_CURSOR', 'Bad request', 'The resource’s table was reorganised since this cursor was given out; start a full pull again.', { field: 'querystring.since' });
    const deliveryId = uuidv7();
    const nextCursor = encodePullCursor(ds.code, { seq: upTo, rowId: null });
    const body = Readable.from(this.stream(call, ds, grant, items, from, upTo, scan, deliveryId), { objectMode: false, highWaterMark: 64 * 1024 });
    return {
      deliveryId,
      body,
      headers: { [PULL_HEADERS.deliveryId]: deliveryId, [PULL_HEADERS.grantId]: grant.id, [PULL_HEADERS.nextCursor]: nextCursor, ...limits },
    };
  }

  private async *stream(
    call: PullCall,
    ds: DatasetRuntime,
    grant: GrantEntry,
    items: string[],
    from: PullPosition | null,
    upTo: string,
    scan: ScanInfo | null,
    deliveryId: string,
  ): AsyncGenerator<string> {
    // A full pull (or a resumed one) scans the table; an incremental one reads what changed, tombstones included.
    const incremental = scan === null;
    const frame = pullFrame(call.format, items, incremental);
    const shape = { ds, grant, items, format: call.format, tombstones: incremental };
    const next = scan ? this.reader.openScan(shape, scan, from?.scan ?? null, upTo, this.options.chunkRows, this.options.readAhead) : this.reader.open(shape, from, upTo);
    const hash = createHash('sha256');
    let bytes = 0;
    let rows = 0;
    let tombstones = 0;
    let at: PullPosition = from ?? { seq: '0', rowId: null };
    let stop: Stop | null = null;
    let finished = false;
    const data = (text: string) => {
      hash.update(text);
      bytes += Buffer.byteLength(text);
      return text;
    };
    // One chunk is read ahead while the last one is sent: PostgreSQL builds the next chunk while this process writes.
    const fetchChunk = async (): Promise<{ stop: Stop } | { taken: number; full: boolean; chunk: SliceChunk }> => {
      // The grant decided again: suspended, revoked or expired since the pull began stops it here.
      const now = decideGrant(this.grants.forCaller(call.principal.unitId, ds.code), 'data-call', items, Date.now());
      if (!now.ok || now.grant.id !== grant.id) return { stop: now.ok ? new Stop('GRANT_NOT_ACTIVE', 'The grant this pull began under no longer applies.') : new Stop(now.code, now.detail) };
      // Rows are taken from the day's quota before they are read; what a short chunk did not use goes back.
      const taken = await this.quota.take(grant.id, this.options.chunkRows, grant.dailyQuota);
      const chunk = await next(Math.max(taken, 1));
      const records = chunk.rows + chunk.tombstones;
      if (taken && records < taken) await this.quota.refund(grant.id, taken - records);
      // Full: it filled what it asked for, so more may follow.
      return { taken: Math.min(taken, records), full: taken > 0 && records >= taken, chunk };
    };
    let pending: ReturnType<typeof fetchChunk> | null = null;
    try {
      yield data(frame.begin);
      pending = fetchChunk();
      for (let first = true; pending; first = false) {
        const fetched = await pending;
        pending = null;
        if ('stop' in fetched) {
          stop = fetched.stop;
          break;
        }
        const { taken, chunk } = fetched;
        const records = chunk.rows + chunk.tombstones;
        if (!taken) {
          // Used up: the end of the slice if nothing is left, else the pull stops here.
          if (records) stop = new Stop('QUOTA_EXCEEDED', `The grant's daily quota of ${grant.dailyQuota} rows is used up; continue from the last cursor when it resets.`);
          break;
        }
        rows += chunk.rows;
        tombstones += chunk.tombstones;
        at = chunk.last;
        if (fetched.full) pending = fetchChunk();
        yield data(`${first ? '' : frame.between}${chunk.text}${frame.terminator}`) + frame.checkpoint(encodePullCursor(ds.code, at));
      }
      // CSV and JSON have no place for a trailer: a stopped pull's transfer is broken off (never a well-formed
      // body that looks complete), and the record says why.
      if (stop && call.format !== 'ndjson') throw new PullStopped(stop.code);
      if (!stop) at = { seq: upTo, rowId: null };
      yield data(frame.end);
      finished = true;
      if (call.format === 'ndjson') {
        const trailer: PullTrailer = { deliveryId, cursor: encodePullCursor(ds.code, at), rows, tombstones, bytes, sha256: hash.copy().digest('hex'), complete: !stop };
        if (stop) trailer.error = { code: stop.code, detail: stop.detail };
        yield `${JSON.stringify({ _end: trailer })}\n`;
      }
    } catch (err) {
      if (!stop) {
        stop = new Stop('INTERNAL', 'The pull failed on the way.');
        this.log.error({ err, deliveryId }, 'a pull failed');
      }
      throw err;
    } finally {
      // A chunk read ahead and never sent (the recipient went away, the pull failed) gives its rows back.
      const unsent = pending ? await pending.catch(() => null) : null;
      if (unsent && 'taken' in unsent) await this.quota.refund(grant.id, unsent.taken).catch(() => undefined);
      // Also when the recipient went away (the stream was destroyed and this generator returned).
      const outcome = stop ? stop.code : finished ? 'complete' : 'CLIENT_CLOSED';
      await this.record(call, ds, grant, items, deliveryId, from, at, rows, tombstones, bytes, hash.digest('hex'), outcome);
    }
  }

  private async record(
    call: PullCall,
    ds: DatasetRuntime,
    grant: GrantEntry,
    items: string[],
    deliveryId: string,
    from: PullPosition | null,
    at: PullPosition,
    rows: number,
    tombstones: number,
    bytes: number,
    sha256: string,
    outcome: string,
  ): Promise<void> {
    const actor = actorOf(call.principal);
    const event = createEvent('data.delivered', {
      actor,
      subject: ds.code,
      traceparent: call.traceparent,
      data: {
        deliveryId,
        unitId: call.principal.unitId,
        ...(actor.accountId ? { accountId: actor.accountId } : { clientId: actor.clientId }),
        providerUnitId: ds.providerUnitId,
        grantId: grant.id,
        resourceCode: ds.code,
        mode: 'data-call',
        kind: 'pull',
        format: call.format,
        items,
        cursorFrom: from ? encodePullCursor(ds.code, from) : null,
        cursorTo: encodePullCursor(ds.code, at),
        rowCount: rows + tombstones,
        tombstones,
        bytes,
        sha256,
        result: 'allowed',
        outcome,
        requestId: call.requestId,
        sourceAddress: call.sourceAddress,
        latencyMs: Math.round(call.elapsedMs() * 10) / 10,
      },
    });
    try {
      await this.events.transaction(async (_m, emit) => emit(event));
    } catch (err) {
      // Rows already left: the record is the only thing left to save, so it is logged whole.
      this.log.error({ err, event }, 'a delivery could not be put on the record');
    }
  }
}
