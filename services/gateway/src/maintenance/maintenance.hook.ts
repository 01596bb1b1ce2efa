import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceMode } from '@gdx/contracts';
import { sendProblem } from '@gdx/errors';
import type { App, OpenApiDoc } from '@gdx/service-kit';
import type { NoticeCache } from './notice-cache';

/** What a call reaches: the service mode it uses and the resource it names, read from its path. */
export function maintenanceTarget(url: string): { mode?: ServiceMode; resourceCode?: string } | undefined {
  const path = url.split('?')[0];
  let m = /^\/api\/v1\/query\/([^/]+)\/?$/.exec(path);
  if (m) return { mode: 'interface', resourceCode: decode(m[1]) };
  m = /^\/api\/v1\/data\/([^/]+)\/records\/?$/.exec(path);
  if (m) return { mode: 'data-call', resourceCode: decode(m[1]) };
  // Anything else on a resource's data (its batches): the resource is unavailable in every mode.
  m = /^\/api\/v1\/data\/([^/]+)(\/|$)/.exec(path);
  if (m) return { resourceCode: decode(m[1]) };
  if (/^\/api\/v1\/subscriptions(\/|$)/.test(path)) return { mode: 'data-call' };
  if (/^\/api\/v1\/jobs(\/|$)/.test(path)) return { mode: 'customization' };
  return undefined;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * During an announced maintenance window (Art. 23) the gateway answers calls to what the
 * notice names with 503 problem+json, `Retry-After` the window's end and a link to the
 * notice: the platform keeps its own promise instead of failing at random. After the
 * caller is known (so the refusal is on the record as theirs), before any grant decision.
 */
export function maintenanceWindows(app: App, notices: NoticeCache): void {
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const now = Date.now();
    if (!notices.anyInEffect(now) || !req.url.startsWith('/api/v1/')) return done();
    const target = maintenanceTarget(req.url);
    const notice = target && notices.inEffect(target.mode, target.resourceCode, now);
    if (!notice) return done();
    const href = `/api/v1/notices/${notice.id}`;
    sendProblem(
      reply,
      {
        status: 503,
        code: 'MAINTENANCE',
        title: 'Service unavailable',
        detail: `Unavailable for announced maintenance (${notice.number}) until ${notice.endsAt}: ${notice.description}`,
        notice: { id: notice.id, number: notice.number, startsAt: notice.startsAt, endsAt: notice.endsAt, href },
      },
      { 'retry-after': String(Math.max(1, Math.ceil((Date.parse(notice.endsAt) - now) / 1000))), link: `<${href}>; rel="related"` },
    );
  });
}

const MAINTENANCE_DOC =
  'During an announced maintenance window naming the resource or the service mode, the gateway answers 503 `MAINTENANCE` with `Retry-After` the window’s end and a link to the notice.';

/**
 * The platform document says which operations an announced window closes: those the hook
 * above answers with 503 get the `MAINTENANCE` code, its 503 answer and `Retry-After`.
 */
export function documentMaintenance(doc: OpenApiDoc): OpenApiDoc {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    // An example of the path as a call would have it: every {param} filled in.
    if (!maintenanceTarget(path.replace(/\{[^}]+\}/g, 'x'))) continue;
    for (const op of Object.values(item as Record<string, DocumentedOperation>)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      const codes = op['x-error-codes'] ?? [];
      if (codes.includes('MAINTENANCE')) continue;
      op['x-error-codes'] = [...codes, 'MAINTENANCE'];
      op.description = op.description?.includes('Problem codes: ') ? op.description.replace(/\.$/, '').concat(', `MAINTENANCE`.') : `${op.description ?? ''}\n\nProblem codes: \`MAINTENANCE\`.`.trim();
      op.description += `\n\n${MAINTENANCE_DOC}`;
      op.responses['503'] = {
        description: 'A dependency is unavailable, or an announced maintenance window is open (`MAINTENANCE`)',
        headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds until the maintenance window ends (`MAINTENANCE`).' } },
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
  }
  return doc;
}

interface DocumentedOperation {
  description?: string;
  'x-error-codes'?: string[];
  responses?: Record<string, unknown>;
}
