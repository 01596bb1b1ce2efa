import { ConflictError, ValidationError } from '@gdx/errors';
import type { GrantTerms, ShareRequest } from '../entities/share-request.entity';
import { queryKeysOf, type CatalogueClient, type CatalogueResource } from '../shared/catalogue.client';
import { validateRowFilter } from '../grants/row-filter';
import type { TermsInput } from './request.schemas';

/**
 * What a request is checked against in the catalogue, read over HTTP at the moment
 * of each decision: the resource must exist and be published, the items must be
 * its items, and a reviewer's terms may only narrow what was asked.
 */
export class CatalogueChecks {
  constructor(
    private readonly catalogue: CatalogueClient,
    private readonly defaults: { rateLimitPerSecond: number; dailyQuota: number },
  ) {}

  /**
   * A reviewer may only narrow what was asked: fewer items, fewer rows, a shorter
   * window, a quota. Out of catalogue, the approval names the resource that now
   * serves the need; it must be the reviewer's own and published.
   */
  async narrowTerms(r: ShareRequest, t: TermsInput, authorization: string | undefined, now: Date, reviewerUnitId: string | undefined): Promise<GrantTerms> {
    let code = r.resourceCode;
    if (r.track === 'uncatalogued') {
      if (!t.resourceCode) throw new ValidationError('Approving an out-of-catalogue need names the catalogue resource that serves it.', { field: 'body.terms.resourceCode' }, 'RESOURCE_REQUIRED');
      code = t.resourceCode;
    } else if (t.resourceCode !== undefined && t.resourceCode !== r.resourceCode) {
      throw new ValidationError('The approval cannot switch to another resource.', { field: 'body.terms.resourceCode' }, 'RESOURCE_MISMATCH');
    }
    const res = await this.published(code!, authorization, 'body.terms.resourceCode');
    if (r.track === 'uncatalogued') {
      if (res.providerUnitId !== reviewerUnitId) throw new ValidationError('The resource serving the need must be the reviewer’s own.', { field: 'body.terms.resourceCode' }, 'NOT_YOUR_RESOURCE');
      if (!res.methods.includes(r.serviceMode)) throw new ValidationError(`${res.code} is not offered as ${r.serviceMode}.`, { field: 'body.terms.resourceCode' }, 'MODE_NOT_OFFERED');
    }

    let items: string[];
    if (t.items) {
      items = [...new Set(t.items)];
      if (r.track !== 'uncatalogued') {
        items.forEach((k, i) => {
          if (!r.items.includes(k)) throw new ValidationError(`${k} was not asked for; an approval may only narrow the items.`, { field: `body.terms.items[${i}]` }, 'ITEMS_NOT_NARROWER');
        });
      }
    } else if (r.track === 'uncatalogued') {
      throw new ValidationError('Approving an out-of-catalogue need lists the items granted.', { field: 'body.terms.items' }, 'ITEMS_REQUIRED');
    } else items = r.items;
    checkItems(items, res, 'body.terms.items');

    // Items in clear: among the items granted and, for a catalogue resource, among those asked in clear.
    let clearItems: string[];
    if (t.clearItems) {
      clearItems = [...new Set(t.clearItems)];
      clearItems.forEach((k, i) => {
        if (!items.includes(k) || (r.track !== 'uncatalogued' && !r.clearItems.includes(k))) {
          throw new ValidationError(
            `${k} is not among the items granted and asked in clear; an approval may only narrow the items in clear.`,
            { field: `body.terms.clearItems[${i}]` },
            'CLEAR_ITEMS_NOT_NARROWER',
          );
        }
      });
    } else clearItems = r.clearItems.filter((k) => items.includes(k));

    const validFrom = t.validFrom ? new Date(t.validFrom) : r.validFrom;
    const validTo = t.validTo ? new Date(t.validTo) : r.validTo;
    if (validFrom < r.validFrom) throw new ValidationError('The approval may not start before the period asked for.', { field: 'body.terms.validFrom' }, 'VALIDITY_NOT_NARROWER');
    if (validTo > r.validTo) throw new ValidationError('The approval may not end after the period asked for.', { field: 'body.terms.validTo' }, 'VALIDITY_NOT_NARROWER');
    checkWindow(validFrom, validTo, now, 'body.terms');

    const rowFilter = t.rowFilter ? validateRowFilter(t.rowFilter, queryKeysOf(res), 'body.terms.rowFilter') : null;
    return {
      resourceCode: res.code,
      items,
      clearItems,
      rowFilter,
      rateLimitPerSecond: t.rateLimitPerSecond ?? this.defaults.rateLimitPerSecond,
      dailyQuota: t.dailyQuota ?? this.defaults.dailyQuota,
      validFrom: validFrom.toISOString(),
      validTo: validTo.toISOString(),
    };
  }

