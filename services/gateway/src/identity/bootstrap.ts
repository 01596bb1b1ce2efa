import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { referenceData } from '@gdx/codes';
import { createEvent } from '@gdx/contracts';
import { EventPublisher } from '@gdx/events';
import { Account } from '../entities/account.entity';
import { Unit } from '../entities/unit.entity';
import { hashPassword } from './password';

export interface BootstrapResult {
  created: boolean;
  username: string;
  /** Only when created with a generated password: shown once, stored nowhere. */
  password?: string;
  /** Why nothing was done. */
  reason?: string;
}

/**
 * The first office administrator of a production platform (not the demo seed, which writes
 * demo credentials to .gdx/): the office unit from the reference data and one office_admin
 * account, its creation on the audit record like any other (`account.created` through the
 * outbox, actor `system`). Does nothing once any active office administrator exists, so it can
 * run with every release. Everything else (units, accounts, clients) is then made through the API.
 */
export async function bootstrapOfficeAdmin(ds: DataSource, options: { username: string; password?: string; displayName?: string }): Promise<BootstrapResult> {
  if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(options.username)) throw new Error('the username must be 3–64 characters: lower-case letters, digits, dot, dash, underscore');
  if (options.password !== undefined && options.password.length < 12) throw new Error('the password must be at least 12 characters');
  const office = referenceData().units.find((u) => u.kind === 'office');
  if (!office) throw new Error('the reference data names no office unit');
  return new EventPublisher(ds).transaction(async (m, emit) => {
    // One bootstrap at a time, whatever runs it twice.
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('gdx-bootstrap-office-admin'))`);
    const admins: { username: string }[] = await m.query(`SELECT username FROM account WHERE status = 'active' AND 'office_admin' = ANY(roles) LIMIT 1`);
    if (admins.length) return { created: false, username: admins[0].username, reason: `an office administrator exists already (${admins[0].username})` };
    if (await m.getRepository(Account).findOneBy({ username: options.username })) throw new Error(`the username ${options.username} is taken by another account`);
    const units = m.getRepository(Unit);
    const unit =
      (await units.findOneBy({ key: office.key })) ??
      (await units.save(
        units.create({ key: office.key, name: office.name, creditCode: office.creditCode, regionCode: office.regionCode, kind: 'office', contactName: null, contactPhone: null, status: 'active' }),
      ));
    const password = options.password ?? randomBytes(18).toString('base64url');
    const accounts = m.getRepository(Account);
    const account = await accounts.save(
      accounts.create({
        unitId: unit.id,
        username: options.username,
        displayName: options.displayName ?? `${office.name} administrator`,
        roles: ['office_admin'],
        passwordHash: await hashPassword(password),
        failedLogins: 0,
        lockedUntil: null,
        status: 'active',
      }),
    );
    emit(createEvent('account.created', { actor: { kind: 'system' }, subject: account.id, data: { unitId: unit.id, username: account.username, roles: account.roles } }));
    return { created: true, username: account.username, ...(options.password === undefined ? { password } : {}) };
  });
}
