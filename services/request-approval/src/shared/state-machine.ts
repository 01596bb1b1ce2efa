import type { EntityManager } from 'typeorm';
import type { Principal } from '@gdx/auth';
import { ConflictError } from '@gdx/errors';
import type { Actor, CaseStatus, CaseType, GrantStatus } from '@gdx/contracts';
import { actorOf } from '@gdx/auth';
import { uuidv7 } from '@gdx/database';
import { Transition } from '../entities/transition.entity';
import type { RequestStatus } from '../entities/share-request.entity';

/**
 * The state machines, as data: an action is legal only from the states listed.
 * Everything that changes a status goes through `assertTransition`, so an illegal
 * step (approving twice, resuming a revoked grant) is one 409 with one code.
 */
export const REQUEST_ACTIONS = {
  filing: ['awaiting_filing'],
  review: ['provider_review'],
  confirm: ['office_review'],
  return: ['office_review'],
  refuse: ['office_review'],
  withdraw: ['awaiting_filing', 'provider_review', 'office_review'],
  delay: ['provider_review'],
} as const satisfies Record<string, readonly RequestStatus[]>;

export const GRANT_ACTIONS = {
  suspend: ['active'],
  resume: ['suspended'],
  revoke: ['active', 'suspended'],
  expire: ['active', 'suspended'],
  // A newer grant for the same consumer unit, resource and mode takes this one's place; superseded is terminal.
  supersede: ['active', 'suspended'],
} as const satisfies Record<string, readonly GrantStatus[]>;

/**
 * Cases (§5, Art. 18, 29, 30), one table per type. `overdue` flags without moving
 * (the sweeper); `circulate` is what an order overdue or returned twice becomes.
 */
export const CASE_ACTIONS = {
  objection: {
    answer: ['awaiting_answer'],
    accept: ['answered'],
    // From awaiting_answer only once overdue (the provider did not answer): checked by the service.
    escalate: ['answered', 'awaiting_answer'],
    decide: ['office_review'],
    withdraw: ['awaiting_answer', 'answered'],
    overdue: ['awaiting_answer'],
  },
  complaint: {
    assign: ['submitted', 'investigating'],
    answer: ['investigating'],
    withdraw: ['submitted', 'investigating'],
    overdue: ['submitted', 'investigating'],
  },
  rectification: {
    report: ['ordered'],
    accept: ['reported'],
    return: ['reported'],
    overdue: ['ordered'],
    circulate: ['ordered', 'reported'],
  },
} as const satisfies Record<CaseType, Record<string, readonly CaseStatus[]>>;

export type CaseAction<T extends CaseType = CaseType> = T extends CaseType ? keyof (typeof CASE_ACTIONS)[T] & string : never;

export function assertCaseTransition<T extends CaseType>(type: T, status: CaseStatus, action: CaseAction<T>): void {
  const table = CASE_ACTIONS[type] as Record<string, readonly CaseStatus[]>;
  if (!table[action]?.includes(status)) {
    throw new ConflictError('ILLEGAL_TRANSITION', `A ${type} that is ${status} cannot take the action ${action}.`, { currentStatus: status, action });
  }
}

export type RequestAction = keyof typeof REQUEST_ACTIONS;
export type GrantAction = keyof typeof GRANT_ACTIONS;

export function assertTransition(kind: 'request', status: RequestStatus, action: RequestAction): void;
export function assertTransition(kind: 'grant', status: GrantStatus, action: GrantAction): void;
export function assertTransition(kind: 'request' | 'grant', status: string, action: string): void {
  const table: Record<string, readonly string[]> = kind === 'request' ? REQUEST_ACTIONS : GRANT_ACTIONS;
  if (!table[action]?.includes(status)) {
    throw new ConflictError('ILLEGAL_TRANSITION', `A ${kind} that is ${status} cannot take the action ${action}.`, { currentStatus: status, action });
  }
}

/** Who caused a change: a caller, or the platform itself (deadlines, expiry, a deprecated resource). */
export type ChangeActor = Principal | 'system';

export function eventActor(actor: ChangeActor): Actor {
  return actor === 'system' ? { kind: 'system' } : actorOf(actor);
}

export async function recordTransition(
  manager: EntityManager,
  t: { subjectType: 'request' | 'grant' | 'case'; subjectId: string; action: string; from: string | null; to: string; actor: ChangeActor; at: Date; reason?: string | null },
): Promise<void> {
  const system = t.actor === 'system';
  await manager.insert(Transition, {
    id: uuidv7(),
    subjectType: t.subjectType,
    subjectId: t.subjectId,
    action: t.action,
    fromStatus: t.from,
    toStatus: t.to,
    actorKind: system ? 'system' : (t.actor as Principal).kind,
    actorUnitId: system ? null : (t.actor as Principal).unitId,
    actorId: system ? null : (t.actor as Principal).subject,
    at: t.at,
    reason: t.reason ?? null,
  });
}
