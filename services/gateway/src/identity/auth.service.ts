import type { DataSource } from 'typeorm';
import { AppError } from '@gdx/errors';
import { type EventPublisher } from '@gdx/events';
import { createEvent, type Actor } from '@gdx/contracts';
import type { DeclaredEvent, EventData } from '@gdx/contracts';
import { Account } from '../entities/account.entity';
import { Client } from '../entities/client.entity';
import { Unit } from '../entities/unit.entity';
import { DUMMY_PASSWORD_HASH, verifyClientSecret, verifyPassword } from './password';
import type { TokenService, IssuedToken } from './token.service';

/** RFC 6749 §5.2: the token endpoint answers with its own error body, not problem+json. */
export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope',
    readonly description: string,
  ) {
    super(description);
  }
}

export interface RequestContext {
  ip: string;
  requestId: string;
  traceparent?: string;
  /** Told once the call's own event is in the outbox (the gateway then does not record the call again). */
  recorded?: () => void;
}

const anonymous: Actor = { kind: 'anonymous' };

export class AuthService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventPublisher,
    private readonly tokens: TokenService,
    private readonly lockout: { threshold: number; minutes: number },
  ) {}

  /** `scope` (RFC 6749 §3.3): a space-separated subset of the client's scopes; left out, all of them. */
  async clientCredentials(clientId: string, secret: string, ctx: RequestContext, scope?: string): Promise<IssuedToken> {
    const client = await this.db.getRepository(Client).findOneBy({ clientId });
    const unit = client ? await this.db.getRepository(Unit).findOneBy({ id: client.unitId }) : null;
    const ok = !!client && verifyClientSecret(secret, client.secretHash) && client.status === 'active' && unit?.status === 'active';
    if (!client || !ok) {
      await this.record(
        'auth.token_refused',
        client ? { kind: 'client', unitId: client.unitId, clientId: client.id } : anonymous,
        client?.id ?? clientId,
        { clientId, reason: 'invalid_client', ip: ctx.ip, requestId: ctx.requestId },
        ctx,
      );
      throw new OAuthError(401, 'invalid_client', 'Client authentication failed.');
    }
    const held = client.scopes ?? [];
    const asked = scope === undefined ? held : scope.split(' ').filter(Boolean);
    if (asked.some((x) => !(held as string[]).includes(x))) throw new OAuthError(400, 'invalid_scope', 'The client was not given every scope requested.');
    const token = this.tokens.issue({ kind: 'client', id: client.id, unitId: client.unitId, roles: ['client'], scopes: asked });
    await this.record(
      'auth.token_issued',
      { kind: 'client', unitId: client.unitId, clientId: client.id },
      client.id,
      { clientId, jti: token.jti, expiresIn: token.expires_in, ip: ctx.ip, requestId: ctx.requestId },
      ctx,
    );
    return { access_token: token.access_token, token_type: token.token_type, expires_in: token.expires_in, ...(token.scope ? { scope: token.scope } : {}) };
  }

  async login(username: string, password: string, ctx: RequestContext): Promise<IssuedToken> {
    const repo = this.db.getRepository(Account);
    const account = await repo.findOneBy({ username });
    // A locked account answers exactly like an unknown name or a wrong password (status, code,
    // body, and the same scrypt work against the dummy hash): the lockout must not tell which
    // names exist. It still cannot sign in, even with the right password, and the trail says why.
    if (account?.lockedUntil && account.lockedUntil > new Date()) {
      await verifyPassword(password, DUMMY_PASSWORD_HASH);
      await this.record('auth.login_failed', actorOfAccount(account), account.id, { username, reason: 'locked', ip: ctx.ip, requestId: ctx.requestId }, ctx);
      throw invalidCredentials();
    }
    const valid = await verifyPassword(password, account?.passwordHash ?? DUMMY_PASSWORD_HASH);
    const unit = account ? await this.db.getRepository(Unit).findOneBy({ id: account.unitId }) : null;
    if (!account || !valid || account.status !== 'active' || unit?.status !== 'active') {
      if (account && !valid) await this.countFailure(account, ctx);
      else
        await this.record(
          'auth.login_failed',
          account ? actorOfAccount(account) : anonymous,
          account?.id ?? username,
          { username, reason: account ? 'disabled' : 'unknown_user', ip: ctx.ip, requestId: ctx.requestId },
          ctx,
        );
      throw invalidCredentials();
    }
    if (account.failedLogins) await repo.update({ id: account.id }, { failedLogins: 0 });
    const token = this.tokens.issue({ kind: 'account', id: account.id, unitId: account.unitId, roles: account.roles });
    await this.record('auth.login_succeeded', actorOfAccount(account), account.id, { username, jti: token.jti, ip: ctx.ip, requestId: ctx.requestId }, ctx);
    return { access_token: token.access_token, token_type: token.token_type, expires_in: token.expires_in };
  }

  /** Counts the failure atomically (concurrent guesses cannot slip past the threshold) and locks at the threshold. */
  private async countFailure(account: Account, ctx: RequestContext): Promise<void> {
    await this.events.transaction(async (m, emit) => {
      const [row] = await m.query<[{ locked_until: Date | null }[], number]>(
        `UPDATE account SET failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
                locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + make_interval(mins => $3) ELSE locked_until END,
                updated_at = now()
          WHERE id = $1 RETURNING locked_until`,
        [account.id, this.lockout.threshold, this.lockout.minutes],
      );
      const locked = !!row?.[0]?.locked_until && new Date(row[0].locked_until) > new Date();
      emit(
        createEvent('auth.login_failed', {
          actor: actorOfAccount(account),
          subject: account.id,
          data: { username: account.username, reason: 'bad_password', ip: ctx.ip, requestId: ctx.requestId },
          traceparent: ctx.traceparent,
        }),
      );
      if (locked)
        emit(
          createEvent('auth.locked_out', {
            actor: actorOfAccount(account),
            subject: account.id,
            data: { username: account.username, minutes: this.lockout.minutes, ip: ctx.ip, requestId: ctx.requestId },
            traceparent: ctx.traceparent,
          }),
        );
    });
    ctx.recorded?.();
  }

  private async record<T extends 'auth.token_issued' | 'auth.token_refused' | 'auth.login_succeeded' | 'auth.login_failed'>(
    type: T,
    actor: Actor,
    subject: string,
    data: EventData<T>,
    ctx: RequestContext,
  ): Promise<void> {
    await this.events.transaction(async (_m, emit) => {
      emit(createEvent<T>(type, { actor, subject, data, traceparent: ctx.traceparent }) as DeclaredEvent);
    });
    ctx.recorded?.();
  }
}

function invalidCredentials(): AppError {
  return new AppError(401, 'INVALID_CREDENTIALS', 'Unauthorized', 'The username or password is wrong.');
}

function actorOfAccount(a: Account): Actor {
  return { kind: 'account', unitId: a.unitId, accountId: a.id };
}
