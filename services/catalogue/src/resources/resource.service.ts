import { actorOf, hasRole, isOffice, requireRole, type Principal } from '@gdx/auth';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '@gdx/errors';
import { type EventPublisher } from '@gdx/events';
import { createEvent, type Actor, type DeclaredEvent } from '@gdx/contracts';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { Resource, type ResourceStatus } from '../entities/resource.entity';
import { ResourceVersion, type VersionChange } from '../entities/resource-version.entity';
import type { ElementService } from './element.service';
import type { ProviderUnit, UnitDirectoryClient } from './unit-directory.client';
import { checkResource, inputOf, type ResourceFields } from './resource.validator';
import type { CreateResource, ResourceView, UpdateResource } from './resource.schemas';
import { viewResource } from './resource.view';

/** Who is asking, with what they bring along for calls the catalogue makes on their behalf. */
export interface CallContext {
  principal: Principal;
  authorization?: string;
  requestId?: string;
  traceparent?: string;
}

/** The fields whose change makes a new version, in the order `changed` lists them. */
const TRACKED = ['name', 'summary', 'providerUnitId', 'format', 'items', 'queryKeys', 'sharing', 'methods', 'open', 'updateCycle', 'relatedCodes'] as const;

/** Published resources are everyone's to read; a draft only its provider's and the office's. */
export function canSee(p: Principal, r: Pick<Resource, 'status' | 'providerUnitId'>): boolean {
  return r.status !== 'draft' || isOffice(p) || p.unitId === r.providerUnitId;
}

/** The provider's unit admins look after its entries; the office admin may change anything. */
export function canEdit(p: Principal, r: Pick<Resource, 'providerUnitId'>): boolean {
  return hasRole(p, 'office_admin') || (hasRole(p, 'unit_admin') && p.unitId === r.providerUnitId);
}

export function fieldsOf(r: Resource): ResourceFields {
  return {
    code: r.code,
    classification: r.classification,
    classCode: r.classCode,
    baseDatabase: r.baseDatabase,
    name: r.name,
    summary: r.summary,
    providerUnitId: r.providerUnitId,
    format: r.format,
    items: r.items,
    sharingType: r.sharingType,
    sharing: r.sharing,
    methods: r.methods,
    open: r.open,
    updateCycle: r.updateCycle,
    relatedCodes: r.relatedCodes,
  };
}

