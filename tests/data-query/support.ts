import { Redis } from 'ioredis';
import { createEvent, type EventData, type EventEnvelope, type EventType, type ResourceView } from '@gdx/contracts';
import { deadLetterKey, domainOf, streamKey } from '@gdx/events';
import { starterResourceView } from '@gdx/data-query/testing';
import request from 'supertest';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { REDIS_URL } from '../helpers/redis';
import { grantView } from '../helpers/grants';

/** Helpers for the data-query tests: they play the catalogue and request-approval by writing their events. */

/** A starter resource of reference.json as the catalogue would publish it (the whole view), its provider mapped to a real unit id. */
export function starterResource(code: string, providerUnitId: string, overrides: Partial<ResourceView> = {}): ResourceView {
  return starterResourceView(code, providerUnitId, overrides);
}

/** A grant as request-approval carries it in `grant.*` events (the whole view, clear items and legal basis included). */
export type Grant = EventData<'grant.issued'>;

type ResourceEventType = 'resource.published' | 'resource.updated' | 'resource.deprecated';
type GrantEventType = 'grant.issued' | 'grant.suspended' | 'grant.resumed' | 'grant.revoked' | 'grant.expired' | 'grant.superseded';

export function grantOf(init: Pick<Grant, 'consumerUnitId' | 'providerUnitId' | 'resourceCode' | 'items'> & Partial<Grant>): Grant {
  return grantView(init);
}

export class EventWriter {
  readonly redis: Redis;

  /** `platform`: anything with the platform's stream prefix; `redisUrl`: its Redis (a test's own one, for the process-based tests). */
  constructor(
    private readonly platform: Pick<TestPlatform, 'prefix'> & Partial<Pick<TestPlatform, 'publishOutboxes'>>,
    redisUrl = REDIS_URL,
  ) {
    this.redis = new Redis(redisUrl);
  }

  /** Writes an event as a relay would and waits until data-query's consumer group has processed it. */
  async publish<T extends EventType>(type: T, subject: string, data: EventData<T>): Promise<void> {
    await this.publishEnvelope(createEvent(type, { actor: { kind: 'system' }, subject, data }));
  }

  /** Writes any envelope (a bad one too) on the stream of its type's domain and waits until data-query's group has processed it. */
  async publishEnvelope(envelope: EventEnvelope): Promise<string> {
    const key = streamKey(this.platform.prefix, domainOf(envelope.type));
    const entryId = (await this.redis.xadd(key, '*', 'event', JSON.stringify(envelope))) as string;
    await this.consumed(key, entryId);
    return entryId;
  }

  resource(view: ResourceView, type: ResourceEventType = 'resource.published'): Promise<void> {
    return this.publish(type, view.code, view);
  }

  grant(g: Grant, type: GrantEventType = 'grant.issued'): Promise<void> {
    return this.publish(type, g.id, g);
  }

  /** The entries of the dead-letter stream (`{${prefix}events}:dead-letter`), their fields as an object. */
  async deadLetters(): Promise<Record<string, string>[]> {
    const entries = (await this.redis.xrange(deadLetterKey(this.platform.prefix), '-', '+')) as [string, string[]][];
    return entries.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
  }

  /** Processed = delivered to the group and acknowledged (the handler, cache refresh included, ran before the ack). */
  private async consumed(key: string, entryId: string): Promise<void> {
    const newer = (a: string, b: string) => {
      const [am, as] = a.split('-').map(BigInt);
      const [bm, bs] = b.split('-').map(BigInt);
      return am > bm || (am === bm && as >= bs);
    };
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const groups = (await this.redis.xinfo('GROUPS', key).catch(() => [])) as unknown[][];
      const group = groups.map((g) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]]))).find((g) => g.name === 'data-query');
      if (group && newer(String(group['last-delivered-id']), entryId) && Number(group.pending) === 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`data-query did not process ${entryId} on ${key}`);
  }

  /** The envelopes on `{${prefix}events}:<domain>` whose data carries this request id. */
  async eventsOf(domain: string, match: (e: { type: string; data: Record<string, unknown> }) => boolean): Promise<{ type: string; subject: string; data: Record<string, unknown> }[]> {
    await this.platform.publishOutboxes?.();
    const entries = (await this.redis.xrange(streamKey(this.platform.prefix, domain), '-', '+')) as [string, string[]][];
    return entries.map(([, f]) => JSON.parse(f[f.indexOf('event') + 1])).filter(match);
  }

  close(): void {
    this.redis.disconnect();
  }
}

export function dataQueryUrl(platform: TestPlatform): string {
  const address = platform.services['data-query']!.server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

export const enc = (code: string) => encodeURIComponent(code);

/** The usual cast of a query test: provider GA, consumer LZH (its own district only), HY without a grant. */
export interface PopulationScenario {
  platform: TestPlatform;
  events: EventWriter;
  provider: TestUser;
  consumer: TestUser;
  other: TestUser;
  grant: Grant;
}

/**
 * Starts gateway and data-query, publishes the population resource (101001/0001), submits
 * the given people as the provider (names 张三0…, addresses 安徽省蚌埠市0号…), and issues
 * 龙子湖区 a grant limited to its own residents.
 */
export async function populationScenario(people: { idNumber: string; sex: string; birthDate: string; regionCode: string }[]): Promise<PopulationScenario> {
  const code = '101001/0001';
  const platform = await startPlatform(['data-query']);
  const events = new EventWriter(platform);
  const provider = await addUser(platform.gateway, 'GA', ['unit_admin']);
  const consumer = await addUser(platform.gateway, 'LZH', ['unit_admin']);
  const other = await addUser(platform.gateway, 'HY', ['unit_admin']);
  await events.resource(starterResource(code, provider.unitId));
  const rows = people
    .map((p, i) => JSON.stringify({ idNumber: p.idNumber, name: `张三${i}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode, householdAddress: `安徽省蚌埠市${i}号` }))
    .join('\n');
  await request(dataQueryUrl(platform))
    .post(`/api/v1/data/${enc(code)}/batches`)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(rows)
    .expect(200);
  const grant = grantOf({
    consumerUnitId: consumer.unitId,
    providerUnitId: provider.unitId,
    resourceCode: code,
    items: ['idNumber', 'name', 'sex', 'regionCode'],
    rowFilter: { all: [{ key: 'regionCode', op: 'eq', value: '340302' }] },
  });
  await events.grant(grant);
  return { platform, events, provider, consumer, other, grant };
}

/** A provider's batch of rows (NDJSON) for one of its resources, straight to data-query; the caller checks the answer. */
export function submitRows(platform: TestPlatform, code: string, provider: TestUser, rows: object[]): request.Test {
  return request(dataQueryUrl(platform))
    .post(`/api/v1/data/${enc(code)}/batches`)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(rows.map((r) => JSON.stringify(r)).join('\n'));
}

/** The data-call tests' usual grant: a district's own residents (regionCode), three items, a generous row quota. */
export function districtDataCallGrant(consumer: TestUser, provider: TestUser, code: string, region: string): Grant {
  return grantOf({
    consumerUnitId: consumer.unitId,
    providerUnitId: provider.unitId,
    resourceCode: code,
    items: ['idNumber', 'name', 'regionCode'],
    modes: ['data-call'],
    rowFilter: { all: [{ key: 'regionCode', op: 'eq', value: region }] },
    dailyQuota: 1_000_000,
  });
}
