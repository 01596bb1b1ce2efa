import { Type, type TSchema } from '@sinclair/typebox';
import { operationDoc, problemResponses, type App } from '@gdx/service-kit';
import { AssessmentSchema, EvidenceQuery, EvidenceSchema, FormatQuery, PeriodParams, UnitAssessmentSchema, UnitParams } from './assessment.schemas';
import type { AssessmentService } from './assessment.service';
import { assessmentCsv, assessmentSvg, assessmentWorkbook } from './assessment-export';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function formatOf(format: 'json' | 'csv' | 'xlsx' | 'svg' | undefined, acceptHeader: string | undefined): 'json' | 'csv' | 'xlsx' | 'svg' {
  if (format) return format;
  const accept = acceptHeader ?? '';
  if (accept.includes('text/csv')) return 'csv';
  if (accept.includes(XLSX)) return 'xlsx';
  if (accept.includes('image/svg+xml')) return 'svg';
  return 'json';
}

export async function assessmentRoutes(app: App, { assessments }: { assessments: AssessmentService }): Promise<void> {
  app.addSchema(UnitAssessmentSchema);
  app.get(
    '/api/v1/assessments/:period',
    {
      schema: {
        tags: ['assessments'],
        summary: 'Assessment (考核) of a year, quarter or month: the office sees every unit ranked, a unit its own; as JSON, CSV, an Excel workbook or an SVG chart',
        ...operationDoc(
          'Figures per unit (catalogue, update timeliness, request answers, usage given and received, cases) and the weighted score, from rollups kept as events arrive. `format` (or Accept): `csv` (one row per unit), `xlsx` (one sheet per section), `svg` (scores by unit, for the yearly report).',
          ['INVALID_PERIOD', 'UNIT_DIRECTORY_UNAVAILABLE'],
        ),
        params: PeriodParams,
        querystring: FormatQuery,
        response: {
          // One answer in four media types; typed as a schema so the route keeps its request types.
          200: {
            description: 'The assessment',
            content: {
              'application/json': { schema: AssessmentSchema },
              'text/csv': { schema: Type.String() },
              [XLSX]: { schema: Type.String({ format: 'binary' }) },
              'image/svg+xml': { schema: Type.String() },
            },
          } as unknown as TSchema,
          ...problemResponses(400, 401, 503),
        },
      },
    },
    async (req, reply) => {
      const result = await assessments.assess(req.principal, req.params.period, req.headers.authorization);
      const format = formatOf(req.query.format, req.headers.accept);
      const name = `assessment-${result.period.id}`;
      if (format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(assessmentCsv(result.units));
      if (format === 'xlsx')
        return reply
          .type(XLSX)
          .header('content-disposition', `attachment; filename="${name}.xlsx"`)
          .send(await assessmentWorkbook(result.period, result.units));
      if (format === 'svg') return reply.type('image/svg+xml').send(assessmentSvg(result.period, result.units));
      return reply.type('application/json').send(result);
    },
  );
  app.get(
    '/api/v1/assessments/:period/units/:unit',
    {
      schema: {
        tags: ['assessments'],
        summary: 'One unit’s assessment for a period (the office, or the unit itself)',
        ...operationDoc('The unit’s figures, score and rank among all units. Other units get 404.', ['INVALID_PERIOD', 'UNIT_DIRECTORY_UNAVAILABLE']),
        params: UnitParams,
        response: { 200: Type.Ref('UnitAssessment'), ...problemResponses(400, 401, 404, 503) },
      },
    },
    async (req) => assessments.assessUnit(req.principal, req.params.period, req.params.unit, req.headers.authorization),
  );
  app.get(
    '/api/v1/assessments/:period/units/:unit/evidence',
    {
      schema: {
        tags: ['assessments'],
        summary: 'The audit records behind one figure of a unit’s assessment',
        ...operationDoc(
          'Every record the figure counts for the unit in the period, oldest first, with what each adds; by the same definition that keeps the rollups. The office, or the unit itself; others get 404.',
          ['INVALID_PERIOD', 'UNKNOWN_METRIC', 'INVALID_CURSOR'],
        ),
        params: UnitParams,
        querystring: EvidenceQuery,
        response: { 200: EvidenceSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => assessments.evidence(req.principal, req.params.period, req.params.unit, req.query.metric, req.query.cursor, req.query.limit ?? 50),
  );
}
