import type { ItemView, JobKind } from '@gdx/contracts';
import { BadRequestError } from '@gdx/errors';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { isCreditCodeItem, isIdentityItem } from '../datasets/resource-model';
import { isRangeType } from '../datasets/item-values';
import type { GrantEntry } from '../grants/grant-cache';
import { checkItemsKnown, projection } from '../query/row-presenter';
import type { JobResultFormat, JobSource } from '../entities/job.entity';
import type { CreateJob, JobCondition } from './job.schemas';

/** What a job will do, decided when it is accepted: its source, the items it reads, its parameters with defaults filled in, its result's columns. */
export interface JobPlan {
  kind: JobKind;
  source: JobSource;
  sourceJobId: string | null;
  items: string[];
  parameters: Record<string, unknown>;
  /** Known now (compare, filter, convert) or once the upload has been read (clean, normalize: the fields submitted). */
  columns: string[];
  resultFormat: JobResultFormat;
}

export type CleanRule = 'text' | 'date' | 'id-number' | 'credit-code' | 'region' | 'none';
export type CodeTable = 'GB/T 2260' | 'GB/T 2261.1';
export const CODE_TABLES: readonly CodeTable[] = ['GB/T 2260', 'GB/T 2261.1'];

/** The rule a field takes in a clean job unless the caller names one: what its catalogue item implies. */
export function impliedRule(item: ItemView | undefined): CleanRule {
  if (!item) return 'text';
  if (isIdentityItem(item)) return 'id-number';
  if (isCreditCodeItem(item)) return 'credit-code';
  if (item.type === 'date') return 'date';
  if (item.codeTable === 'GB/T 2260') return 'region';
  return item.type === 'string' || item.type === 'code' ? 'text' : 'none';
}

/** Result columns of the kinds whose records are the caller's own (the fields come from the upload). */
export const RECORD_COLUMNS = {
  clean: { head: ['_record', '_status'], tail: ['_changes', '_rejections'] },
  normalize: { head: ['_record', '_status'], tail: ['_mapped', '_unmapped'] },
} as const;

/** The items a job asks the grant for, before the decision (none: any grant of the mode will do); an item the resource does not have is a 400 first, whatever the grants. */
export function itemsAsked(body: CreateJob, ds: DatasetRuntime, sourceItems?: string[]): string[] | undefined {
  if (body.kind === 'compare') checkItemsKnown(ds, body.parameters.items, 'body.parameters.items');
  if (body.kind === 'filter') {
    checkItemsKnown(
      ds,
      body.parameters.conditions.map((c) => c.item),
      'body.parameters.conditions',
    );
    checkItemsKnown(ds, body.parameters.items, 'body.parameters.items');
  }
  if (body.kind === 'convert') checkItemsKnown(ds, body.parameters.items, 'body.parameters.items');
  switch (body.kind) {
    case 'compare':
      return [ds.upsertKey, ...body.parameters.items];
    case 'filter':
      return [...new Set([...body.parameters.conditions.map((c) => c.item), ...(body.parameters.items ?? [])])];
    case 'convert':
      return body.parameters.fromJob ? sourceItems : body.parameters.items;
    default:
      return undefined;
  }
}

function checkCondition(ds: DatasetRuntime, c: JobCondition, i: number): void {
  const item = ds.itemsByKey.get(c.item)!;
  const field = `body.parameters.conditions[${i}]`;
  const needsNone = c.op === 'isNull' || c.op === 'notNull';
  if (needsNone !== (c.value === undefined)) throw new BadRequestError('INVALID_CONDITION', needsNone ? `${c.op} takes no value.` : `${c.op} needs a value.`, { field });
  const list = c.op === 'in' || c.op === 'between';
  if (!needsNone && list !== Array.isArray(c.value)) throw new BadRequestError('INVALID_CONDITION', list ? `${c.op} takes a list of values.` : `${c.op} takes a single value.`, { field });
  if (c.op === 'between' && (c.value as unknown[]).length !== 2) throw new BadRequestError('INVALID_CONDITION', 'between takes [from, to].', { field });
  if ((c.op === 'gt' || c.op === 'gte' || c.op === 'lt' || c.op === 'lte' || c.op === 'between') && !isRangeType(item.type))
    throw new BadRequestError('RANGE_NOT_ALLOWED', `${c.item} is not a date or number; ranges apply to dates and numbers only.`, { field });
  if ((c.op === 'contains' || c.op === 'startsWith') && item.type !== 'string' && item.type !== 'code')
    throw new BadRequestError('INVALID_CONDITION', `${c.op} applies to text items only.`, { field });
}

