import { randomUUID } from 'node:crypto';
import type { GrantView } from '@gdx/contracts';

const DAY = 86_400_000;

/**
 * A whole grant view as request-approval issues it (active, valid from a day ago for 30 days,
 * interface mode): tests name what matters to them and take the rest from here.
 */
export function grantView(init: Pick<GrantView, 'consumerUnitId' | 'providerUnitId'> & Partial<GrantView>): GrantView {
  return {
    id: randomUUID(),
    resourceCode: '101001/0001',
    items: ['idNumber', 'name'],
    rowFilter: null,
    modes: ['interface'],
    rateLimitPerSecond: 100,
    dailyQuota: 10_000,
    validFrom: new Date(Date.now() - DAY).toISOString(),
    validTo: new Date(Date.now() + 30 * DAY).toISOString(),
    purpose: '依法履职核验',
    requestId: randomUUID(),
    status: 'active',
    statusReason: null,
    version: 1,
    ...init,
  };
}
