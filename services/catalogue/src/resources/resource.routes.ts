import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { page, problemResponses, type App } from '@gdx/service-kit';
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
        querystring: SearchQuery,
        response: { 200: page(Resource), ...problemResponses(400, 401) },
      },
    },
    async (req) => search.search(req.principal, req.query),
  );
  app.get(
    '/api/v1/catalogue/resources/:code',
    { schema: { tags, summary: 'Read a resource (code URL-encoded: 101001%2F0001)', params: CodeParams, response: { 200: Resource, ...problemResponses(400, 401, 404) } } },
    async (req) => resources.get(req.principal, req.params.code),
  );
  app.patch(
    '/api/v1/catalogue/resources/:code',
    {
      schema: {
        tags,
        summary: 'Change a resource; every change is a new version',
        params: CodeParams,
        body: UpdateResourceSchema,
        response: { 200: Resource, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req) => resources.update(ctx(req), req.params.code, req.body),
  );
  app.post(
    '/api/v1/catalogue/resources/:code/publish',
    { schema: { tags, summary: 'Publish a draft (office admin)', params: CodeParams, response: { 200: Resource, ...problemResponses(400, 401, 403, 404, 409) } } },
    async (req) => resources.publish(ctx(req), req.params.code),
  );
  app.post(
    '/api/v1/catalogue/resources/:code/deprecate',
    {
      schema: {
        tags,
        summary: 'Deprecate a published resource (office admin or the provider’s unit admin)',
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
    { schema: { tags, summary: 'A resource as it was at one version', params: VersionParams, response: { 200: VersionSchema, ...problemResponses(400, 401, 404) } } },
    async (req) => resources.version(req.principal, req.params.code, req.params.version),
  );
  app.get(
    '/api/v1/catalogue/elements',
    {
      schema: { tags, summary: 'Standard data elements and their one authoritative source (一数一源)', response: { 200: Type.Object({ items: Type.Array(ElementSchema) }), ...problemResponses(401) } },
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
        produces: ['application/ld+json'],
        querystring: DcatQuery,
        response: { 200: DcatSchema, ...problemResponses(400, 401) },
      },
    },
    async (req, reply) => reply.type('application/ld+json; charset=utf-8').send(await dcat.catalog({ limit: req.query.limit ?? 1000, after: req.query.after, open: req.query.open })),
  );
}
