import { Redis } from 'ioredis';
import { streamKey, type EventEnvelope } from '@gdx/events';
import { REDIS_URL } from '../helpers/redis';
import type { TestPlatform } from '../helpers/platform';
import type { TestUser } from '../helpers/gateway';

export const auth = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });

/** Codes travel URL-encoded in paths: 101001/0001 → 101001%2F0001. */
export const path = (code: string, rest = '') => `/api/v1/catalogue/resources/${encodeURIComponent(code)}${rest}`;

/** A valid draft body; `over` replaces whole top-level fields. */
export function resourceBody(providerUnitId: string, over: Record<string, unknown> = {}) {
  return {
    code: '301009/0001',
    classification: ['3', '01', '009'],
    name: '社会组织登记信息',
    summary: '本市登记的社会团体、民办非企业单位和基金会的名称、统一社会信用代码、业务范围等信息。',
    providerUnitId,
    format: '数据库',
    items: [
      { key: 'creditCode', label: '统一社会信用代码', type: 'string', length: 18, queryKey: true, required: true },
      { key: 'orgName', label: '社会组织名称', type: 'string', length: 200, required: true },
      { key: 'regionCode', label: '登记地行政区划代码', type: 'code', codeTable: 'GB/T 2260', queryKey: true },
      { key: 'legalPerson', label: '法定代表人', type: 'string', length: 50, sensitivity: 'personal' },
    ],
    sharing: { type: 'unconditional' },
    methods: ['interface', 'data-call'],
    open: { open: true, conditions: '名称和统一社会信用代码向社会开放' },
    updateCycle: 'monthly',
    ...over,
  };
}

/** Every event the catalogue's outbox has relayed to the `resource` stream so far. */
export async function resourceEvents(platform: TestPlatform): Promise<EventEnvelope[]> {
  await platform.services.catalogue!.relay.drain();
  const redis = new Redis(REDIS_URL);
  try {
    const entries = await redis.xrange(streamKey(platform.prefix, 'resource'), '-', '+');
    return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]) as EventEnvelope);
  } finally {
    redis.disconnect();
  }
}
