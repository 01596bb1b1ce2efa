import { isOffice, requireRole, actorOf, type Principal } from '@gdx/auth';
import { ConflictError, NotFoundError, ValidationError, ForbiddenError } from '@gdx/errors';
import { type EventPublisher } from '@gdx/events';
import { createEvent } from '@gdx/contracts';
import { isValidCreditCode } from '@gdx/codes';
import type { DataSource } from 'typeorm';
import { Unit } from '../entities/unit.entity';
import type { CreateUnit, UpdateUnit } from './identity.schemas';

/** What a caller may see of a unit: contact details only for the office and the unit itself. */
export function viewUnit(u: Unit, viewer: Principal) {
  const base = {
    id: u.id,
    key: u.key,
    name: u.name,
    creditCode: u.creditCode,
    regionCode: u.regionCode,
    kind: u.kind,
    status: u.status,
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
  };
  return isOffice(viewer) || viewer.unitId === u.id ? { ...base, contactName: u.contactName, contactPhone: u.contactPhone } : base;
}

export class UnitService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventPublisher,
  ) {}

  /** The directory of units is known to every authenticated caller: requests must name a provider. */
  async list(viewer: Principal) {
    const units = await this.db.getRepository(Unit).find({ order: { key: 'ASC' } });
    return units.map((u) => viewUnit(u, viewer));
  }

  async get(viewer: Principal, id: string) {
    const u = await this.db.getRepository(Unit).findOneBy({ id });
    if (!u) throw new NotFoundError('The unit');
    return viewUnit(u, viewer);
  }

  async create(actor: Principal, input: CreateUnit, traceparent?: string) {
    requireRole(actor, 'office_admin');
    if (!isValidCreditCode(input.creditCode))
      throw new ValidationError('creditCode is not a valid unified social credit code (GB 32100 check character).', { field: 'body.creditCode' }, 'INVALID_CREDIT_CODE');
    return this.events.transaction(async (m, emit) => {
      const repo = m.getRepository(Unit);
      if (await repo.exist({ where: [{ key: input.key }, { creditCode: input.creditCode }] })) {
        throw new ConflictError('UNIT_EXISTS', 'A unit with this key or credit code exists.', { field: 'body.creditCode' });
      }
      const unit = await repo.save(repo.create({ ...input, contactName: input.contactName ?? null, contactPhone: input.contactPhone ?? null, status: 'active' }));
      emit(
        createEvent('unit.created', {
          actor: actorOf(actor),
          subject: unit.id,
          data: { key: unit.key, name: unit.name, creditCode: unit.creditCode, kind: unit.kind, regionCode: unit.regionCode },
          traceparent,
        }),
      );
      return viewUnit(unit, actor);
    });
  }

  async update(actor: Principal, id: string, input: UpdateUnit, traceparent?: string) {
    const own = actor.unitId === id && actor.roles.includes('unit_admin');
    if (!actor.roles.includes('office_admin')) {
      if (!own) throw new ForbiddenError('Only the office, or the unit’s own admin for its contact person, may change a unit.');
      const extra = Object.keys(input).filter((k) => k !== 'contactName' && k !== 'contactPhone');
      if (extra.length) throw new ForbiddenError(`A unit admin may change only the contact person, not ${extra.join(', ')}.`, 'FIELD_NOT_EDITABLE', { field: `body.${extra[0]}` });
    }
    return this.events.transaction(async (m, emit) => {
      const repo = m.getRepository(Unit);
      const unit = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!unit) throw new NotFoundError('The unit');
      Object.assign(unit, input);
      await repo.save(unit);
      emit(createEvent('unit.updated', { actor: actorOf(actor), subject: unit.id, data: { changed: Object.keys(input) }, traceparent }));
      return viewUnit(unit, actor);
    });
  }
}
