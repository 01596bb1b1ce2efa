import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { page, operationDoc, problemResponses, type App } from '@gdx/service-kit';
import type { ResourceService, CallContext } from './resource.service';
import type { ResourceSearchService } from './resource-search.service';
import type { ElementService } from './element.service';
import type { DcatService } from './dcat.service';
import {
  CodeParams,
  CreateResourceSchema,
  DcatQuery,
  DcatSchema,
  ElementSchema,
  ResourceSchema,
  SearchQuery,
  UpdateResourceSchema,
  VersionParams,
  VersionSchema,
  VersionSummarySchema,
} from './resource.schemas';
import { schemaErrorFormatter } from './schema-error.formatter';

export interface ResourceRoutesOptions {
  resources: ResourceService;
  search: ResourceSearchService;
  elements: ElementService;
  dcat: DcatService;
}

const tags = ['catalogue'];
const header = (h: unknown) => (typeof h === 'string' ? h : undefined);

function ctx(req: FastifyRequest): CallContext {
  return { principal: req.principal, authorization: header(req.headers.authorization), requestId: String(req.id), traceparent: header(req.headers.traceparent) };
}

/** Thin handlers: schemas at the edge, rules in ResourceService. Codes contain '/', so clients send them URL-encoded. */
/** What the resource rules (resource.validator.ts, elements) refuse a create or a change with. */
const RESOURCE_RULE_CODES = [
  'INVALID_CODE',
  'CODE_MISMATCH',
  'INVALID_RELATED_CODE',
  'UNKNOWN_RELATED_CODE',
  'INVALID_CLASSIFICATION',
  'CONDITIONS_REQUIRED',
  'LEGAL_BASIS_REQUIRED',
  'DUPLICATE_ITEM_KEY',
  'CODE_TABLE_REQUIRED',
  'ELEMENT_REQUIRED',
  'ELEMENT_CLAIMED',
  'ITEM_SHARING_LOOSER',
  'MASK_NOT_APPLICABLE',
  'SCALE_NOT_APPLICABLE',
  'UNKNOWN_QUERY_KEY',
];

