import type { Resource, ResourceItem } from '../entities/resource.entity';
import type { ResourceView } from './resource.schemas';
import { defaultMaskOf } from './resource.validator';

/** Optional members are left out rather than sent as null, as the input had them. */
function viewItem(i: ResourceItem): ResourceItem {
  const out: ResourceItem = { key: i.key, label: i.label, type: i.type, required: i.required, queryKey: i.queryKey, sensitivity: i.sensitivity };
  if (i.length !== undefined) out.length = i.length;
  if (i.element !== undefined) {
    out.element = i.element;
    out.authoritative = !!i.authoritative;
  }
  if (i.codeTable !== undefined) out.codeTable = i.codeTable;
  if (i.sharing !== undefined) out.sharing = i.sharing;
  if (i.mask !== undefined) out.mask = typeof i.mask === 'string' ? i.mask : { keepStart: i.mask.keepStart, keepEnd: i.mask.keepEnd };
  // Stored before masks were declared: the default, as the validator would give it now.
  else if (i.sensitivity === 'personal' || i.sensitivity === 'secret') out.mask = defaultMaskOf(i.element);
  if (i.scale !== undefined) out.scale = i.scale;
  return out;
}

/** The one shape of a resource: API answers, version snapshots and event data all use it. */
export function viewResource(r: Resource): ResourceView {
  const items = r.items.map(viewItem);
  return {
    id: r.id,
    code: r.code,
    classification: r.classification,
    name: r.name,
    summary: r.summary,
    providerUnitId: r.providerUnitId,
    providerUnitName: r.providerUnitName,
    providerCreditCode: r.providerCreditCode,
    format: r.format,
    items,
    queryKeys: items.filter((i) => i.queryKey).map((i) => i.key),
    sharing: { type: r.sharing.type, ...(r.sharing.conditions ? { conditions: r.sharing.conditions } : {}), ...(r.sharing.legalBasis ? { legalBasis: r.sharing.legalBasis } : {}) },
    methods: r.methods,
    open: { open: r.open.open, ...(r.open.conditions ? { conditions: r.open.conditions } : {}) },
    updateCycle: r.updateCycle,
    relatedCodes: r.relatedCodes,
    status: r.status,
    version: r.version,
    publishedAt: r.publishedAt ? r.publishedAt.toISOString() : null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/**
 * A resource from a raw row whose columns are `${prefix}${snake_case column}` (what
 * TypeORM's getRawMany gives for an alias). Hand-written for the search's hot path.
 */
export function resourceFromRow(row: Record<string, unknown>, prefix: string): Resource {
  const c = (name: string) => row[prefix + name];
  return {
    id: c('id'),
    code: c('code'),
    classification: c('classification'),
    classCode: c('class_code'),
    baseDatabase: c('base_database'),
    name: c('name'),
    summary: c('summary'),
    providerUnitId: c('provider_unit_id'),
    providerUnitName: c('provider_unit_name'),
    providerCreditCode: c('provider_credit_code'),
    format: c('format'),
    items: c('items'),
    sharingType: c('sharing_type'),
    sharing: c('sharing'),
    methods: c('methods'),
    open: c('open'),
    updateCycle: c('update_cycle'),
    relatedCodes: c('related_codes'),
    status: c('status'),
    version: c('version'),
    publishedAt: c('published_at'),
    createdAt: c('created_at'),
    updatedAt: c('updated_at'),
  } as Resource;
}