function changedFields(before: ResourceView, after: ResourceView): string[] {
  return TRACKED.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/** Refuses related codes that name no resource: a dangling relation misleads every reader. */
async function checkRelatedCodes(m: EntityManager, codes: string[], body: string): Promise<void> {
  if (!codes.length) return;
  const rows = await m.query<{ code: string }[]>('SELECT code FROM resource WHERE code = ANY($1::text[])', [codes]);
  const known = new Set(rows.map((r) => r.code));
  const i = codes.findIndex((c) => !known.has(c));
  if (i >= 0) throw new ValidationError(`Related code ${codes[i]} names no resource of the catalogue.`, { field: `${body}.relatedCodes[${i}]` }, 'UNKNOWN_RELATED_CODE');
}

/** A version row holding the view as it now is; the history is never rewritten. */
async function recordVersion(m: EntityManager, r: Resource, change: VersionChange, changed: string[], actor: Actor): Promise<ResourceView> {
  const fresh = await m.findOneByOrFail(Resource, { id: r.id });
  const view = viewResource(fresh);
  await m.save(m.create(ResourceVersion, { resourceId: r.id, version: r.version, change, changedFields: changed, actor, snapshot: view }));
  return view;
}

/**
 * Stores a new resource with its first version and element claims, inside the caller's
 * transaction. Shared by the API (drafts) and the seed (published reference resources).
 */
export async function storeNewResource(
  m: EntityManager,
  deps: { elements: ElementService },
  fields: ResourceFields,
  unit: ProviderUnit,
  init: { status: ResourceStatus; actor: Actor; body?: string },
): Promise<ResourceView> {
  const body = init.body ?? 'body';
  if (await m.existsBy(Resource, { code: fields.code })) throw new ConflictError('CODE_EXISTS', `A resource with code ${fields.code} exists.`, { field: `${body}.code` });
  await checkRelatedCodes(m, fields.relatedCodes, body);
  const r = m.create(Resource, {
    ...fields,
    providerUnitName: unit.name,
    providerCreditCode: unit.creditCode,
    status: init.status,
    version: 1,
    publishedAt: init.status === 'published' ? new Date() : null,
  });
  await m.save(r);
  await deps.elements.sync(m, r, body);
  return recordVersion(m, r, init.status === 'published' ? 'published' : 'created', [], init.actor);
}

/** Racing writers are caught by unique indexes; they answer like the checks that lost the race. */
function fromUniqueViolation(err: unknown): never {
  const driver = err instanceof QueryFailedError ? (err.driverError as { code?: string; constraint?: string }) : undefined;
  if (driver?.code === '23505' && driver.constraint === 'resource_code') throw new ConflictError('CODE_EXISTS', 'A resource with this code exists.', { field: 'body.code' });
  if (driver?.code === '23505' && driver.constraint === 'element_use_one_source')
    throw new ConflictError('ELEMENT_CLAIMED', 'Another resource has just claimed one of these data elements; read the elements and try again.');
  throw err;
}

/**
 * The catalogue's rules: who may create, change, publish and deprecate a resource, the
 * lifecycle draft → published → deprecated, a version for every change, and one event
 * per change in the same transaction.
 */
export class ResourceService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventPublisher,
    private readonly units: UnitDirectoryClient,
    private readonly elements: ElementService,
  ) {}

  async create(ctx: CallContext, input: CreateResource): Promise<ResourceView> {
    const p = ctx.principal;
    // Creating is the caller's own action, so a refusal is a 403 that says why.
    if (!hasRole(p, 'office_admin')) {
      requireRole(p, 'unit_admin');
      if (p.unitId !== input.providerUnitId) throw new ForbiddenError('A unit admin catalogues resources of its own unit only.', 'NOT_YOUR_UNIT', { field: 'body.providerUnitId' });
    }
    const fields = checkResource(input);
    const unit = await this.units.provider(input.providerUnitId, ctx.authorization, 'body.providerUnitId', ctx.requestId);
    return this.events
      .transaction(async (m, emit) => {
        const view = await storeNewResource(m, { elements: this.elements }, fields, unit, { status: 'draft', actor: actorOf(p) });
        emit(this.event('resource.created', ctx, view));
        return view;
      })
      .catch(fromUniqueViolation);
  }

  async get(p: Principal, code: string): Promise<ResourceView> {
    return viewResource(await this.visible(this.db.manager, p, code));
  }

  async update(ctx: CallContext, code: string, patch: UpdateResource): Promise<ResourceView> {
    const p = ctx.principal;
    const current = await this.visible(this.db.manager, p, code);
    this.requireEditor(p, current);
    // The directory is asked before the transaction: no row lock is held across HTTP.
    let unit: ProviderUnit | undefined;
    if (patch.providerUnitId && patch.providerUnitId !== current.providerUnitId) {
      if (!hasRole(p, 'office_admin')) throw new ForbiddenError('Only the office moves a resource to another provider.', 'NOT_YOUR_UNIT', { field: 'body.providerUnitId' });
      unit = await this.units.provider(patch.providerUnitId, ctx.authorization, 'body.providerUnitId', ctx.requestId);
    }
    return this.events
      .transaction(async (m, emit) => {
        const r = await this.lockVisible(m, p, code);
        this.requireEditor(p, r);
        if (r.status === 'deprecated') throw new ConflictError('RESOURCE_DEPRECATED', `Resource ${code} is deprecated and can no longer change.`);
        const before = viewResource(r);
        const fields = checkResource({ ...inputOf(fieldsOf(r)), ...patch });
        // The provider was looked up for the row as read before the lock; if another writer moved it since, start again.
        if (fields.providerUnitId !== r.providerUnitId && unit?.id !== fields.providerUnitId)
          throw new ConflictError('CONCURRENT_CHANGE', `Resource ${code} changed while this update was prepared; read it and try again.`);
        await checkRelatedCodes(m, fields.relatedCodes, 'body');
        Object.assign(r, fields, unit ? { providerUnitName: unit.name, providerCreditCode: unit.creditCode } : {});
        const changed = changedFields(before, viewResource(r));
        // Nothing changed, nothing to record: a repeated PATCH does not grow the history.
        if (!changed.length) return before;
        r.version += 1;
        await m.save(r);
        await this.elements.sync(m, r);
        const view = await recordVersion(m, r, 'updated', changed, actorOf(p));
        emit(this.event('resource.updated', ctx, { ...view, changed }));
        return view;
      })
      .catch(fromUniqueViolation);
  }

  async publish(ctx: CallContext, code: string): Promise<ResourceView> {
    requireRole(ctx.principal, 'office_admin');
    return this.transition(ctx, code, 'published');
  }

  async deprecate(ctx: CallContext, code: string): Promise<ResourceView> {
    return this.transition(ctx, code, 'deprecated');
  }

  async versions(p: Principal, code: string) {
    const r = await this.visible(this.db.manager, p, code);
    const rows = await this.db.getRepository(ResourceVersion).find({ where: { resourceId: r.id }, order: { version: 'ASC' } });
    return rows.map((v) => this.versionSummary(v));
  }

  async version(p: Principal, code: string, version: number) {
    const r = await this.visible(this.db.manager, p, code);
    const v = await this.db.getRepository(ResourceVersion).findOneBy({ resourceId: r.id, version });
    if (!v) throw new NotFoundError(`Version ${version} of ${code}`);
    return { ...this.versionSummary(v), resource: v.snapshot as ResourceView };
  }

  private async transition(ctx: CallContext, code: string, to: 'published' | 'deprecated'): Promise<ResourceView> {
    const p = ctx.principal;
    const from: ResourceStatus = to === 'published' ? 'draft' : 'published';
    return this.events.transaction(async (m, emit) => {
      const r = await this.lockVisible(m, p, code);
      this.requireEditor(p, r);
      if (r.status !== from) throw new ConflictError('ILLEGAL_TRANSITION', `A ${r.status} resource cannot become ${to}; only a ${from} one can.`, { currentStatus: r.status });
      r.status = to;
      r.version += 1;
      if (to === 'published') r.publishedAt = new Date();
      await m.save(r);
      // A deprecated resource provides nothing any more; its element claims pass to a successor.
      if (to === 'deprecated') await this.elements.release(m, r.id);
      const view = await recordVersion(m, r, to, to === 'published' ? ['status', 'publishedAt'] : ['status'], actorOf(p));
      emit(this.event(`resource.${to}`, ctx, view));
      return view;
    });
  }

  private versionSummary(v: ResourceVersion) {
    return { version: v.version, change: v.change, changedFields: v.changedFields, changedBy: v.actor, changedAt: v.createdAt.toISOString(), status: (v.snapshot as ResourceView).status };
  }

  /** A resource the caller may not see does not exist for the caller (404, never 403). */
  private async visible(m: EntityManager, p: Principal, code: string): Promise<Resource> {
    const r = await m.findOneBy(Resource, { code });
    if (!r || !canSee(p, r)) throw new NotFoundError(`Resource ${code}`);
    return r;
  }

  private async lockVisible(m: EntityManager, p: Principal, code: string): Promise<Resource> {
    const r = await m.findOne(Resource, { where: { code }, lock: { mode: 'pessimistic_write' } });
    if (!r || !canSee(p, r)) throw new NotFoundError(`Resource ${code}`);
    return r;
  }

  /** Visible but not the caller's to change: 403, since the caller knows the resource exists. */
  private requireEditor(p: Principal, r: Resource): void {
    if (!canEdit(p, r)) throw new ForbiddenError(`Only the office or the unit admins of ${r.providerUnitName} may change resource ${r.code}.`, 'NOT_YOUR_RESOURCE');
  }

  private event(type: 'resource.created' | 'resource.updated' | 'resource.published' | 'resource.deprecated', ctx: CallContext, data: ResourceView & { changed?: string[] }): DeclaredEvent {
    return createEvent(type, { actor: actorOf(ctx.principal), subject: data.code, data, traceparent: ctx.traceparent });
  }
}
