import type { EntityManager } from 'typeorm';
import type { EventOf } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import { KnownBatch } from '../entities/known-batch.entity';

/** Notes an accepted batch once (a redelivered event changes nothing). */
export async function recordBatch(m: EntityManager, e: EventOf<'data.updated'>): Promise<void> {
  await m
    .createQueryBuilder()
    .insert()
    .into(KnownBatch)
    .values({ id: uuidv7(), resourceCode: e.data.resourceCode, changeSeq: e.data.changeSeq, providerUnitId: e.data.providerUnitId, acceptedAt: new Date(e.occurredAt) })
    .orIgnore()
    .execute();
}
