import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Principal, ServiceTokenVerifier } from '@gdx/auth';
import type { CaseType } from '@gdx/contracts';
import { isUuidText, operationDoc, page, PageQuery, problemResponses, reportOwnerUnit, type App } from '@gdx/service-kit';
import {
  AnswerComplaintSchema,
  AnswerObjectionSchema,
  AssignSchema,
  CaseDetailSchema,
  CaseFilterSchema,
  CircularSchema,
  CommentSchema,
  DecideSchema,
  OpenComplaintSchema,
  OpenObjectionSchema,
  OpenRectificationSchema,
  OptionalReasonSchema,
  ReasonSchema,
  ReportSchema,
} from './case.schemas';
import type { CaseService } from './case.service';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tp = (req: FastifyRequest) => (typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined);

const AREA: Record<CaseType, { path: string; tag: string }> = {
  objection: { path: '/api/v1/objections', tag: 'objections' },
  complaint: { path: '/api/v1/complaints', tag: 'complaints' },
  rectification: { path: '/api/v1/rectifications', tag: 'rectifications' },
};

type CaseDetail = Awaited<ReturnType<CaseService['get']>>;

/** A step on a case: POST {area}/{id}/{action} with its body, answering the case as it now is. */
interface StepRoute<S extends TSchema> {
  action: string;
  summary: string;
  description: string;
  codes: string[];
  body: S;
  run: (p: Principal, id: string, body: Static<S>, traceparent?: string) => Promise<CaseDetail>;
}

