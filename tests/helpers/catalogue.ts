import request from 'supertest';
import { referenceData } from '@gdx/codes';
import type { TestUser } from './gateway';

const bearer = (u: Pick<TestUser, 'token'>) => ({ authorization: `Bearer ${u.token}` });

/** Catalogues a reference resource through the real catalogue (provider drafts, office publishes). */
export async function publishReference(
  baseUrl: string,
  code: string,
  provider: TestUser,
  office: TestUser,
  change: (body: Record<string, unknown>) => void = () => undefined,
): Promise<Record<string, unknown>> {
  const ref = referenceData().resources.find((r) => r.code === code) as Record<string, unknown> & { items: Record<string, unknown>[] };
  if (!ref) throw new Error(`no reference resource ${code}`);
  // Standard data elements are left out: one data, one source is the catalogue's concern, not these tests'.
  const body: Record<string, unknown> = {
    code,
    classification: ref.classification,
    name: ref.name,
    summary: ref.summary,
    providerUnitId: provider.unitId,
    format: ref.format,
    items: ref.items.map(({ element: _e, ...item }) => item),
    sharing: ref.sharing,
    methods: ref.methods,
    updateCycle: ref.updateCycle,
    open: ref.open,
  };
  change(body);
  const created = await request(baseUrl).post('/api/v1/catalogue/resources').set(bearer(provider)).send(body);
  if (created.status !== 201) throw new Error(`catalogue refused ${code}: ${created.status} ${JSON.stringify(created.body)}`);
  const published = await request(baseUrl)
    .post(`/api/v1/catalogue/resources/${encodeURIComponent(code)}/publish`)
    .set(bearer(office))
    .send({});
  if (published.status !== 200) throw new Error(`catalogue did not publish ${code}: ${published.status} ${JSON.stringify(published.body)}`);
  return published.body as Record<string, unknown>;
}
