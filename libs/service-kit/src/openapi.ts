/** Who answers integrators' questions about the API (the platform office's operations desk). */
export const PLATFORM_CONTACT = { name: 'GDX platform operations (the office)' };

/** Minimal OpenAPI document shape, enough to merge service documents into the platform one. */
export interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string; description?: string; contact?: { name?: string; url?: string; email?: string } };
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
  tags?: { name: string; description?: string }[];
  [key: string]: unknown;
}

/**
 * One document for the whole platform, as integrators see it through the gateway:
 * the public /api/v1 paths of every service (their health and metrics are internal).
 * A path the base document declares (the gateway's own routes, such as the interface
 * query it decides and rate-limits) keeps the base's definition.
 */
export function mergeOpenapi(base: OpenApiDoc, others: OpenApiDoc[], info: OpenApiDoc['info']): OpenApiDoc {
  const paths: Record<string, unknown> = { ...(base.paths ?? {}) };
  const schemas: Record<string, unknown> = { ...(base.components?.schemas ?? {}) };
  const tags = new Map((base.tags ?? []).map((t) => [t.name, t]));
  for (const doc of others) {
    // The base (the gateway) answers a path itself when it declares it: its definition is the one integrators meet.
    for (const [p, item] of Object.entries(doc.paths ?? {})) if (p.startsWith('/api/') && !(p in paths)) paths[p] = item;
    Object.assign(schemas, doc.components?.schemas ?? {});
    for (const t of doc.tags ?? []) if (!tags.has(t.name)) tags.set(t.name, t);
  }
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  // Only the tags of operations the platform document shows (a service's internal routes are not among them).
  const used = new Set(Object.values(sorted).flatMap((item) => Object.values(item as Record<string, { tags?: string[] }>).flatMap((op) => op?.tags ?? [])));
  return {
    ...base,
    info: { ...info, contact: info.contact ?? base.info.contact },
    paths: sorted,
    components: { ...base.components, schemas },
    tags: [...tags.values()].filter((t) => used.has(t.name)),
  };
}
