import { isOffice, type Principal } from '@gdx/auth';
import type { RequestStatus, ShareRequest } from '../entities/share-request.entity';

/** A unit sees what it filed and what is addressed to it; the office sees all; nobody else learns it exists. */
export function canSeeRequest(p: Principal, r: ShareRequest): boolean {
  return isOffice(p) || p.unitId === r.applicantUnitId || p.unitId === r.providerUnitId;
}

export function viewRequest(r: ShareRequest) {
  return {
    id: r.id,
    applicantUnitId: r.applicantUnitId,
    filedBy: r.filedBy,
    track: r.track,
    resourceCode: r.resourceCode,
    resourceName: r.resourceName,
    resourceVersion: r.resourceVersion,
    providerUnitId: r.providerUnitId,
    need: r.need,
    items: r.items,
    clearItems: r.clearItems,
    serviceMode: r.serviceMode,
    purpose: r.purpose,
    dutyBasis: r.dutyBasis,
    expectedVolume: r.expectedVolume,
    validFrom: r.validFrom.toISOString(),
    validTo: r.validTo.toISOString(),
    attachments: r.attachments,
    status: r.status,
    submittedAt: r.submittedAt?.toISOString() ?? null,
    providerDeadline: r.providerDeadline?.toISOString() ?? null,
    delayed: r.delayed,
    delayedAt: r.delayedAt?.toISOString() ?? null,
    review: r.review,
    officeDecision: r.officeDecision,
    grantId: r.grantId,
    closedAt: r.closedAt?.toISOString() ?? null,
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/** What request events carry: enough for audit and assessment without a call back. */
export function eventData<E extends object = object>(r: ShareRequest, from: RequestStatus | null, extra: E = {} as E) {
  return {
    requestId: r.id,
    applicantUnitId: r.applicantUnitId,
    providerUnitId: r.providerUnitId,
    resourceCode: r.resourceCode,
    track: r.track,
    serviceMode: r.serviceMode,
    from,
    status: r.status,
    submittedAt: r.submittedAt?.toISOString() ?? null,
    providerDeadline: r.providerDeadline?.toISOString() ?? null,
    delayed: r.delayed,
    grantId: r.grantId,
    ...extra,
  };
}
