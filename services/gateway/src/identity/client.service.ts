import { randomBytes } from 'node:crypto';
import { actorOf, hasRole, isOffice, type ClientScope, type Principal } from '@gdx/auth';
import { ForbiddenError, NotFoundError, ValidationError } from '@gdx/errors';
import { type EventPublisher } from '@gdx/events';
import { createEvent } from '@gdx/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import { Client } from '../entities/client.entity';
import { Unit } from '../entities/unit.entity';
import { hashClientSecret, newClientSecret } from './password';
import { canManageUnit } from './account.service';
import type { UpdateClient } from './identity.schemas';

export function viewClient(c: Client) {
  return { id: c.id, unitId: c.unitId, clientId: c.clientId, name: c.name, status: c.status, scopes: c.scopes ?? [], createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString() };
}

/** Business-system clients: the secret is shown once, at creation or rotation, and stored hashed. */
export class ClientService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventPublisher,
  ) {}

  async list(actor: Principal, unitId?: string) {
    if (!isOffice(actor) && !hasRole(actor, 'unit_admin')) throw new ForbiddenError('Only administrators list clients.', 'ROLE_REQUIRED');
    if (!isOffice(actor) && unitId && unitId !== actor.unitId) return [];
    const scope = isOffice(actor) ? unitId : actor.unitId;
    const rows = await this.db.getRepository(Client).find({ where: scope ? { unitId: scope } : {}, order: { createdAt: 'ASC' } });
    return rows.map(viewClient);
  }

  async get(actor: Principal, id: string) {
    const c = await this.db.getRepository(Client).findOneBy({ id });
    if (!c || !(isOffice(actor) || canManageUnit(actor, c.unitId))) throw new NotFoundError('The client');
    return viewClient(c);
  }

  async create(actor: Principal, input: { unitId: string; name: string; scopes?: ClientScope[] }, traceparent?: string) {
    if (!canManageUnit(actor, input.unitId)) throw new ForbiddenError('You may create clients only for your own unit.', 'NOT_YOUR_UNIT', { field: 'body.unitId' });
    return this.events.transaction(async (m, emit) => {
      const unit = await m.getRepository(Unit).findOneBy({ id: input.unitId });
      if (!unit) throw new ValidationError('unitId names no unit.', { field: 'body.unitId' }, 'UNKNOWN_UNIT');
      const secret = newClientSecret();
      const repo = m.getRepository(Client);
      const client = await repo.save(
        repo.create({
          unitId: unit.id,
          clientId: `${unit.key.toLowerCase()}-${randomBytes(6).toString('hex')}`,
          name: input.name,
          secretHash: hashClientSecret(secret),
          status: 'active',
          scopes: input.scopes ?? [],
        }),
      );
      emit(createEvent('client.created', { actor: actorOf(actor), subject: client.id, data: { unitId: unit.id, clientId: client.clientId, name: client.name, scopes: client.scopes }, traceparent }));
      return { ...viewClient(client), clientSecret: secret };
    });
  }

  /**
   * Renames a client or sets its scopes (§2: given by the admin of its own unit; another unit's
   * client is 404). Taking a scope away revokes the tokens that carry it, on every service.
   */
  async update(actor: Principal, id: string, input: UpdateClient, traceparent?: string) {
    return this.events.transaction(async (m, emit) => {
      const client = await this.lockManageable(m, actor, id);
      if (client.status !== 'active') throw new ValidationError('A revoked client cannot be changed.', {}, 'CLIENT_REVOKED');
      const removed = input.scopes ? (client.scopes ?? []).some((s) => !input.scopes!.includes(s)) : false;
      if (input.name !== undefined) client.name = input.name;
      if (input.scopes) client.scopes = [...input.scopes];
      await m.getRepository(Client).save(client);
      const data = { clientId: client.clientId, changed: Object.keys(input), scopes: client.scopes, ...(removed ? { notBefore: Date.now() } : {}) };
      emit(createEvent('client.updated', { actor: actorOf(actor), subject: client.id, data, traceparent }));
      return viewClient(client);
    });
  }

  async rotateSecret(actor: Principal, id: string, traceparent?: string) {
    return this.events.transaction(async (m, emit) => {
      const client = await this.lockManageable(m, actor, id);
      if (client.status !== 'active') throw new ValidationError('A revoked client gets no new secret.', {}, 'CLIENT_REVOKED');
      const secret = newClientSecret();
      client.secretHash = hashClientSecret(secret);
      await m.getRepository(Client).save(client);
      emit(createEvent('client.secret_rotated', { actor: actorOf(actor), subject: client.id, data: { clientId: client.clientId }, traceparent }));
      return { ...viewClient(client), clientSecret: secret };
    });
  }

  async revoke(actor: Principal, id: string, traceparent?: string) {
    return this.events.transaction(async (m, emit) => {
      const client = await this.lockManageable(m, actor, id);
      client.status = 'revoked';
      await m.getRepository(Client).save(client);
      emit(createEvent('client.revoked', { actor: actorOf(actor), subject: client.id, data: { clientId: client.clientId, notBefore: Date.now() }, traceparent }));
      return viewClient(client);
    });
  }

  private async lockManageable(m: EntityManager, actor: Principal, id: string): Promise<Client> {
    const c = await m.getRepository(Client).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!c || !canManageUnit(actor, c.unitId)) throw new NotFoundError('The client');
    return c;
  }
}
