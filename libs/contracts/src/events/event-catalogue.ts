import { Type, type TProperties } from '@sinclair/typebox';
import { CASE_STATUSES, CASE_TYPES, INSPECTION_RULES, JOB_KINDS, JOB_STATUSES, SERVICE_MODES, StringEnum } from '../enums';
import { NoticeViewSchema } from '../views/notice.view';
import { GrantViewSchema } from '../views/grant.view';
import { ResourceViewSchema } from '../views/resource.view';

/*
 * Every event type of the platform with the schema of its `data` and that schema's
 * version. Producers can only build events of these types with these shapes
 * (`createEvent`), consumers get them typed (`eventHandlers`) and validated
 * (`checkEvent`). Data objects are open: a consumer must ignore a field it does not
 * know, so adding an optional field keeps the version; changing or removing one is a
 * new version (docs/conventions.md).
 */

const Uuid = Type.String({ format: 'uuid' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
/** Where a call came from and which request it was: on every call-driven event. */
const CallContext = { ip: Type.String(), requestId: Type.String() };

/** Tokens of the subject issued before this instant (ms since the epoch, the gateway's clock) are refused. */
const NotBefore = Type.Integer({ minimum: 0, description: 'Milliseconds since the epoch; tokens of the subject issued earlier are refused.' });

const def = <P extends TProperties>(version: number, description: string, properties: P) => ({ version, description, data: Type.Object<P>(properties) });

// ——— auth: authentication of people and systems (gateway) ———
const auth = {
  'auth.token_issued': def(1, 'A business system obtained an access token (client credentials).', { clientId: Type.String(), jti: Type.String(), expiresIn: Type.Integer(), ...CallContext }),
  'auth.token_refused': def(1, 'A token request was refused.', { clientId: Type.String(), reason: Type.String(), ...CallContext }),
  'auth.login_succeeded': def(1, 'A person signed in.', { username: Type.String(), jti: Type.String(), ...CallContext }),
  'auth.login_failed': def(1, 'A sign-in failed.', { username: Type.String(), reason: StringEnum(['bad_password', 'locked', 'disabled', 'unknown_user'] as const), ...CallContext }),
  'auth.locked_out': def(1, 'An account reached the failure threshold and is locked for a while.', { username: Type.String(), minutes: Type.Integer(), ...CallContext }),
};

// ——— identity: units, accounts, clients (gateway) ———
const identity = {
  'unit.created': def(1, 'A unit (department) was registered.', { key: Type.String(), name: Type.String(), creditCode: Type.String(), kind: Type.String(), regionCode: Nullable(Type.String()) }),
  'unit.updated': def(1, 'A unit was changed.', { changed: Type.Array(Type.String()) }),
  'account.created': def(1, 'An account was created in a unit.', { unitId: Uuid, username: Type.String(), roles: Type.Array(Type.String()) }),
  'account.updated': def(1, 'An account was changed (roles, status, name). With `notBefore`, its tokens issued before then are revoked on every service.', {
    changed: Type.Array(Type.String()),
    roles: Type.Array(Type.String()),
    status: Type.String(),
    notBefore: Type.Optional(NotBefore),
  }),
  'account.password_changed': def(1, 'An account’s password was changed; its tokens issued before `notBefore` (else the event’s time) are revoked on every service.', {
    by: StringEnum(['self', 'admin'] as const),
    notBefore: Type.Optional(NotBefore),
  }),
  'account.unlocked': def(1, 'A locked account was unlocked by an administrator.', {}),
  'client.created': def(1, 'A business system client was registered.', { unitId: Uuid, clientId: Type.String(), name: Type.String(), scopes: Type.Optional(Type.Array(Type.String())) }),
  'client.updated': def(1, 'A client’s name or scopes were changed by its unit admin; with `notBefore` (a scope taken away), its older tokens are revoked on every service.', {
    clientId: Type.String(),
    changed: Type.Array(Type.String()),
    scopes: Type.Array(Type.String()),
    notBefore: Type.Optional(NotBefore),
  }),
  'client.secret_rotated': def(1, 'A client’s secret was rotated.', { clientId: Type.String() }),
  'client.revoked': def(1, 'A client was revoked; its tokens issued before `notBefore` (else the event’s time) are revoked on every service.', {
    clientId: Type.String(),
    notBefore: Type.Optional(NotBefore),
  }),
};

// ——— resource: the catalogue (catalogue); every event carries the whole resource view ———
const ResourceData = { ...ResourceViewSchema.properties, changed: Type.Optional(Type.Array(Type.String())) };
const resource = {
  'resource.created': def(1, 'A resource was catalogued (draft).', ResourceData),
  'resource.updated': def(1, 'A resource changed; `changed` names the fields.', ResourceData),
  'resource.published': def(1, 'A resource was published: it can be requested and served.', ResourceData),
  'resource.deprecated': def(1, 'A resource was deprecated: its grants are revoked and it is no longer served.', ResourceData),
};

// ——— request: the request workflow (request-approval) ———
const RequestData = {
  requestId: Uuid,
  applicantUnitId: Uuid,
  providerUnitId: Nullable(Uuid),
  resourceCode: Nullable(Type.String()),
  track: StringEnum(['unconditional', 'conditional', 'none', 'uncatalogued'] as const),
  serviceMode: StringEnum(SERVICE_MODES),
  from: Nullable(Type.String()),
  status: Type.String(),
  submittedAt: Nullable(DateTime),
  providerDeadline: Nullable(DateTime),
  delayed: Type.Boolean(),
  grantId: Nullable(Uuid),
};
const request = {
  'request.filed': def(1, 'A request was created.', RequestData),
  'request.submitted': def(1, 'A request went to its reviewer (or was filed with the commitment, for unconditional resources).', {
    ...RequestData,
    to: Type.Optional(StringEnum(['provider', 'office'] as const)),
    filing: Type.Optional(Type.Boolean()),
    commitmentVersion: Type.Optional(Type.String()),
    commitmentSha256: Type.Optional(Type.String()),
  }),
  'request.reviewed': def(1, 'The provider answered a request.', {
    ...RequestData,
    decision: Type.String(),
    legalBasis: Nullable(Type.String()),
    terms: Type.Union([Type.Object({}), Type.Null()]),
    answeredAt: DateTime,
    /** Working days from submission to this answer, on request-approval's calendar (assessment reads it). */
    workingDays: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
  'request.returned': def(1, 'The office returned a request to the provider.', { ...RequestData, comment: Type.Optional(Type.String()) }),
  'request.confirmed': def(1, 'The office confirmed the provider’s answer.', {
    ...RequestData,
    outcome: StringEnum(['granted', 'refused'] as const),
    legalBasis: Type.Optional(Nullable(Type.String())),
  }),
  'request.refused': def(1, 'A request was refused, with its legal basis.', { ...RequestData, legalBasis: Nullable(Type.String()), refusedBy: StringEnum(['provider', 'office'] as const) }),
  'request.withdrawn': def(1, 'The applicant withdrew a request.', { ...RequestData, reason: Nullable(Type.String()) }),
  'request.delayed': def(1, 'A provider let its answer deadline pass (delayed provision).', { ...RequestData, deadline: DateTime, workingDays: Type.Integer() }),
};

// ——— grant: every event carries the whole grant (request-approval) ———
const GrantData = {
  ...GrantViewSchema.properties,
  reason: Type.Optional(Nullable(Type.String())),
};
const grant = {
  'grant.issued': def(1, 'A grant was issued: data may flow under its terms.', GrantData),
  'grant.suspended': def(1, 'A grant was suspended.', GrantData),
  'grant.resumed': def(1, 'A suspended grant was resumed.', GrantData),
  'grant.revoked': def(1, 'A grant was revoked for good.', GrantData),
  'grant.expired': def(1, 'A grant reached the end of its validity.', GrantData),
  'grant.superseded': def(1, 'A newer grant for the same consumer unit, resource and mode took this one’s place (`supersededBy`).', GrantData),
};

// ——— query: interface queries, answered or refused (gateway, data-query) ———
const QueryData = {
  unitId: Type.String(),
  accountId: Type.Optional(Type.String()),
  clientId: Type.Optional(Type.String()),
  grantId: Nullable(Type.String()),
  resourceCode: Type.String(),
  /** The unit owning the resource: it sees the record too. */
  providerUnitId: Type.Optional(Nullable(Type.String())),
  mode: Type.Optional(StringEnum(SERVICE_MODES)),
  items: Type.Array(Type.String()),
  rowCount: Type.Integer({ minimum: 0 }),
  result: StringEnum(['allowed', 'denied'] as const),
  /** The refusal's code. */
  reason: Type.Optional(Type.String()),
  status: Type.Optional(Type.Integer()),
  latencyMs: Type.Number(),
  requestId: Type.String(),
  sourceAddress: Type.String(),
  peerAddress: Type.Optional(Type.String()),
  via: StringEnum(['gateway', 'data-query'] as const),
  /**
   * The keys asked for, never in clear: a keyed digest each (the same value gives the same digest on
   * every replica), and for an identity number its 3-digit sequence code with the digest of the rest,
   * so that inspection can see enumeration (many distinct keys, runs of consecutive numbers).
   */
  keys: Type.Optional(Type.Array(Type.Object({ digest: Type.String(), seq: Type.Optional(Type.Integer({ minimum: 0, maximum: 999 })) }), { maxItems: 100 })),
};
const query = {
  'query.executed': def(1, 'An interface query was answered.', QueryData),
  'query.denied': def(1, 'An interface query was refused (by the gateway or by data-query).', QueryData),
};

/** Who was served what under which grant, by whose data: on every event of a service mode that reads a resource for a consumer unit. */
const Served = {
  unitId: Uuid,
  accountId: Type.Optional(Type.String()),
  clientId: Type.Optional(Type.String()),
  providerUnitId: Uuid,
  grantId: Uuid,
  resourceCode: Type.String(),
};

// ——— data: data submitted by providers (data-query) ———
const data = {
  'data.updated': def(1, 'A batch of a resource’s data was accepted; `changeSeq` orders the batches of a resource.', {
    resourceCode: Type.String(),
    providerUnitId: Uuid,
    changeSeq: Type.Integer(),
    rows: Type.Integer(),
    upserted: Type.Integer(),
    deleted: Type.Integer(),
    unmatchedDeletes: Type.Integer(),
    lastUpdatedAt: DateTime,
    /** Rows new to the resource (keys not held before), and rows deleted before that this batch brought back: with `deleted`, the change in records held. */
    inserted: Type.Optional(Type.Integer({ minimum: 0 })),
    revived: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
  'data.delivered': def(
    1,
    'A data call (数据调用) delivered rows of a resource to a consumer unit, or was refused or stopped on the way: its manifest (recipient, grant, cursor range, rows, SHA-256 of the body), never the body.',
    {
      deliveryId: Uuid,
      ...Served,
      mode: Type.Literal('data-call'),
      kind: StringEnum(['pull', 'push'] as const),
      format: StringEnum(['ndjson', 'csv', 'json'] as const),
      items: Type.Array(Type.String()),
      /** The cursor the pull started from (null: a full pull) and the one to continue from. */
      cursorFrom: Nullable(Type.String()),
      cursorTo: Type.String(),
      /** Rows and tombstones delivered. */
      rowCount: Type.Integer({ minimum: 0 }),
      tombstones: Type.Integer({ minimum: 0 }),
      bytes: Type.Integer({ minimum: 0 }),
      /** SHA-256 (hex) of the delivered rows as sent, before compression (NDJSON: every line before the trailer line). */
      sha256: Type.String(),
      result: StringEnum(['allowed', 'denied'] as const),
      /** complete, or why the delivery stopped early (GRANT_NOT_ACTIVE, QUOTA_EXCEEDED, CLIENT_CLOSED …). */
      outcome: Type.String(),
      requestId: Type.String(),
      sourceAddress: Type.String(),
      latencyMs: Type.Number(),
      /** A push delivery's subscription, its sequence number there and the attempts it took. */
      subscriptionId: Type.Optional(Uuid),
      sequence: Type.Optional(Type.Integer({ minimum: 1 })),
      attempts: Type.Optional(Type.Integer({ minimum: 1 })),
    },
  ),
};

// ——— subscription: push subscriptions of the data-call mode (data-query) ———
const subscription = {
  'subscription.changed': def(1, 'A push subscription (data call, 数据调用) was created, deleted, paused, resumed, had its signing secret rotated or a delivery requeued; never the secret.', {
    subscriptionId: Uuid,
    unitId: Uuid,
    resourceCode: Type.String(),
    action: StringEnum(['created', 'deleted', 'paused', 'resumed', 'secret-rotated', 'redelivery'] as const),
    status: StringEnum(['active', 'paused', 'deleted'] as const),
    /** Why it was paused (by whom, a dead-lettered delivery, the grant no longer applying). */
    reason: Nullable(Type.String()),
    url: Type.String(),
  }),
};

// ——— job: customization jobs (数据定制, data-query); never their input or result contents ———
const JobData = {
  jobId: Uuid,
  ...Served,
  mode: Type.Literal('customization'),
  kind: StringEnum(JOB_KINDS),
  status: StringEnum(JOB_STATUSES),
  /** The resource's items the job reads (compared, filtered on, presented): the grant covers them all. */
  items: Type.Array(Type.String()),
  /** Records submitted (upload) or in the slice once known. */
  records: Nullable(Type.Integer({ minimum: 0 })),
  requestId: Type.Optional(Type.String()),
  sourceAddress: Type.Optional(Type.String()),
};
const job = {
  'job.submitted': def(1, 'A customization job was accepted (its input, when uploaded, has arrived in full).', JobData),
  'job.started': def(1, 'A worker began a customization job.', JobData),
  'job.finished': def(1, 'A customization job ended: succeeded (with its counts and the SHA-256 of its result), failed or cancelled.', {
    ...JobData,
    /** Records processed, by verdict or outcome (compare: match, mismatch, not_found, invalid; clean and normalize: changed, rejected, unchanged). */
    counts: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
    rowCount: Type.Integer({ minimum: 0, description: 'Records in the result.' }),
    resultSha256: Nullable(Type.String({ description: 'SHA-256 (hex) of the result as NDJSON, as `GET …/result` serves it.' })),
    error: Type.Optional(Type.String()),
  }),
  'job.expired': def(1, 'A customization job’s input and result were deleted once its retention ended.', JobData),
};

// ——— case: objections, complaints and rectification orders (request-approval); never their written texts ———
const CaseData = {
  caseId: Uuid,
  number: Type.String({ description: 'e.g. YY-2026-0001 (objection), TS- (complaint), ZG- (rectification order).' }),
  caseType: StringEnum(CASE_TYPES),
  status: StringEnum(CASE_STATUSES),
  fromStatus: Nullable(StringEnum(CASE_STATUSES)),
  /** The step taken: open, answer, accept, escalate, decide, assign, report, return, withdraw, overdue, circulate. */
  action: Type.String(),
  /** The unit that opened the case (the objecting or complaining unit; the office for an order). */
  openedByUnitId: Uuid,
  /** The unit the case is against: the provider objected to, the unit complained about, the unit ordered to rectify. */
  againstUnitId: Uuid,
  /** The party other than the actor's unit, so the record is the other party's too. */
  ownerUnitId: Uuid,
  resourceCode: Nullable(Type.String()),
  deadline: Nullable(DateTime),
  overdue: Type.Boolean(),
};
const caseEvents = {
  'case.opened': def(1, 'A case was opened: an objection to data received, a complaint against a unit, or a rectification order.', CaseData),
  'case.changed': def(1, 'A case took a step (`action`): a written answer, acceptance, escalation, a decision, an assignment, a report, a return or a withdrawal.', CaseData),
  'case.overdue': def(1, 'A case passed its deadline unanswered (objection, complaint) or unrectified (order); it counts in assessment.', CaseData),
  'case.circulated': def(1, 'A rectification order overdue or failed twice became a circular (通报批评), published to every unit.', {
    ...CaseData,
    circularId: Uuid,
    circularNumber: Type.String({ description: 'e.g. TB-2026-0001.' }),
  }),
};

// ——— notice: maintenance notices (Art. 23, request-approval); each event carries the whole notice ———
const notice = {
  'notice.published': def(1, 'A maintenance notice was announced: during its window the gateway answers calls to what it names with 503.', NoticeViewSchema.properties),
  'notice.amended': def(1, 'A maintenance notice was amended (its window, scope or text); the previous version stays in its history.', NoticeViewSchema.properties),
  'notice.cancelled': def(1, 'A maintenance notice was cancelled, with its reason.', NoticeViewSchema.properties),
};

// ——— inspection: security inspection alerts (安全督查, audit) ———
const AlertData = {
  alertId: Uuid,
  rule: StringEnum(INSPECTION_RULES),
  unitId: Uuid,
  clientId: Nullable(Type.String()),
  grantId: Nullable(Type.String()),
  resourceCode: Nullable(Type.String()),
  windowStart: DateTime,
  windowEnd: DateTime,
  /** The figures that made the rule fire, and its thresholds. */
  figures: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])),
  /** Audit records behind the alert (at most 100). */
  recordIds: Type.Array(Type.String()),
  /** The unit the alert is about (whose client or account made the calls), so the record is that unit's. */
  ownerUnitId: Type.Optional(Type.String()),
};
const inspection = {
  'inspection.alert': def(1, 'A security inspection rule flagged abnormal use (Art. 31): which rule, unit, client, grant, window and figures.', AlertData),
  'inspection.acknowledged': def(1, 'An office auditor acknowledged an inspection alert, with a note.', { ...AlertData, note: Type.String() }),
};

// ——— call: every call through the gateway not otherwise on the record once (gateway) ———
const call = {
  'call.completed': def(1, 'A call through the gateway was answered (allowed or refused); routes recorded once by their own events (interface queries, sign-in, tokens) are not repeated here.', {
    method: Type.String(),
    route: Type.String({ description: 'The route pattern, e.g. /api/v1/requests/*.' }),
    path: Type.String(),
    status: Type.Integer(),
    result: StringEnum(['allowed', 'denied'] as const),
    unitId: Type.Optional(Type.String()),
    accountId: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String()),
    requestId: Type.String(),
    sourceAddress: Type.String(),
    latencyMs: Type.Number(),
    code: Type.Optional(Type.String({ description: 'The problem code of a refusal.' })),
    ownerUnitId: Type.Optional(Type.String({ description: 'The unit owning the object the call reached, when another than the caller’s.' })),
  }),
};

export const EVENT_CATALOGUE = { ...auth, ...identity, ...resource, ...request, ...grant, ...query, ...data, ...subscription, ...job, ...caseEvents, ...notice, ...inspection, ...call } as const;

export type EventCatalogue = typeof EVENT_CATALOGUE;
export type EventType = keyof EventCatalogue;
export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as EventType[];

/** Every stream (domain) some event type travels on. */
export const EVENT_DOMAINS = [...new Set(EVENT_TYPES.map((t) => t.split('.')[0]))] as readonly string[];
