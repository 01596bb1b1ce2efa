import type { EntityManager } from 'typeorm';

/**
 * Writes to the trail run as the restricted role (SELECT and INSERT only) for the
 * rest of the transaction, whatever role the connection logged in as: a bug or an
 * injection in this service still cannot change what was written.
 */
export async function setWriterRole(m: EntityManager, role: string): Promise<void> {
  if (!role) return;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`bad role name ${role}`);
  await m.query(`SET LOCAL ROLE "${role}"`);
}
