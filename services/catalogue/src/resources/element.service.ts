import { isOffice, type Principal } from '@gdx/auth';
import { ConflictError } from '@gdx/errors';
import type { DataSource, EntityManager } from 'typeorm';
import { ElementUse } from '../entities/element-use.entity';
import type { Resource, ResourceStatus } from '../entities/resource.entity';

interface UseRow {
  element: string;
  item_key: string;
  authoritative: boolean;
  code: string;
  name: string;
  status: ResourceStatus;
  provider_unit_id: string;
  provider_unit_name: string;
}

/** One data, one source (一数一源): which resource is the authoritative source of each standard data element. */
export class ElementService {
  constructor(private readonly db: DataSource) {}

  /**
   * Makes the element uses of `resource` match its items. A second authoritative claim
   * is refused naming the existing source; the partial unique index backs this up
   * against concurrent claims.
   */
  async sync(m: EntityManager, resource: Resource, body = 'body'): Promise<void> {
    for (const [i, item] of resource.items.entries()) {
      if (!item.element || !item.authoritative) continue;
      const [owner] = await m.query<Pick<UseRow, 'item_key' | 'code' | 'name' | 'provider_unit_name'>[]>(
        `SELECT eu.item_key, r.code, r.name, r.provider_unit_name FROM element_use eu JOIN resource r ON r.id = eu.resource_id
          WHERE eu.element = $1 AND eu.authoritative AND eu.resource_id <> $2`,
        [item.element, resource.id],
      );
      if (owner) {
        throw new ConflictError(
          'ELEMENT_CLAIMED',
          `${item.element} already has an authoritative source: ${owner.code} ${owner.name} (${owner.provider_unit_name}), item ${owner.item_key}. Mark this item as a copy (authoritative: false).`,
          {
            field: `${body}.items[${i}].element`,
            source: { code: owner.code, name: owner.name, providerUnitName: owner.provider_unit_name, itemKey: owner.item_key },
          },
        );
      }
    }
    await m.delete(ElementUse, { resourceId: resource.id });
    // Inserted in element order, so two resources claiming the same elements wait on each other instead of deadlocking.
    const uses = resource.items
      .filter((i) => i.element)
      .sort((a, b) => (a.element! < b.element! ? -1 : a.element! > b.element! ? 1 : 0))
      .map((i) => m.create(ElementUse, { element: i.element, resourceId: resource.id, itemKey: i.key, authoritative: !!i.authoritative }));
    if (uses.length) await m.save(uses);
  }

  /** A deprecated resource provides nothing any more: its claims are freed for a successor. */
  async release(m: EntityManager, resourceId: string): Promise<void> {
    await m.delete(ElementUse, { resourceId });
  }

  /** Elements as far as the caller may see the resources that carry them (drafts of other units stay hidden). */
  async list(viewer: Principal) {
    const office = isOffice(viewer);
    const rows = await this.db.query<UseRow[]>(
      `SELECT eu.element, eu.item_key, eu.authoritative, r.code, r.name, r.status, r.provider_unit_id, r.provider_unit_name
         FROM element_use eu JOIN resource r ON r.id = eu.resource_id
        WHERE $1 OR r.status <> 'draft' OR r.provider_unit_id = $2
        ORDER BY eu.element, r.code, eu.item_key`,
      [office, viewer.unitId],
    );
    const byName = new Map<
      string,
      {
        name: string;
        source: null | { code: string; name: string; itemKey: string; providerUnitId: string; providerUnitName: string; status: ResourceStatus };
        copies: { code: string; itemKey: string }[];
      }
    >();
    for (const row of rows) {
      let e = byName.get(row.element);
      if (!e) byName.set(row.element, (e = { name: row.element, source: null, copies: [] }));
      if (row.authoritative) e.source = { code: row.code, name: row.name, itemKey: row.item_key, providerUnitId: row.provider_unit_id, providerUnitName: row.provider_unit_name, status: row.status };
      else e.copies.push({ code: row.code, itemKey: row.item_key });
    }
    return [...byName.values()];
  }
}
