import { DENIAL_CODES } from '@gdx/contracts';
import { Type } from '@sinclair/typebox';
import type { ServiceTokenVerifier } from '@gdx/auth';
import { operationDoc, page, PageQuery, problemResponses, reportOwnerUnit, type App } from '@gdx/service-kit';
import type { SubscriptionService } from './subscription.service';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const tp = (h: unknown) => (typeof h === 'string' ? h : undefined);

const IdParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'The subscription’s id.' }) });
const DeliveryParams = Type.Object({
  id: Type.String({ format: 'uuid', description: 'The subscription’s id.' }),
  n: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'The delivery’s sequence number in the subscription.' }),
});

const SubscriptionSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    unitId: Type.String({ format: 'uuid', description: 'The subscribing (consumer) unit.' }),
    resourceCode: Type.String(),
    items: Nullable(Type.Array(Type.String(), { description: 'The items asked for; null: every item the grant covers.' })),
    url: Type.String({ description: 'The webhook URL deliveries are POSTed to.' }),
    status: Type.Union([Type.Literal('active'), Type.Literal('paused')]),
    pauseKind: Nullable(Type.Union([Type.Literal('manual'), Type.Literal('dead-letter'), Type.Literal('grant')], { description: 'Who or what paused it.' })),
    pausedReason: Nullable(Type.String()),
    cursor: Type.String({ description: 'A pull cursor: the changes up to it have been made into deliveries.' }),
    lastSequence: Type.Integer({ description: 'The sequence number of the last delivery made (0: none yet).' }),
    previousSecretValidUntil: Nullable(Type.String({ format: 'date-time', description: 'After a rotation: deliveries are signed with the old secret too until then.' })),
    createdBy: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { description: 'A push subscription; its signing secret is never shown again after creation or rotation.' },
);

const WithSecret = Type.Composite([
  SubscriptionSchema,
  Type.Object({ secret: Type.String({ description: 'The signing secret (`whsec_…`, Standard Webhooks). Shown this once only: store it now.' }) }),
]);

const DeliverySchema = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'The delivery’s id: its `webhook-id` on every attempt.' }),
    sequence: Type.Integer({ description: 'Its number in the subscription (1, 2, 3 …), the `gdx-delivery-sequence` header.' }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
    attempts: Type.Integer(),
    lastStatusCode: Nullable(Type.Integer({ description: 'The receiver’s status code at the last attempt (null: no answer).' })),
    lastError: Nullable(Type.String()),
    latencyMs: Nullable(Type.Integer({ description: 'How long the last attempt took.' })),
    nextAttemptAt: Nullable(Type.String({ format: 'date-time', description: 'When it is tried next (pending only).' })),
    firstAttemptAt: Nullable(Type.String({ format: 'date-time' })),
    deliveredAt: Nullable(Type.String({ format: 'date-time' })),
    grantId: Type.String({ format: 'uuid' }),
    cursorFrom: Type.String({ description: 'The pull cursor the delivery’s changes start after.' }),
    cursorTo: Type.String({ description: 'The pull cursor after its last change.' }),
    rows: Type.Integer(),
    tombstones: Type.Integer(),
    bytes: Type.Integer(),
    sha256: Type.String({ description: 'SHA-256 (hex) of the body as sent.' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { description: 'One numbered delivery in the delivery log (never its rows).' },
);

const CreateBody = Type.Object(
  {
    resourceCode: Type.String({ minLength: 3, maxLength: 64, examples: ['101001/0001'] }),
    url: Type.String({ minLength: 1, maxLength: 2000, description: 'An https URL on a public address (unless the operator allow-lists it); no credentials, no fragment.' }),
    items: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 200, description: 'A subset of the grant’s items; default: all.' })),
  },
  { additionalProperties: false },
);

const PauseBody = Type.Union([Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }), Type.Null()]);

const ListQuery = Type.Object({ ...PageQuery, resourceCode: Type.Optional(Type.String({ minLength: 3, maxLength: 64 })) }, { additionalProperties: false });
const LogQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

const READ = 'The subscribing unit’s admin and the office see it; anyone else gets 404.';
const CHANGE = 'The subscribing unit’s admin or the office admin; anyone else gets 404.';

