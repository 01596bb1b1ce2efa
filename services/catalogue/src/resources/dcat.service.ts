import { MoreThan, Raw, type DataSource } from 'typeorm';
import { referenceData } from '@gdx/codes';
import { Resource } from '../entities/resource.entity';

const EU = 'http://publications.europa.eu/resource/authority';

/** Update cycles in the EU frequency vocabulary that DCAT-AP harvesters expect for dct:accrualPeriodicity. */
export const ACCRUAL_PERIODICITY: Record<string, string> = {
  realtime: `${EU}/frequency/UPDATE_CONT`,
  daily: `${EU}/frequency/DAILY`,
  weekly: `${EU}/frequency/WEEKLY`,
  monthly: `${EU}/frequency/MONTHLY`,
  quarterly: `${EU}/frequency/QUARTERLY`,
  yearly: `${EU}/frequency/ANNUAL`,
  irregular: `${EU}/frequency/IRREG`,
};

/** Open resources are PUBLIC; shared-only ones RESTRICTED; `none` NON_PUBLIC (EU access-right vocabulary). */
function accessRights(r: Resource): string {
  if (r.open.open) return `${EU}/access-right/PUBLIC`;
  return r.sharingType === 'none' ? `${EU}/access-right/NON_PUBLIC` : `${EU}/access-right/RESTRICTED`;
}

const zh = (value: string) => ({ '@value': value, '@language': 'zh' });
const dateTime = (d: Date) => ({ '@value': d.toISOString(), '@type': 'xsd:dateTime' });

/**
 * The published catalogue as a DCAT 3 dcat:Catalog in JSON-LD, for open-data portals to
 * harvest. Paged by code (Hydra PartialCollectionView, which DCAT harvesters such as
 * ckanext-dcat follow), so a large catalogue never becomes one huge document.
 */
export class DcatService {
  constructor(
    private readonly db: DataSource,
    private readonly baseUrl: string,
  ) {}

  async catalog(page: { limit: number; after?: string; open?: boolean }) {
    const repo = this.db.getRepository(Resource);
    const where = {
      status: 'published' as const,
      ...(page.after ? { code: MoreThan(page.after) } : {}),
      ...(page.open !== undefined ? { open: Raw((column) => `(${column} ->> 'open')::boolean = :open`, { open: page.open }) } : {}),
    };
    const rows = await repo.find({ where, order: { code: 'ASC' }, take: page.limit + 1 });
    const more = rows.length > page.limit;
    if (more) rows.pop();
    const [{ modified }] = await this.db.query<{ modified: Date | null }[]>("SELECT max(updated_at) AS modified FROM resource WHERE status = 'published'");
    const catalogUrl = `${this.baseUrl}/api/v1/catalogue/dcat`;
    const pageUrl = (after?: string) => `${catalogUrl}?limit=${page.limit}${page.open !== undefined ? `&open=${page.open}` : ''}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    const modes = referenceData().serviceModes;
    return {
      '@context': {
        dcat: 'http://www.w3.org/ns/dcat#',
        dct: 'http://purl.org/dc/terms/',
        foaf: 'http://xmlns.com/foaf/0.1/',
        xsd: 'http://www.w3.org/2001/XMLSchema#',
        adms: 'http://www.w3.org/ns/adms#',
        hydra: 'http://www.w3.org/ns/hydra/core#',
      },
      '@id': catalogUrl,
      '@type': 'dcat:Catalog',
      'dct:title': zh('政务信息资源共享目录'),
      'dct:description': zh('本平台已发布的政务信息资源目录。'),
      'dct:modified': modified ? dateTime(new Date(modified)) : undefined,
      'hydra:view': {
        '@id': pageUrl(page.after),
        '@type': 'hydra:PartialCollectionView',
        'hydra:first': pageUrl(),
        'hydra:next': more ? pageUrl(rows[rows.length - 1].code) : undefined,
      },
      'dcat:dataset': rows.map((r) => {
        const page = `${this.baseUrl}/api/v1/catalogue/resources/${encodeURIComponent(r.code)}`;
        return {
          '@id': page,
          '@type': 'dcat:Dataset',
          'dct:identifier': r.code,
          'dct:title': zh(r.name),
          'dct:description': zh(r.summary),
          'dct:publisher': { '@type': 'foaf:Organization', 'foaf:name': zh(r.providerUnitName), 'dct:identifier': r.providerCreditCode },
          'dct:issued': r.publishedAt ? dateTime(r.publishedAt) : undefined,
          'dct:modified': dateTime(r.updatedAt),
          'dct:accrualPeriodicity': { '@id': ACCRUAL_PERIODICITY[r.updateCycle] },
          'dct:accessRights': { '@id': accessRights(r) },
          'dcat:keyword': r.items.map((i) => zh(i.label)),
          'dcat:theme': r.baseDatabase ? [zh(referenceData().baseDatabases[r.baseDatabase])] : [],
          'dct:relation': r.relatedCodes.map((c) => ({ '@id': `${this.baseUrl}/api/v1/catalogue/resources/${encodeURIComponent(c)}` })),
          'adms:version': String(r.version),
          'dcat:landingPage': { '@id': page },
          'dcat:distribution': r.methods.map((m) => ({
            '@type': 'dcat:Distribution',
            'dct:title': zh(`${r.name}(${modes[m] ?? m})`),
            'dct:format': r.format,
            'dcat:accessURL': { '@id': page },
          })),
        };
      }),
    };
  }
}
