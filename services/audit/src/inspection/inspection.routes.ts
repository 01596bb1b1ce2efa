import { Type } from '@sinclair/typebox';
import { requireRole } from '@gdx/auth';
import { operationDoc, page, PageQuery, problemResponses, type App } from '@gdx/service-kit';
import { INSPECTION_RULES } from '@gdx/contracts';
import type { InspectionService } from './inspection.service';

const Rule = Type.Union(
  INSPECTION_RULES.map((r) => Type.Literal(r)),
  {
    description:
      'volume: far above the baseline; enumeration: many keys mostly not found, or consecutive identity numbers; off-hours: bulk data call outside working hours; denials: a burst of refusals; after-purpose: use after the grant’s period.',
  },
);

const AlertSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    rule: Rule,
    unitId: Type.String({ description: 'The unit whose client or account made the calls.' }),
    ownerUnitId: Type.Union([Type.String(), Type.Null()], { description: 'The unit providing the resource.' }),
    clientId: Type.Union([Type.String(), Type.Null()]),
    grantId: Type.Union([Type.String(), Type.Null()]),
    resourceCode: Type.Union([Type.String(), Type.Null()]),
    windowStart: Type.String({ format: 'date-time' }),
    windowEnd: Type.String({ format: 'date-time' }),
    figures: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()]), { description: 'What made the rule fire, with its thresholds.' }),
    recordIds: Type.Array(Type.String(), { description: 'Audit records behind the alert (the first 100): GET /api/v1/audit/records/{id}.' }),
    status: Type.Union([Type.Literal('open'), Type.Literal('acknowledged')]),
    acknowledgedBy: Type.Union([Type.String(), Type.Null()]),
    acknowledgedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    note: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'InspectionAlert' },
);

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export async function inspectionRoutes(app: App, { inspection }: { inspection: InspectionService }): Promise<void> {
  app.addSchema(AlertSchema);
  app.get(
    '/api/v1/inspections/alerts',
    {
      schema: {
        tags: ['inspections'],
        summary: 'Security inspection alerts: the office sees all, a unit the alerts about its own clients',
        ...operationDoc('Alerts newest first, by rule, status, unit and window, paged by cursor.', ['INVALID_CURSOR']),
        querystring: Type.Object(
          {
            rule: Type.Optional(Rule),
            status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('acknowledged')])),
            unit: Type.Optional(Type.String({ format: 'uuid' })),
            from: Type.Optional(Type.String({ format: 'date-time', description: 'Windows ending at or after.' })),
            to: Type.Optional(Type.String({ format: 'date-time', description: 'Windows starting before.' })),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: page(Type.Ref('InspectionAlert')), ...problemResponses(400, 401) },
      },
    },
    async (req) => inspection.list(req.principal, req.query),
  );
  app.get(
    '/api/v1/inspections/alerts/:id',
    {
      schema: {
        tags: ['inspections'],
        summary: 'Read an alert',
        ...operationDoc('The office, or the unit the alert is about; others get 404.'),
        params: IdParams,
        response: { 200: Type.Ref('InspectionAlert'), ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => inspection.get(req.principal, req.params.id),
  );
  app.post(
    '/api/v1/inspections/alerts/:id/acknowledge',
    {
      schema: {
        tags: ['inspections'],
        summary: 'An office auditor acknowledges an alert with a note',
        ...operationDoc('Marks the alert dealt with, with the note (on the record as `inspection.acknowledged`).', ['ROLE_REQUIRED', 'ALREADY_ACKNOWLEDGED']),
        params: IdParams,
        body: Type.Object({ note: Type.String({ minLength: 1, maxLength: 4000 }) }, { additionalProperties: false }),
        response: { 200: Type.Ref('InspectionAlert'), ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => inspection.acknowledge(req.principal, req.params.id, req.body.note),
  );
  app.get(
    '/api/v1/inspections/rules',
    {
      schema: {
        tags: ['inspections'],
        summary: 'The inspection rules and their thresholds in force (office)',
        ...operationDoc('The configured thresholds and windows of every rule. Office admins and auditors.', ['ROLE_REQUIRED']),
        response: { 200: Type.Record(Type.String(), Type.Unknown()), ...problemResponses(401, 403) },
      },
    },
    async (req) => {
      requireRole(req.principal, 'office_auditor', 'office_admin');
      return { rules: INSPECTION_RULES, ...inspection.rules };
    },
  );
}