export async function caseRoutes(app: App, { cases, fromGateway }: { cases: CaseService; fromGateway?: ServiceTokenVerifier }): Promise<void> {
  app.addSchema(CircularSchema);
  for (const type of Object.keys(AREA) as CaseType[]) {
    const { path, tag } = AREA[type];
    // The record of a call on a case is the other party's too (§7): the gateway is told which unit that is.
    if (fromGateway)
      reportOwnerUnit(app, {
        routePrefix: `${path}/:id`,
        fromGateway,
        ownerOf: async (req, caller) => {
          const id = (req.params as { id?: unknown } | undefined)?.id;
          return typeof id === 'string' && isUuidText(id) ? cases.otherParty(id, caller) : undefined;
        },
      });
    app.get(
      path,
      {
        schema: {
          tags: [tag],
          summary: `List ${tag} the caller’s unit is a party to (the office: all), by state, overdue, unit and period`,
          ...operationDoc(`${tag[0].toUpperCase()}${tag.slice(1)} the caller’s unit opened or that are against it, newest first, paged by cursor. The office sees all.`, ['INVALID_CURSOR']),
          querystring: CaseFilterSchema,
          response: { 200: page(Type.Ref('Case')), ...problemResponses(400, 401) },
        },
      },
      async (req) => cases.list(req.principal, type, req.query),
    );
    app.get(
      `${path}/:id`,
      {
        schema: {
          tags: [tag],
          summary: `Read a case with its written texts and history`,
          ...operationDoc('Visible to its two parties and the office; anyone else gets 404.'),
          params: IdParams,
          response: { 200: CaseDetailSchema, ...problemResponses(400, 401, 404) },
        },
      },
      async (req) => cases.get(req.principal, type, req.params.id),
    );
  }

  const opened = <S extends TSchema>(
    path: string,
    tag: string,
    summary: string,
    description: string,
    codes: string[],
    body: S,
    run: (p: Principal, body: Static<S>, authorization: string | undefined, traceparent?: string) => Promise<CaseDetail>,
  ) =>
    app.post(
      path,
      {
        schema: { tags: [tag], summary, ...operationDoc(description, codes), body, response: { 201: CaseDetailSchema, ...problemResponses(400, 401, 403, 503) } },
      },
      async (req, reply) => reply.code(201).send(await run(req.principal, req.body as Static<S>, req.headers.authorization, tp(req))),
    );
  const step = <S extends TSchema>(type: CaseType, r: StepRoute<S>) =>
    app.post(
      `${AREA[type].path}/:id/${r.action}`,
      {
        schema: {
          tags: [AREA[type].tag],
          summary: r.summary,
          ...operationDoc(r.description, [...r.codes, 'ILLEGAL_TRANSITION']),
          params: IdParams,
          body: r.body,
          response: { 200: CaseDetailSchema, ...problemResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => r.run(req.principal, req.params.id, req.body as Static<S>, tp(req)),
    );

  // ── objections ──
  opened(
    AREA.objection.path,
    'objections',
    'Object (异议) to data received: the provider must answer in writing within the deadline',
    'A unit admin or operator of a unit holding (or having held) a grant for the resource objects to its data: optionally the record keys and the items concerned (each in the grant), what is wrong, evidence. The provider answers within the configured working days (default 5).',
    ['ROLE_REQUIRED', 'NO_GRANT', 'ITEM_NOT_GRANTED'],
    OpenObjectionSchema,
    (p, body, _auth, t) => cases.openObjection(p, body, t),
  );
  step('objection', {
    action: 'answer',
    summary: 'The provider answers in writing: corrected (naming the later batch) or confirmed (explained)',
    description:
      'The provider unit’s admin answers. `corrected` names the change sequence of an accepted data batch of the resource later than the objection; `confirmed` explains why the data is right.',
    codes: ['NOT_PROVIDER', 'ROLE_REQUIRED', 'CHANGE_SEQ_REQUIRED', 'CHANGE_SEQ_NOT_ALLOWED', 'UNKNOWN_BATCH', 'BATCH_NOT_LATER'],
    body: AnswerObjectionSchema,
    run: (p, id, body, t) => cases.answerObjection(p, id, body, t),
  });
  step('objection', {
    action: 'accept',
    summary: 'The objecting unit accepts the answer; the case closes',
    description: 'The objecting unit’s admin or operator accepts the provider’s answer.',
    codes: ['NOT_OBJECTOR', 'ROLE_REQUIRED'],
    body: CommentSchema,
    run: (p, id, body, t) => cases.acceptObjection(p, id, body.comment, t),
  });
  step('objection', {
    action: 'escalate',
    summary: 'The objecting unit escalates to the office: after an answer it disputes, or once the provider’s deadline passed',
    description: 'The objecting unit’s admin or operator sends the case to the office with a reason. Before an answer only once the case is overdue (`NOT_YET_OVERDUE`).',
    codes: ['NOT_OBJECTOR', 'ROLE_REQUIRED', 'NOT_YET_OVERDUE'],
    body: ReasonSchema,
    run: (p, id, body, t) => cases.escalateObjection(p, id, body.reason, t),
  });
  step('objection', {
    action: 'decide',
    summary: 'The office decides an escalated objection in writing: upheld or dismissed',
    description: 'An office admin decides. An upheld objection may be followed by a rectification order naming it (`originCaseId`).',
    codes: ['ROLE_REQUIRED'],
    body: DecideSchema,
    run: (p, id, body, t) => cases.decideObjection(p, id, body, t),
  });
  step('objection', {
    action: 'withdraw',
    summary: 'The objecting unit withdraws an objection not yet escalated',
    description: 'The objecting unit’s admin or operator withdraws it, optionally saying why.',
    codes: ['NOT_OBJECTOR', 'ROLE_REQUIRED'],
    body: OptionalReasonSchema,
    run: (p, id, body, t) => cases.withdraw(p, 'objection', id, body.reason, t),
  });

  // ── complaints ──
  opened(
    AREA.complaint.path,
    'complaints',
    'Complain (投诉) to the office about another unit: refusal without legal basis, late provision, stale data, misuse',
    'A unit admin or operator complains about another unit. The office assigns, investigates and answers in writing within the configured working days (default 15).',
    ['ROLE_REQUIRED', 'OWN_UNIT', 'UNKNOWN_UNIT', 'UNIT_DIRECTORY_UNAVAILABLE'],
    OpenComplaintSchema,
    (p, body, auth, t) => cases.openComplaint(p, body, auth, t),
  );
  step('complaint', {
    action: 'assign',
    summary: 'The office assigns (or reassigns) the complaint to an investigator',
    description: 'An office admin names the office account investigating; the complaint is then under investigation.',
    codes: ['ROLE_REQUIRED'],
    body: AssignSchema,
    run: (p, id, body, t) => cases.assign(p, id, body, t),
  });
  step('complaint', {
    action: 'answer',
    summary: 'The office answers the complaint in writing (substantiated or not); an order may follow',
    description: 'An office admin answers the complainant. A rectification order may then be opened from it (`originCaseId`).',
    codes: ['ROLE_REQUIRED'],
    body: AnswerComplaintSchema,
    run: (p, id, body, t) => cases.answerComplaint(p, id, body, t),
  });
  step('complaint', {
    action: 'withdraw',
    summary: 'The complaining unit withdraws a complaint not yet answered',
    description: 'The complaining unit’s admin or operator withdraws it, optionally saying why.',
    codes: ['NOT_COMPLAINANT', 'ROLE_REQUIRED'],
    body: OptionalReasonSchema,
    run: (p, id, body, t) => cases.withdraw(p, 'complaint', id, body.reason, t),
  });

  // ── rectification orders ──
  opened(
    AREA.rectification.path,
    'rectifications',
    'Order a unit to rectify (限期整改) named problems by a date',
    'An office admin orders a unit to rectify, optionally from a complaint or objection against the same unit. Not reported on by the end of the due date, or sent back twice, the order becomes a circular (通报批评) published to every unit.',
    ['ROLE_REQUIRED', 'OWN_UNIT', 'DUE_DATE_NOT_FUTURE', 'UNKNOWN_CASE', 'ORIGIN_MISMATCH', 'UNKNOWN_UNIT', 'UNIT_DIRECTORY_UNAVAILABLE'],
    OpenRectificationSchema,
    (p, body, auth, t) => cases.openRectification(p, body, auth, t),
  );
  step('rectification', {
    action: 'report',
    summary: 'The unit ordered reports what it did to rectify',
    description: 'The ordered unit’s admin reports, with evidence; the office then accepts or sends it back.',
    codes: ['NOT_ORDERED_UNIT', 'ROLE_REQUIRED'],
    body: ReportSchema,
    run: (p, id, body, t) => cases.report(p, id, body, t),
  });
  step('rectification', {
    action: 'accept',
    summary: 'The office accepts the report: rectified',
    description: 'An office admin accepts the rectification.',
    codes: ['ROLE_REQUIRED'],
    body: CommentSchema,
    run: (p, id, body, t) => cases.acceptReport(p, id, body.comment, t),
  });
  step('rectification', {
    action: 'return',
    summary: 'The office sends the report back with a reason; the second time the order becomes a circular',
    description: 'An office admin finds the rectification insufficient. The order is open again until its due date; sent back a second time, it becomes a circular published to every unit.',
    codes: ['ROLE_REQUIRED'],
    body: ReasonSchema,
    run: (p, id, body, t) => cases.returnReport(p, id, body.reason, t),
  });

  app.get(
    '/api/v1/rectifications/circulars',
    {
      schema: {
        tags: ['rectifications'],
        summary: 'Circulars (通报批评): public to every unit and permanent',
        ...operationDoc('Every circular, newest first; any signed-in caller may read them.', ['INVALID_CURSOR']),
        querystring: Type.Object({ unit: Type.Optional(Type.String({ format: 'uuid', description: 'Only circulars about this unit.' })), ...PageQuery }, { additionalProperties: false }),
        response: { 200: page(Type.Ref('Circular')), ...problemResponses(400, 401) },
      },
    },
    async (req) => cases.circulars(req.query),
  );
  app.get(
    '/api/v1/rectifications/circulars/:id',
    {
      schema: {
        tags: ['rectifications'],
        summary: 'Read a circular',
        ...operationDoc('Any signed-in caller may read a circular.'),
        params: IdParams,
        response: { 200: Type.Ref('Circular'), ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => cases.circular(req.params.id),
  );
}