export async function resourceRoutes(app: App, { resources, search, elements, dcat }: ResourceRoutesOptions): Promise<void> {
  app.setSchemaErrorFormatter(schemaErrorFormatter);
  app.addSchema(ResourceSchema);
  const Resource = Type.Ref('Resource');

  app.post(
    '/api/v1/catalogue/resources',
    {
      schema: {
        tags,
        summary: 'Catalogue a resource as a draft (the provider’s unit admin, or the office admin)',
        ...operationDoc(
          'Creates a draft resource with its items, sharing type and service modes. A unit admin catalogues only its own unit’s resources; a standard data element has one authoritative source, so an element another resource claims is refused.',
          ['ROLE_REQUIRED', 'NOT_YOUR_UNIT', 'CODE_EXISTS', 'UNKNOWN_UNIT', 'UNIT_DISABLED', 'UNIT_DIRECTORY_UNAVAILABLE', ...RESOURCE_RULE_CODES],
        ),
        body: CreateResourceSchema,
        response: { 201: Resource, ...problemResponses(400, 401, 403, 409, 503) },
      },
    },
    async (req, reply) => reply.code(201).send(await resources.create(ctx(req), req.body)),
  );
  app.get(
    '/api/v1/catalogue/resources',
    {
      schema: {
        tags,
        summary: 'Search and browse resources (published ones for everyone; drafts for their provider and the office)',
        ...operationDoc('Full-text and filtered search over the catalogue, paged by cursor. Drafts and deprecated resources show only to their provider and the office.', ['INVALID_CURSOR']),
        querystring: SearchQuery,
        response: { 200: page(Resource), ...problemResponses(400, 401) },
      },
    },
    async (req) => search.search(req.principal, req.query),
  );
  app.get(
    '/api/v1/catalogue/resources/:code',
    {
      schema: {
        tags,
        summary: 'Read a resource (code URL-encoded: 101001%2F0001)',
        ...operationDoc('One resource with its items. A draft is 404 for anyone but its provider and the office.'),
        params: CodeParams,
        response: { 200: Resource, ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => resources.get(req.principal, req.params.code),
  );
  app.patch(
    '/api/v1/catalogue/resources/:code',
    {
      schema: {
        tags,
        summary: 'Change a resource; every change is a new version',
        ...operationDoc(
          'Its provider unit’s admin or the office changes a resource; every change is a new version, and a deprecated resource no longer changes. Only the office moves a resource to another provider.',
          ['NOT_YOUR_RESOURCE', 'NOT_YOUR_UNIT', 'RESOURCE_DEPRECATED', 'CONCURRENT_CHANGE', ...RESOURCE_RULE_CODES],
        ),
        params: CodeParams,
        body: UpdateResourceSchema,
        response: { 200: Resource, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req) => resources.update(ctx(req), req.params.code, req.body),
  );
  app.post(
    '/api/v1/catalogue/resources/:code/publish',
    {
      schema: {
        tags,
        summary: 'Publish a draft (office admin)',
        ...operationDoc('Publishes a draft so that units may request it. Office admin only; only a draft can be published.', ['ROLE_REQUIRED', 'ILLEGAL_TRANSITION']),
        params: CodeParams,
        response: { 200: Resource, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => resources.publish(ctx(req), req.params.code),
  );
  app.post(
    '/api/v1/catalogue/resources/:code/deprecate',
    {
      schema: {
        tags,
        summary: 'Deprecate a published resource (office admin or the provider’s unit admin)',
        ...operationDoc('Deprecates a published resource: no new requests, and its grants end. Its provider unit’s admin or the office admin may.', ['NOT_YOUR_RESOURCE', 'ILLEGAL_TRANSITION']),
        params: CodeParams,
        response: { 200: Resource, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => resources.deprecate(ctx(req), req.params.code),
  );
  app.get(
    '/api/v1/catalogue/resources/:code/versions',
    {
      schema: {
        tags,
        summary: 'The versions of a resource: who changed what, and when',
        ...operationDoc('The version history of a resource the caller may see, newest first.'),
        params: CodeParams,
        response: { 200: Type.Object({ items: Type.Array(VersionSummarySchema) }), ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => ({
      items: await resources.versions(req.principal, req.params.code),
    }),
  );
  app.get(
    '/api/v1/catalogue/resources/:code/versions/:version',
    {
      schema: {
        tags,
        summary: 'A resource as it was at one version',
        ...operationDoc('One past version of a resource the caller may see; an unknown version is 404.'),
        params: VersionParams,
        response: { 200: VersionSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => resources.version(req.principal, req.params.code, req.params.version),
  );
  app.get(
    '/api/v1/catalogue/elements',
    {
      schema: {
        tags,
        summary: 'Standard data elements and their one authoritative source (一数一源)',
        ...operationDoc('Every standard data element and the resource that is its one authoritative source. Any signed-in caller may read it.'),
        response: { 200: Type.Object({ items: Type.Array(ElementSchema) }), ...problemResponses(401) },
      },
    },
    async (req) => ({
      items: await elements.list(req.principal),
    }),
  );
  app.get(
    '/api/v1/catalogue/dcat',
    {
      schema: {
        tags,
        summary: 'The published catalogue as DCAT (JSON-LD) for open-data portals, paged (hydra:next)',
        ...operationDoc('Published resources as DCAT datasets in JSON-LD, paged with hydra:next. Any signed-in caller may read it.', ['INVALID_CURSOR']),
        produces: ['application/ld+json'],
        querystring: DcatQuery,
        response: { 200: DcatSchema, ...problemResponses(400, 401) },
      },
    },
    async (req, reply) => reply.type('application/ld+json; charset=utf-8').send(await dcat.catalog({ limit: req.query.limit ?? 1000, after: req.query.after, open: req.query.open })),
  );
}
