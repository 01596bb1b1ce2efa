import { actorOf, hasRole, isOffice, type Principal, type Role } from '@gdx/auth';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '@gdx/errors';
import { type EventPublisher } from '@gdx/events';
import { createEvent } from '@gdx/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import { Account } from '../entities/account.entity';
import { Unit } from '../entities/unit.entity';
import { hashPassword, verifyPassword } from './password';
import type { CreateAccount, UpdateAccount } from './identity.schemas';

const OFFICE_ROLES: Role[] = ['office_admin', 'office_auditor'];

export function viewAccount(a: Account, now = new Date()) {
  return {
    id: a.id,
    unitId: a.unitId,
    username: a.username,
    displayName: a.displayName,
    roles: a.roles.filter((r): r is Exclude<Role, 'client'> => r !== 'client'),
    status: a.status,
    locked: !!a.lockedUntil && a.lockedUntil > now,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

/**
 * Office admins manage every unit's accounts; a unit admin manages its own unit's
 * accounts and nobody else's. Anyone else, or another unit, gets 404: the caller
 * learns nothing about accounts it may not manage.
 */
export function canManageUnit(actor: Principal, unitId: string): boolean {
  return actor.roles.includes('office_admin') || (actor.roles.includes('unit_admin') && actor.unitId === unitId);
}

export class AccountService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventPublisher,
  ) {}

  async list(actor: Principal, unitId?: string) {
    if (!isOffice(actor) && !hasRole(actor, 'unit_admin')) throw new ForbiddenError('Only administrators list accounts.', 'ROLE_REQUIRED');
    const scope = isOffice(actor) ? unitId : actor.unitId;
    if (!isOffice(actor) && unitId && unitId !== actor.unitId) return [];
    const rows = await this.db.getRepository(Account).find({ where: scope ? { unitId: scope } : {}, order: { username: 'ASC' } });
    return rows.map((a) => viewAccount(a));
  }

  async get(actor: Principal, id: string) {
    const a = await this.db.getRepository(Account).findOneBy({ id });
    if (!a || !(isOffice(actor) || canManageUnit(actor, a.unitId) || (actor.kind === 'account' && actor.subject === a.id))) throw new NotFoundError('The account');
    return viewAccount(a);
  }

  async create(actor: Principal, input: CreateAccount, traceparent?: string) {
    if (!canManageUnit(actor, input.unitId)) throw new ForbiddenError('You may create accounts only for your own unit.', 'NOT_YOUR_UNIT', { field: 'body.unitId' });
    return this.events.transaction(async (m, emit) => {
      const unit = await m.getRepository(Unit).findOneBy({ id: input.unitId });
      if (!unit) throw new ValidationError('unitId names no unit.', { field: 'body.unitId' }, 'UNKNOWN_UNIT');
      this.checkRoles(actor, unit, input.roles);
      const repo = m.getRepository(Account);
      if (await repo.existsBy({ username: input.username })) throw new ConflictError('USERNAME_TAKEN', 'This username is taken.', { field: 'body.username' });
      const account = await repo.save(
        repo.create({
          unitId: unit.id,
          username: input.username,
          displayName: input.displayName,
          roles: input.roles,
          passwordHash: await hashPassword(input.password),
          failedLogins: 0,
          lockedUntil: null,
          status: 'active',
        }),
      );
      emit(createEvent('account.created', { actor: actorOf(actor), subject: account.id, data: { unitId: unit.id, username: account.username, roles: account.roles }, traceparent }));
      return viewAccount(account);
    });
  }

  async update(actor: Principal, id: string, input: UpdateAccount, traceparent?: string) {
    return this.events.transaction(async (m, emit) => {
      const account = await this.lockManageable(m, actor, id);
      if (input.roles) {
        const unit = await m.getRepository(Unit).findOneByOrFail({ id: account.unitId });
        this.checkRoles(actor, unit, input.roles);
      }
      const rolesBefore = [...account.roles].sort().join(',');
      Object.assign(account, input);
      await m.getRepository(Account).save(account);
      // Disabled, or its roles changed: the tokens it holds (which carry the old roles) stop working on every service.
      const revoke = account.status !== 'active' || [...account.roles].sort().join(',') !== rolesBefore;
      const data = { changed: Object.keys(input), roles: account.roles, status: account.status, ...(revoke ? { notBefore: Date.now() } : {}) };
      emit(createEvent('account.updated', { actor: actorOf(actor), subject: account.id, data, traceparent }));
      return viewAccount(account);
    });
  }

  /** Admins reset; an account changes its own password by giving the current one. */
  async setPassword(actor: Principal, id: string, password: string, currentPassword: string | undefined, traceparent?: string) {
    const self = actor.kind === 'account' && actor.subject === id;
    return this.events.transaction(async (m, emit) => {
      const repo = m.getRepository(Account);
      const account = self ? await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } }) : await this.lockManageable(m, actor, id);
      if (!account) throw new NotFoundError('The account');
      if (self && !(currentPassword && (await verifyPassword(currentPassword, account.passwordHash)))) {
        throw new ForbiddenError('The current password is wrong.', 'WRONG_PASSWORD', { field: 'body.currentPassword' });
      }
      account.passwordHash = await hashPassword(password);
      account.failedLogins = 0;
      account.lockedUntil = null;
      await repo.save(account);
      emit(createEvent('account.password_changed', { actor: actorOf(actor), subject: account.id, data: { by: self ? 'self' : 'admin', notBefore: Date.now() }, traceparent }));
    });
  }

  async unlock(actor: Principal, id: string, traceparent?: string) {
    return this.events.transaction(async (m, emit) => {
      const account = await this.lockManageable(m, actor, id);
      account.failedLogins = 0;
      account.lockedUntil = null;
      await m.getRepository(Account).save(account);
      emit(createEvent('account.unlocked', { actor: actorOf(actor), subject: account.id, data: {}, traceparent }));
      return viewAccount(account);
    });
  }

  private async lockManageable(m: EntityManager, actor: Principal, id: string): Promise<Account> {
    const account = await m.getRepository(Account).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!account || !canManageUnit(actor, account.unitId)) throw new NotFoundError('The account');
    return account;
  }

  private checkRoles(actor: Principal, unit: Unit, roles: Role[]): void {
    const office = roles.filter((r) => OFFICE_ROLES.includes(r));
    if (office.length && unit.kind !== 'office') throw new ValidationError(`Office roles (${office.join(', ')}) belong to accounts of the office only.`, { field: 'body.roles' }, 'ROLE_NOT_ALLOWED');
    if (office.length && !actor.roles.includes('office_admin')) throw new ForbiddenError('Only an office admin grants office roles.', 'ROLE_NOT_ALLOWED', { field: 'body.roles' });
  }
}