  /** The legal basis the catalogue records for not sharing a resource (or a generic one when it no longer says). */
  async notSharedBasis(code: string, authorization: string | undefined): Promise<string> {
    const res = await this.catalogue.resource(code, authorization);
    return res?.sharing.legalBasis?.trim() || `${code} is catalogued as not shared (不予共享).`;
  }

  /**
   * The resource as the catalogue has it now. Before a grant (`atGrant`) a vanished
   * or deprecated resource is a conflict with the request's state, not bad input.
   */
  async published(code: string, authorization: string | undefined, field: string, atGrant = false): Promise<CatalogueResource> {
    const res = await this.catalogue.resource(code, authorization);
    if (!res) {
      if (atGrant) throw new ConflictError('RESOURCE_GONE', `${code} is no longer in the catalogue.`);
      throw new ValidationError(`${code} is not a resource of the catalogue.`, { field }, 'UNKNOWN_RESOURCE');
    }
    if (res.status !== 'published') throw new ConflictError('RESOURCE_NOT_PUBLISHED', `${code} is ${res.status}, not published.`, atGrant ? {} : { field });
    return res;
  }
}

/** Rejects an inverted window and one already over; a start in the past is allowed (the grant starts when issued). */
export function checkWindow(validFrom: Date, validTo: Date, now: Date, field: string): void {
  if (validTo <= validFrom) throw new ValidationError('validTo must be after validFrom.', { field: `${field}.validTo` }, 'INVALID_VALIDITY');
  if (validTo <= now) throw new ValidationError('The validity period is already over.', { field: `${field}.validTo` }, 'VALIDITY_IN_PAST');
}

/** Every item asked for must be an item of the resource; `field` names the first that is not. */
export function checkItems(items: string[], res: CatalogueResource, field: string, atGrant = false): void {
  const keys = new Set(res.items.map((i) => i.key));
  items.forEach((k, i) => {
    if (keys.has(k)) return;
    if (atGrant) throw new ConflictError('ITEM_GONE', `${res.code} no longer has the item ${k}.`);
    throw new ValidationError(`${res.code} has no item ${k}.`, { field: `${field}[${i}]` }, 'UNKNOWN_ITEM');
  });
}

/** The items of `keys` the catalogue declares `secret` (§6: never in clear without an office-recorded legal basis). */
export function secretItems(keys: readonly string[], res: CatalogueResource): string[] {
  const secret = new Set(res.items.filter((i) => i.sensitivity === 'secret').map((i) => i.key));
  return keys.filter((k) => secret.has(k));
}

/** Clear items must be among the items asked for; `field` names the first that is not. */
export function checkClearItems(clearItems: readonly string[], items: readonly string[], field: string): void {
  clearItems.forEach((k, i) => {
    if (!items.includes(k)) throw new ValidationError(`${k} is asked in clear but not asked for.`, { field: `${field}[${i}]` }, 'CLEAR_ITEM_NOT_REQUESTED');
  });
}