export async function subscriptionRoutes(app: App, { subscriptions, fromGateway }: { subscriptions: SubscriptionService; fromGateway: ServiceTokenVerifier }): Promise<void> {
  // The office's calls on a unit's subscription are that unit's on the record too (§7).
  reportOwnerUnit(app, {
    routePrefix: '/api/v1/subscriptions/:id',
    fromGateway,
    ownerOf: (req) => {
      const id = (req.params as { id?: unknown } | undefined)?.id;
      return typeof id === 'string' ? subscriptions.ownerOf(id) : undefined;
    },
  });

  app.post(
    '/api/v1/subscriptions',
    {
      schema: {
        tags: ['data'],
        summary: 'Subscribe a webhook to the changes of the caller unit’s granted slice of a resource (data call, push)',
        ...operationDoc(
          'The consumer unit’s admin, holding a grant with the `data-call` mode, names a webhook URL (and optionally a subset of the granted items). From then on every accepted provider batch makes the next numbered deliveries of the changed rows of the slice (masked, filtered, tombstones `{"_deleted": true, <key>}` included), POSTed as NDJSON and signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), with `gdx-delivery-sequence`, in order, retried with back-off, then dead-lettered. A new subscription starts at the resource’s current change sequence (a full pull gives the rows before it). The URL must be https and reach only public addresses after DNS resolution unless the operator allow-lists it. The answer shows the signing secret once.',
          ['ROLE_REQUIRED', ...DENIAL_CODES, 'UNKNOWN_ITEM', 'WEBHOOK_URL_REFUSED', 'RESOURCE_NOT_FOUND', 'RESOURCE_DEPRECATED'],
        ),
        body: CreateBody,
        response: { 201: WithSecret, ...problemResponses(400, 401, 403, 404, 410, 422) },
      },
    },
    async (req, reply) => reply.code(201).send(await subscriptions.create(req.principal, req.body, tp(req.headers.traceparent))),
  );

  app.get(
    '/api/v1/subscriptions',
    {
      schema: {
        tags: ['data'],
        summary: 'List the caller unit’s push subscriptions (the office: all)',
        ...operationDoc('Newest first, paged by cursor; never the secrets. A unit admin sees the unit’s subscriptions, the office all.', ['ROLE_REQUIRED', 'INVALID_CURSOR']),
        querystring: ListQuery,
        response: { 200: page(SubscriptionSchema), ...problemResponses(400, 401, 403) },
      },
    },
    async (req) => subscriptions.list(req.principal, req.query),
  );

  app.get(
    '/api/v1/subscriptions/:id',
    {
      schema: {
        tags: ['data'],
        summary: 'Read a push subscription (never its secret)',
        ...operationDoc(READ, ['SUBSCRIPTION_NOT_FOUND', 'ROLE_REQUIRED']),
        params: IdParams,
        response: { 200: SubscriptionSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req) => subscriptions.get(req.principal, req.params.id),
  );

  app.delete(
    '/api/v1/subscriptions/:id',
    {
      schema: {
        tags: ['data'],
        summary: 'Delete a push subscription and its delivery log',
        ...operationDoc(`No delivery is sent after this. ${CHANGE} The deliveries stay on the audit record.`, ['SUBSCRIPTION_NOT_FOUND', 'ROLE_REQUIRED']),
        params: IdParams,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      await subscriptions.remove(req.principal, req.params.id, tp(req.headers.traceparent));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/subscriptions/:id/pause',
    {
      schema: {
        tags: ['data'],
        summary: 'Pause a push subscription',
        ...operationDoc(`No delivery is made or sent while it is paused; the changes meanwhile are delivered after it is resumed. ${CHANGE}`, ['SUBSCRIPTION_NOT_FOUND', 'ROLE_REQUIRED']),
        params: IdParams,
        body: PauseBody,
        response: { 200: SubscriptionSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req) => subscriptions.pause(req.principal, req.params.id, req.body?.reason, tp(req.headers.traceparent)),
  );

  app.post(
    '/api/v1/subscriptions/:id/resume',
    {
      schema: {
        tags: ['data'],
        summary: 'Resume a paused push subscription',
        ...operationDoc(
          `Deliveries resume in order: dead-lettered ones are tried again (a fresh retry period), then the changes made while it was paused. Refused while the unit’s grant does not allow the data-call mode. ${CHANGE}`,
          ['SUBSCRIPTION_NOT_FOUND', 'ROLE_REQUIRED', 'NO_GRANT', 'MODE_NOT_GRANTED', 'GRANT_NOT_ACTIVE', 'GRANT_NOT_YET_VALID', 'GRANT_EXPIRED', 'ITEM_NOT_GRANTED'],
        ),
        params: IdParams,
        response: { 200: SubscriptionSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req) => subscriptions.resume(req.principal, req.params.id, tp(req.headers.traceparent)),
  );

  app.post(
    '/api/v1/subscriptions/:id/rotate-secret',
    {
      schema: {
        tags: ['data'],
        summary: 'Rotate a push subscription’s signing secret (the new one is shown once)',
        ...operationDoc(
          'A new `whsec_…` secret, shown this once. For a grace period (`previousSecretValidUntil`) deliveries carry a signature by each secret, so the receiver can switch without losing any. Only the subscribing unit’s admin; anyone else gets 404 (the office 403).',
          ['SUBSCRIPTION_NOT_FOUND', 'ROLE_REQUIRED'],
        ),
        params: IdParams,
        response: { 200: WithSecret, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req) => subscriptions.rotateSecret(req.principal, req.params.id, tp(req.headers.traceparent)),
  );

  app.get(
    '/api/v1/subscriptions/:id/deliveries',
    {
      schema: {
        tags: ['data'],
        summary: 'The delivery log of a push subscription',
        ...operationDoc(
          `Newest first, paged by cursor: each delivery’s sequence number, status (pending, delivered, dead), attempts, last status code and error, latency, next attempt, cursor range, rows, tombstones and SHA-256 of the body. ${READ}`,
          ['SUBSCRIPTION_NOT_FOUND', 'ROLE_REQUIRED', 'INVALID_CURSOR'],
        ),
        params: IdParams,
        querystring: LogQuery,
        response: { 200: page(DeliverySchema), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req) => subscriptions.deliveries(req.principal, req.params.id, req.query),
  );

  app.post(
    '/api/v1/subscriptions/:id/deliveries/:n/redeliver',
    {
      schema: {
        tags: ['data'],
        summary: 'Send a dead-lettered delivery again',
        ...operationDoc(
          `The same bytes under the same \`webhook-id\`, now, with a fresh retry period; a subscription the dead letter paused is active again and the deliveries after it follow in order. A delivery already acknowledged is not sent again (pull from its \`cursorFrom\`). ${CHANGE}`,
          ['SUBSCRIPTION_NOT_FOUND', 'DELIVERY_NOT_FOUND', 'DELIVERY_ALREADY_DELIVERED', 'SUBSCRIPTION_PAUSED', 'ROLE_REQUIRED'],
        ),
        params: DeliveryParams,
        response: { 200: DeliverySchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => subscriptions.redeliver(req.principal, req.params.id, req.params.n, tp(req.headers.traceparent)),
  );
}
