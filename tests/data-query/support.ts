import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { referenceData } from '@gdx/codes';
import { createEvent, streamKey } from '@gdx/events';
import request from 'supertest';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { REDIS_URL } from '../helpers/redis';

/** Helpers for the data-query tests: they play the catalogue and request-approval by writing their events. */

export interface Item {
  key: string;
  label: string;
  type: string;
  length?: number;
  required?: boolean;
  queryKey?: boolean;
  sensitivity?: string;
  element?: string;
  codeTable?: string;
}

export interface ResourceView {
  code: string;
  name: string;
  providerUnitId: string;
  items: Item[];
  sharing: { type: string };
  methods: string[];
  status: string;
  version: number;
}

/** A starter resource of reference.json as the catalogue would publish it, its provider mapped to a real unit id. */
export function starterResource(code: string, providerUnitId: string, overrides: Partial<ResourceView> = {}): ResourceView {
  const ref = referenceData().resources.find((r) => r.code === code) as unknown as ResourceView & { provider: string };
  if (!ref) throw new Error(`no starter resource ${code}`);
  return { code: ref.code, name: ref.name, providerUnitId, items: ref.items, sharing: ref.sharing, methods: ref.methods, status: 'published', version: 1, ...overrides };
}

export interface Grant {
  id: string;
  consumerUnitId: string;
  providerUnitId: string;
  resourceCode: string;
  items: string[];
  rowFilter: { all: { key: string; op: 'eq' | 'in' | 'between'; value: unknown }[] } | null;
  modes: ('interface' | 'data-call' | 'customization')[];
  rateLimitPerSecond: number;
  dailyQuota: number;
  validFrom: string;
  validTo: string;
  status: 'active' | 'suspended' | 'revoked' | 'expired';
  version: number;
  maskPersonal?: boolean;
}

export function grantOf(init: Pick<Grant, 'consumerUnitId' | 'providerUnitId' | 'resourceCode' | 'items'> & Partial<Grant>): Grant {
  const day = 86_400_000;
  return {
    id: randomUUID(),
    rowFilter: null,
    modes: ['interface'],
    rateLimitPerSecond: 100,
    dailyQuota: 10_000,
    validFrom: new Date(Date.now() - day).toISOString(),
    validTo: new Date(Date.now() + 30 * day).toISOString(),
    status: 'active',
    version: 1,
    ...init,
  };
}

export class EventWriter {
  readonly redis = new Redis(REDIS_URL);

  constructor(private readonly platform: TestPlatform) {}

  /** Writes an event as a relay would and waits until data-query's consumer group has processed it. */
  async publish(domain: 'resource' | 'grant', type: string, subject: string, data: object): Promise<void> {
    const envelope = createEvent(type, { actor: { kind: 'system' }, subject, data: data as Record<string, unknown> });
    const key = streamKey(this.platform.prefix, domain);
    const entryId = (await this.redis.xadd(key, '*', 'event', JSON.stringify(envelope))) as string;
    await this.consumed(key, entryId);
  }

  resource(view: ResourceView, type = 'resource.published'): Promise<void> {
    return this.publish('resource', type, view.code, view);
  }

  grant(g: Grant, type = 'grant.issued'): Promise<void> {
    return this.publish('grant', type, g.id, g);
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

  /** The envelopes on `${prefix}events:<domain>` whose data carries this request id. */
  async eventsOf(domain: string, match: (e: { type: string; data: Record<string, unknown> }) => boolean): Promise<{ type: string; subject: string; data: Record<string, unknown> }[]> {
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
  const rows = people.map((p, i) => JSON.stringify({ idNumber: p.idNumber, name: `张三${i}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode, householdAddress: `安徽省蚌埠市${i}号` })).join('\n');
  await request(dataQueryUrl(platform)).post(`/api/v1/data/${enc(code)}/batches`).set('authorization', `Bearer ${provider.token}`).set('content-type', 'application/x-ndjson').send(rows).expect(200);
  const grant = grantOf({ consumerUnitId: consumer.unitId, providerUnitId: provider.unitId, resourceCode: code, items: ['idNumber', 'name', 'sex', 'regionCode'], rowFilter: { all: [{ key: 'regionCode', op: 'eq', value: '340302' }] } });
  await events.grant(grant);
  return { platform, events, provider, consumer, other, grant };
}
