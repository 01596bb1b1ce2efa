import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { creditCodeCheckChar, referenceData, residentIdCheckChar } from '@gdx/codes';
import type { ItemView, ResourceView, ServiceMode } from '@gdx/contracts';
import { isCreditCodeItem, isIdentityItem, upsertKeyOf } from '../datasets/resource-model';

/**
 * Synthetic but valid rows for the starter catalogue: identity numbers with real
 * birth dates and check characters, credit codes with check characters, GB/T 2260
 * regions and GB/T 2261.1 sex codes, all consistent within a row. Row i is a pure
 * function of (seed, i), so a benchmark can name existing keys without reading
 * the file, and the row key of every resource is unique by construction.
 */

/** A resource of the reference data's starter catalogue, its items as the catalogue keeps them (defaults filled in). */
export interface StarterResource {
  code: string;
  name: string;
  summary: string;
  classification: string[];
  /** The key of the providing unit in the reference data (`GA`). */
  provider: string;
  format: string;
  items: ItemView[];
  sharing: ResourceView['sharing'];
  methods: ServiceMode[];
  updateCycle: string;
  open: ResourceView['open'];
}

/** The reference data's text of a starter resource: items name only what differs from the catalogue's defaults. */
type ReferenceResource = Omit<StarterResource, 'items'> & { items: (Pick<ItemView, 'key' | 'label' | 'type'> & Partial<ItemView>)[] };

let local: string[] | undefined;

/** The counties and districts of the reference city (蚌埠): where the synthetic people live. */
export function localRegions(): string[] {
  if (!local) {
    const regions = Object.keys(referenceData().regions);
    const city = referenceData().units.find((u) => u.kind === 'office')?.regionCode ?? '340300';
    const inCity = regions.filter((r) => r.startsWith(city.slice(0, 4)) && r !== city);
    local = inCity.length ? inCity : regions;
  }
  return local;
}

const FIRST_DAY = Date.UTC(1940, 0, 1);
const DAYS = Math.floor((Date.UTC(2019, 11, 31) - FIRST_DAY) / 86_400_000) + 1;
const DAY_STEP = 7919; // a prime that does not divide DAYS: spreads consecutive rows over the calendar

/** Knuth's multiplicative hash: a cheap deterministic "random" 32-bit value. */
function hash(i: number, salt: number): number {
  return Math.imul((i ^ salt) >>> 0, 2654435761) >>> 0;
}

function pick<T>(list: readonly T[], i: number, salt: number): T {
  return list[hash(i, salt) % list.length];
}

export interface Person {
  idNumber: string;
  birthDate: string;
  sex: '1' | '2';
  regionCode: string;
}

/**
 * Person i, unique for i below regions × 29,220 days × 500: region = i mod R, and
 * j = i div R is spread bijectively over (birth day, sequence number); the sex
 * bit is the parity of the sequence number, as GB 11643 has it.
 */
export function personOf(i: number, seed = 1): Person {
  const regions = localRegions();
  const regionCode = regions[i % regions.length];
  const j = Math.floor(i / regions.length);
  const day = (j * DAY_STEP) % DAYS;
  const seqIdx = Math.floor(j / DAYS);
  if (seqIdx >= 500) throw new Error('person index beyond the unique range');
  const male = (hash(i, seed) >> 7) & 1;
  const d = new Date(FIRST_DAY + ((day + seed * 31) % DAYS) * 86_400_000);
  const ymd = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  const first17 = `${regionCode}${ymd}${String(seqIdx * 2 + male).padStart(3, '0')}`;
  return { idNumber: first17 + residentIdCheckChar(first17), birthDate: `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6)}`, sex: male ? '1' : '2', regionCode };
}

/** A valid unified social credit code, unique per i (the 9-character organisation code carries i). */
export function creditCodeOf(i: number, region = '340300'): string {
  const org = String(i).padStart(8, '0').slice(-8);
  const first17 = `91${region}${org}${'0123456789ABCDEFGHJKLMNPQRTUWXY'[i % 31]}`;
  return first17 + creditCodeCheckChar(first17);
}

const SURNAMES =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'.split(
    '',
  );
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯健俊帆帅旭宁龙林欣悦晨阳文博子涵雨轩梓睿思怡佳琪一诺'.split('');
const STREETS = ['胜利路', '淮河路', '解放路', '南山路', '东海大道', '涂山路', '宏业路', '中荣街', '纬四路', '延安路'];
const COMPANY_WORDS = ['华安', '淮河', '珠城', '皖北', '龙湖', '宏业', '东方', '瑞丰', '恒信', '新兴'];
const COMPANY_KINDS = ['有限公司', '股份有限公司', '商贸有限公司', '科技有限公司', '建设工程有限公司'];

function nameOf(i: number, seed: number): string {
  const given = pick(GIVEN, i, seed + 2) + (hash(i, seed + 3) % 3 ? pick(GIVEN, i, seed + 4) : '');
  return pick(SURNAMES, i, seed + 1) + given;
}

function dateOf(i: number, salt: number, from = 2000, years = 24): string {
  const d = new Date(Date.UTC(from, 0, 1) + (hash(i, salt) % (years * 365)) * 86_400_000);
  return d.toISOString().slice(0, 10);
}

function fit(s: string, item: ItemView): string {
  return item.length ? [...s].slice(0, item.length).join('') : s;
}

