import type { DataSource } from 'typeorm';
import { referenceData } from '@gdx/codes';
import { appendToOutbox } from '@gdx/events';
import { createEvent } from '@gdx/contracts';
import { withTransaction } from '@gdx/database';
import { Resource } from '../entities/resource.entity';
import { ElementService } from '../resources/element.service';
import { storeNewResource } from '../resources/resource.service';
import { checkResource } from '../resources/resource.validator';
import type { CreateResource } from '../resources/resource.schemas';

interface ReferenceResource extends Omit<CreateResource, 'providerUnitId'> {
  provider: string;
}

/**
 * Loads the reference catalogue (libs/codes reference.json) as published resources;
 * codes that exist are skipped, so it can run at every start. The first reference
 * resource naming a data element becomes its authoritative source (the base databases
 * come first), unless some resource already claims it. Each resource's
 * `resource.published` event goes through the outbox, so other services learn of the
 * seeded catalogue exactly as of any other. Returns the codes it added.
 */
export async function seedCatalogue(dataSource: DataSource, unitIdsByKey: Record<string, string>): Promise<string[]> {
  const opened = !dataSource.isInitialized;
  if (opened) await dataSource.initialize();
  try {
    const ref = referenceData();
    const elements = new ElementService(dataSource);
    const added: string[] = [];
    for (const raw of ref.resources as unknown as ReferenceResource[]) {
      const { provider, ...rest } = raw;
      const unitRef = ref.units.find((u) => u.key === provider);
      const unitId = unitIdsByKey[provider];
      if (!unitRef || !unitId) throw new Error(`seedCatalogue: no unit id for provider ${provider} of ${raw.code}`);
      await withTransaction(dataSource, async (m) => {
        if (await m.existsBy(Resource, { code: raw.code })) return;
        const claimed = new Set((await m.query<{ element: string }[]>('SELECT element FROM element_use WHERE authoritative')).map((r) => r.element));
        const items = rest.items.map((i) => {
          if (!i.element) return i;
          const first = !claimed.has(i.element);
          claimed.add(i.element);
          return { ...i, authoritative: first };
        });
        const fields = checkResource({ ...rest, items, providerUnitId: unitId }, `reference ${raw.code}`);
        const actor = { kind: 'system' as const };
        const view = await storeNewResource(m, { elements }, fields, { id: unitId, name: unitRef.name, creditCode: unitRef.creditCode }, { status: 'published', actor, body: `reference ${raw.code}` });
        await appendToOutbox(m, [createEvent('resource.published', { actor, subject: view.code, data: view })]);
        added.push(view.code);
      });
    }
    return added;
  } finally {
    if (opened) await dataSource.destroy();
  }
}
