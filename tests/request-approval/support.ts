import { streamKey } from '@gdx/events';
import request from 'supertest';
import { Redis } from 'ioredis';
import type { App } from '@gdx/service-kit';
import type { Clock } from '@gdx/request-approval';
import { addUser, type TestUser } from '../helpers/gateway';
import { REDIS_URL } from '../helpers/redis';
import { startPlatform, type TestPlatform } from '../helpers/platform';
export { publishReference } from '../helpers/catalogue';

export { eventually } from '../helpers/wait';

export const bearer = (u: Pick<TestUser, 'token'>) => ({ authorization: `Bearer ${u.token}` });
export const enc = encodeURIComponent;

export interface Cast {
  office: TestUser;
  auditor: TestUser;
  /** 公安局: provider of 101001/0001 (conditional) and 307001/0001 (not shared). */
  ga: TestUser;
  /** 市场监管局: provider of 102001/0001 (unconditional). */
  scjg: TestUser;
  /** 人社局: the applicant in most tests. */
  rs: TestUser;
  rsOperator: TestUser;
  /** Units with nothing to do with the requests: they must learn nothing. */
  strangers: TestUser[];
}

export async function cast(gateway: App): Promise<Cast> {
  return {
    office: await addUser(gateway, 'OFFICE', ['office_admin']),
    auditor: await addUser(gateway, 'OFFICE', ['office_auditor']),
    ga: await addUser(gateway, 'GA', ['unit_admin']),
    scjg: await addUser(gateway, 'SCJG', ['unit_admin']),
    rs: await addUser(gateway, 'RS', ['unit_admin']),
    rsOperator: await addUser(gateway, 'RS', ['unit_operator']),
    strangers: [
      await addUser(gateway, 'HY', ['unit_admin']),
      await addUser(gateway, 'HY', ['unit_operator']),
      await addUser(gateway, 'MZ', ['unit_admin']),
      await addUser(gateway, 'MZ', ['unit_operator']),
    ],
  };
}

/** A business-system client of the admin's unit, with a real client-credentials token. */
export async function addClient(gatewayUrl: string, admin: TestUser): Promise<Pick<TestUser, 'token' | 'unitId'>> {
  const created = await request(gatewayUrl).post('/api/v1/clients').set(bearer(admin)).send({ unitId: admin.unitId, name: '业务系统' }).expect(201);
  const token = await request(gatewayUrl).post('/api/v1/auth/token').send({ grant_type: 'client_credentials', client_id: created.body.clientId, client_secret: created.body.clientSecret }).expect(200);
  return { unitId: admin.unitId, token: token.body.access_token as string };
}

const DAY = 86_400_000;
export function window(fromDays: number, toDays: number, now = Date.now()) {
  return { validFrom: new Date(now + fromDays * DAY).toISOString(), validTo: new Date(now + toDays * DAY).toISOString() };
}

export function requestBody(code: string, items: string[], extra: Record<string, unknown> = {}) {
  return {
    resourceCode: code,
    items,
    serviceMode: 'interface',
    purpose: '社会保险待遇资格认证',
    dutyBasis: '《社会保险法》第七十二条',
    expectedVolume: 500,
    ...window(0, 365),
    ...extra,
  };
}

export interface StreamEvent {
  entryId: string;
  type: string;
  subject: string;
  data: Record<string, unknown>;
  actor: Record<string, unknown>;
}

export async function streamEvents(prefix: string, domain: string): Promise<StreamEvent[]> {
  const r = new Redis(REDIS_URL);
  try {
    const entries = (await r.xrange(streamKey(prefix, domain), '-', '+')) as [string, string[]][];
    return entries.map(([entryId, fields]) => {
      const e = JSON.parse(fields[fields.indexOf('event') + 1]) as Omit<StreamEvent, 'entryId'>;
      return { entryId, type: e.type, subject: e.subject, data: e.data, actor: e.actor };
    });
  } finally {
    r.disconnect();
  }
}

/** A clock tests move by hand. */
export class FakeClock {
  constructor(private t: number) {}
  now(): Date {
    return new Date(this.t);
  }
  set(iso: string | Date): void {
    this.t = new Date(iso).getTime();
  }
  advanceDays(days: number): void {
    this.t += days * DAY;
  }
}

/** The gateway, the real catalogue and request-approval (on the test's clock when given). */
export async function startApprovalPlatform(options: { clock?: Clock; service?: Record<string, unknown> } = {}): Promise<TestPlatform & { approval: App }> {
  const p = await startPlatform(['catalogue', 'request-approval'], {
    config: { 'request-approval': { sweepIntervalMs: 0, ...options.service } },
    app: { 'request-approval': { clock: options.clock } },
  });
  return Object.assign(p, { approval: p.services['request-approval']! });
}

/** A grant issued the whole way round: the applicant files, the provider approves, the office confirms. */
export async function grantThroughRequest(
  gatewayUrl: string,
  who: { applicant: Pick<TestUser, 'token'>; provider: Pick<TestUser, 'token'>; office: Pick<TestUser, 'token'> },
  code: string,
  items: string[],
  extra: Record<string, unknown> = {},
): Promise<{ requestId: string; grantId: string }> {
  const filed = await request(gatewayUrl)
    .post('/api/v1/requests')
    .set(bearer(who.applicant))
    .send(requestBody(code, items, extra))
    .expect(201);
  await request(gatewayUrl).post(`/api/v1/requests/${filed.body.id}/review`).set(bearer(who.provider)).send({ decision: 'approve' }).expect(200);
  const confirmed = await request(gatewayUrl).post(`/api/v1/requests/${filed.body.id}/confirm`).set(bearer(who.office)).send({ decision: 'confirm' }).expect(200);
  return { requestId: filed.body.id as string, grantId: confirmed.body.grantId as string };
}