/** Known keys of the starter catalogue get plausible values; anything else a value of its type. */
function valueOf(item: ItemView, i: number, seed: number, row: Record<string, unknown>, person: Person, isKey: boolean): unknown {
  const salt = seed * 131 + [...item.key].reduce((a, c) => a + c.charCodeAt(0), 0);
  if (isIdentityItem(item) || /IdNumber$/.test(item.key)) return isKey ? person.idNumber : personOf((i * 7 + (salt % 1000)) % 3_000_000, seed + 1).idNumber;
  if (isCreditCodeItem(item) || /creditCode$/i.test(item.key)) return isKey ? creditCodeOf(i) : creditCodeOf(hash(i, salt) % 5_000_000);
  if (item.codeTable === 'GB/T 2260') return person.regionCode;
  if (item.codeTable === 'GB/T 2261.1') return person.sex;
  if (item.codeTable === 'GB/T 3304') return hash(i, salt) % 10 ? '01' : String(2 + (hash(i, salt + 1) % 55)).padStart(2, '0');
  if (item.key === 'birthDate' && row.idNumber === person.idNumber) return person.birthDate;
  if (item.key === 'period') return isKey ? `${1990 + Math.floor(i / 4)}Q${(i % 4) + 1}` : `20${10 + (hash(i, salt) % 15)}Q${(hash(i, salt + 1) % 4) + 1}`;
  if (item.key === 'year') return String(2015 + (hash(i, salt) % 10));
  if (item.key === 'grade') return pick(['A', 'B', 'M', 'C', 'D'], i, salt);
  if (/Name$|^name$/.test(item.key) || /姓名|法定代表人|权利人/.test(item.label))
    return item.key === 'entityName' ? `蚌埠${pick(COMPANY_WORDS, i, salt)}${pick(COMPANY_WORDS, i, salt + 1)}${pick(COMPANY_KINDS, i, salt + 2)}${isKey ? i : ''}` : nameOf(i, salt);
  if (/[Aa]ddress$|^location$/.test(item.key)) return fit(`安徽省蚌埠市${referenceData().regions[person.regionCode] ?? ''}${pick(STREETS, i, salt)}${1 + (hash(i, salt + 1) % 999)}号`, item);
  switch (item.type) {
    case 'date':
      return dateOf(i, salt);
    case 'datetime':
      return `${dateOf(i, salt)}T${String(hash(i, salt) % 24).padStart(2, '0')}:00:00+08:00`;
    case 'integer':
      return hash(i, salt) % 100_000;
    case 'decimal':
      return Math.round((hash(i, salt) % 10_000_000) + 1) / 100;
    case 'boolean':
      return hash(i, salt) % 2 === 0;
    default: {
      if (isKey) return fit(`${item.key.slice(0, 3).toUpperCase()}${String(i).padStart(Math.min(12, Math.max(6, (item.length ?? 12) - 3)), '0')}`, item);
      return fit(pick(['正常', '有效', '在册', '注销', '变更', '暂停'], i, salt), item);
    }
  }
}

/** The function from row number to row of one resource. */
export function rowMaker(resource: StarterResource, seed = 1): (i: number) => Record<string, unknown> {
  const key = upsertKeyOf(resource.items);
  return (i) => {
    const person = personOf(i, seed);
    const row: Record<string, unknown> = {};
    for (const item of resource.items) {
      const isKey = item.key === key;
      if (!isKey && !item.required && hash(i, seed + item.key.length) % 20 === 0) continue; // some optional items left out
      row[item.key] = valueOf(item, i, seed, row, person, isKey);
    }
    return row;
  };
}

/** Streams `count` rows as NDJSON to `file`; memory stays flat whatever the count. */
export async function writeNdjson(file: string, resource: StarterResource, count: number, seed = 1): Promise<void> {
  const make = rowMaker(resource, seed);
  const out = createWriteStream(file);
  const done = once(out, 'finish');
  try {
    for (let i = 0; i < count; ) {
      const lines: string[] = [];
      for (const end = Math.min(count, i + 1000); i < end; i++) lines.push(JSON.stringify(make(i)));
      if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
    }
  } finally {
    out.end();
  }
  await done;
}

let starters: StarterResource[] | undefined;

export function starterResources(): StarterResource[] {
  starters ??= (referenceData().resources as ReferenceResource[]).map((r) => ({
    ...r,
    // The catalogue's defaults for what an item leaves out (its resource validator).
    items: r.items.map((i) => ({ ...i, required: i.required ?? false, queryKey: i.queryKey ?? false, sensitivity: i.sensitivity ?? 'internal' })),
  }));
  return starters;
}

/**
 * A starter resource as the catalogue would publish it in a `resource.*` event: the
 * whole view, its provider the given unit. For tests and benches that play the
 * catalogue.
 */
export function starterResourceView(code: string, providerUnitId: string, overrides: Partial<ResourceView> = {}): ResourceView {
  const r = starterResources().find((s) => s.code === code);
  if (!r) throw new Error(`no starter resource ${code}`);
  const unit = referenceData().units.find((u) => u.key === r.provider);
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    code: r.code,
    classification: r.classification,
    name: r.name,
    summary: r.summary,
    providerUnitId,
    providerUnitName: unit?.name ?? r.provider,
    providerCreditCode: unit?.creditCode ?? '',
    format: r.format,
    items: r.items,
    queryKeys: r.items.filter((i) => i.queryKey).map((i) => i.key),
    sharing: r.sharing,
    methods: r.methods,
    open: r.open,
    updateCycle: r.updateCycle,
    relatedCodes: [],
    status: 'published',
    version: 1,
    publishedAt: now,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}
