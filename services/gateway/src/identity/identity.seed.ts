import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Role } from '@gdx/auth';
import type { ReferenceUnit } from '@gdx/codes';
import { Unit } from '../entities/unit.entity';
import { Account } from '../entities/account.entity';
import { Client } from '../entities/client.entity';
import { hashClientSecret, hashPassword, newClientSecret, verifyClientSecret, verifyPassword } from './password';

export interface SeededCredentials {
  accounts: { unit: string; username: string; password: string; roles: Role[] }[];
  clients: { unit: string; clientId: string; clientSecret: string }[];
  /** Usernames and client ids whose secrets were reset on this run because `known` did not hold working ones. */
  reset?: string[];
}

/**
 * Demo identity: every reference unit, one admin account per unit (office admin and
 * an auditor for the office), one business client per unit. Passwords and secrets
 * are generated here, never stored in the repository; what already exists is kept.
 * A demo account or client that exists but whose secret `known` does not hold (or holds
 * one that no longer works: a second clone, a deleted credentials file) gets a new
 * secret, so a newcomer can always sign in; it is listed in `reset`.
 */
export async function seedIdentity(ds: DataSource, units: ReferenceUnit[], known: SeededCredentials = { accounts: [], clients: [] }): Promise<SeededCredentials> {
  const out: SeededCredentials & { reset: string[] } = { accounts: [], clients: [], reset: [] };
  for (const ref of units) {
    const unitRepo = ds.getRepository(Unit);
    let unit = await unitRepo.findOneBy({ key: ref.key });
    if (!unit) {
      unit = await unitRepo.save(
        unitRepo.create({
          key: ref.key,
          name: ref.name,
          creditCode: ref.creditCode,
          regionCode: ref.regionCode,
          kind: ref.kind as Unit['kind'],
          contactName: null,
          contactPhone: null,
          status: 'active',
        }),
      );
    }
    const wanted: { username: string; roles: Role[] }[] =
      ref.kind === 'office'
        ? [
            { username: 'office.admin', roles: ['office_admin'] },
            { username: 'office.auditor', roles: ['office_auditor'] },
          ]
        : [{ username: `${ref.key.toLowerCase()}.admin`, roles: ['unit_admin', 'unit_operator'] }];
    for (const w of wanted) {
      const existing = await ds.getRepository(Account).findOneBy({ username: w.username });
      const k = known.accounts.find((a) => a.username === w.username);
      if (existing && k && (await verifyPassword(k.password, existing.passwordHash))) {
        out.accounts.push(k);
        continue;
      }
      const password = randomBytes(9).toString('base64url');
      if (existing) {
        await ds.getRepository(Account).update({ id: existing.id }, { passwordHash: await hashPassword(password), failedLogins: 0, lockedUntil: null });
        out.accounts.push({ unit: ref.key, username: w.username, password, roles: existing.roles });
        out.reset.push(w.username);
        continue;
      }
      await ds.getRepository(Account).save(
        ds.getRepository(Account).create({
          unitId: unit.id,
          username: w.username,
          displayName: `${ref.name} ${w.roles[0]}`,
          roles: w.roles,
          passwordHash: await hashPassword(password),
          failedLogins: 0,
          lockedUntil: null,
          status: 'active',
        }),
      );
      out.accounts.push({ unit: ref.key, username: w.username, password, roles: w.roles });
    }
    const clientId = `${ref.key.toLowerCase()}-demo`;
    const existingClient = await ds.getRepository(Client).findOneBy({ clientId });
    const kc = known.clients.find((c) => c.clientId === clientId);
    if (existingClient && kc && verifyClientSecret(kc.clientSecret, existingClient.secretHash)) {
      out.clients.push(kc);
      continue;
    }
    const secret = newClientSecret();
    if (existingClient) {
      await ds.getRepository(Client).update({ id: existingClient.id }, { secretHash: hashClientSecret(secret) });
      out.clients.push({ unit: ref.key, clientId, clientSecret: secret });
      out.reset.push(clientId);
      continue;
    }
    await ds.getRepository(Client).save(ds.getRepository(Client).create({ unitId: unit.id, clientId, name: `${ref.name} 业务系统`, secretHash: hashClientSecret(secret), status: 'active' }));
    out.clients.push({ unit: ref.key, clientId, clientSecret: secret });
  }
  return out;
}