/**
 * Checks a job's parameters against the resource and the grant decided for it, and fills in
 * the defaults. Everything wrong that the caller can correct is a 400 here, before anything
 * is written.
 */
export function planJob(body: CreateJob, ds: DatasetRuntime, grant: GrantEntry, source?: { id: string; items: string[]; columns: string[] }): JobPlan {
  const resultFormat = body.resultFormat ?? 'ndjson';
  switch (body.kind) {
    case 'compare': {
      const items = [...new Set(body.parameters.items)];
      checkItemsKnown(ds, items, 'body.parameters.items');
      if (items.includes(ds.upsertKey))
        throw new BadRequestError('KEY_NOT_COMPARED', `${ds.upsertKey} is the row key records are matched on; compare other items.`, { field: 'body.parameters.items' });
      const normalize = body.parameters.normalize ?? [];
      return {
        kind: 'compare',
        source: 'upload',
        sourceJobId: null,
        items: [ds.upsertKey, ...items],
        parameters: { key: ds.upsertKey, items, normalize },
        columns: ['_record', '_key', '_result', ...items, '_reason'],
        resultFormat,
      };
    }
    case 'filter': {
      const { conditions } = body.parameters;
      checkItemsKnown(
        ds,
        conditions.map((c) => c.item),
        'body.parameters.conditions',
      );
      checkItemsKnown(ds, body.parameters.items, 'body.parameters.items');
      conditions.forEach((c, i) => checkCondition(ds, c, i));
      const items = projection(ds, grant, body.parameters.items);
      // The grant must cover what is filtered on as well as what is shown.
      const read = [...new Set([...items, ...conditions.map((c) => c.item)])];
      return { kind: 'filter', source: 'slice', sourceJobId: null, items: read, parameters: { conditions, items }, columns: items, resultFormat };
    }
    case 'clean': {
      const rules = body.parameters?.rules ?? {};
      return { kind: 'clean', source: 'upload', sourceJobId: null, items: [], parameters: { rules }, columns: [], resultFormat };
    }
    case 'normalize': {
      const fields: Record<string, CodeTable> =
        body.parameters?.fields ?? Object.fromEntries(ds.items.filter((i) => (CODE_TABLES as readonly string[]).includes(i.codeTable ?? '')).map((i) => [i.key, i.codeTable as CodeTable]));
      if (!Object.keys(fields).length)
        throw new BadRequestError('NOTHING_TO_NORMALIZE', `Name the fields to map (parameters.fields); no item of this resource declares one of the code tables ${CODE_TABLES.join(', ')}.`, {
          field: 'body.parameters.fields',
        });
      return { kind: 'normalize', source: 'upload', sourceJobId: null, items: [], parameters: { fields }, columns: [], resultFormat };
    }
    case 'convert': {
      const format = body.parameters.format;
      if (source) return { kind: 'convert', source: 'job', sourceJobId: source.id, items: source.items, parameters: { format, fromJob: source.id }, columns: source.columns, resultFormat: format };
      checkItemsKnown(ds, body.parameters.items, 'body.parameters.items');
      const items = projection(ds, grant, body.parameters.items);
      return { kind: 'convert', source: 'slice', sourceJobId: null, items, parameters: { format, items }, columns: items, resultFormat: format };
    }
  }
}
