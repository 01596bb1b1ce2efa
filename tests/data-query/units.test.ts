import { Readable } from 'node:stream';
import { isValidCreditCode, isValidResidentId, isRegionCode, referenceData } from '@gdx/codes';
import type { ItemView } from '@gdx/contracts';
import {
  columnOf,
  tableNameOf,
  upsertKeyOf,
  RowValidator,
  type RowError,
  readRecords,
  RecordParseError,
  BatchFormatError,
  type BatchFormat,
  maskerOf,
  applyMask,
  isClear,
  creditCodeOf,
  personOf,
  rowMaker,
  starterResources,
} from '@gdx/data-query/testing';

const population = starterResources().find((r) => r.code === '101001/0001')!;

async function read(format: BatchFormat, chunks: string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const group of readRecords(format, Readable.from(chunks.map((c) => Buffer.from(c))), 10_000)) out.push(...group);
  return out;
}

describe('identifiers come only from checked codes and keys', () => {
  test('table and column names', () => {
    expect(tableNameOf('101001/0001')).toBe('r_101001_0001');
    expect(columnOf('householdAddress')).toBe('household_address');
    for (const bad of ['101001', '1/2/3', 'x"; DROP TABLE dataset; --/1', '101001/0001 ', '']) expect(() => tableNameOf(bad)).toThrow();
    for (const bad of ['a-b', '"x"', '_sys', '1abc', 'a b']) expect(() => columnOf(bad)).toThrow();
  });

  test('row key rule: the first identity-element query key, else the first query key', () => {
    const byCode = Object.fromEntries(starterResources().map((r) => [r.code, upsertKeyOf(r.items)]));
    expect(byCode['101001/0001']).toBe('idNumber');
    expect(byCode['105001/0001']).toBe('creditCode'); // licenceNo comes first, but creditCode is the standard element
    expect(byCode['103001/0001']).toBe('period');
  });
});

describe('row validation', () => {
  const v = new RowValidator(population.items, 'idNumber');
  const person = personOf(42);
  const good = { idNumber: person.idNumber, name: '张三', sex: person.sex, birthDate: person.birthDate, regionCode: person.regionCode };

  function check(record: unknown) {
    const errors: RowError[] = [];
    return { row: v.validate(record, 7, (e) => errors.push(e)), errors };
  }

  test('a valid row binds its values in item order; absent optional items are null', () => {
    const { row, errors } = check(good);
    expect(errors).toEqual([]);
    expect(row).toEqual({ op: 'upsert', key: person.idNumber, values: [person.idNumber, '张三', person.sex, null, person.birthDate, person.regionCode, null] });
  });

  test('each problem is reported against its row and item', () => {
    const wrongCheck = person.idNumber.slice(0, 17) + (person.idNumber[17] === '0' ? '1' : '0');
    const { row, errors } = check({ ...good, idNumber: wrongCheck, sex: '3', birthDate: '1990-02-30', regionCode: '999999', name: 'x'.repeat(51), nickname: 'y' });
    expect(row).toBeNull();
    expect(errors.map((e) => [e.row, e.item])).toEqual(
      expect.arrayContaining([
        [7, 'idNumber'],
        [7, 'sex'],
        [7, 'birthDate'],
        [7, 'regionCode'],
        [7, 'name'],
        [7, 'nickname'],
      ]),
    );
    expect(errors.find((e) => e.item === 'idNumber')!.reason).toMatch(/resident identity number/);
  });

  test('required items and the row key are required; a delete needs the key only', () => {
    expect(
      check({ name: '张三' })
        .errors.map((e) => e.item)
        .sort(),
    ).toEqual(['birthDate', 'idNumber', 'sex']);
    expect(check({ op: 'delete', idNumber: person.idNumber }).row).toMatchObject({ op: 'delete', key: person.idNumber });
    expect(check({ op: 'merge', ...good }).errors).toEqual([expect.objectContaining({ item: 'op' })]);
    expect(check([1, 2]).errors).toEqual([expect.objectContaining({ item: null })]);
  });
});

describe('streaming readers', () => {
  test('NDJSON across chunk boundaries, blank lines skipped, a bad line is a row error', async () => {
    const records = await read('ndjson', ['{"a":1}\n{"a', '":2}\r\n\n', 'not json\n{"a":3}']);
    expect(records).toEqual([{ a: 1 }, { a: 2 }, expect.any(RecordParseError), { a: 3 }]);
  });

  test('CSV with a header, quoted commas, quotes and line breaks; empty fields are absent', async () => {
    const records = await read('csv', ['\uFEFFidNumber,name,householdAddress\n1,"张,三","路""1""号\n2楼"\n', '2,李四,\n3,only-two\n']);
    expect(records).toEqual([{ idNumber: '1', name: '张,三', householdAddress: '路"1"号\n2楼' }, { idNumber: '2', name: '李四' }, expect.any(RecordParseError)]);
  });

  test('a JSON array is read element by element, whatever the chunking', async () => {
    const text = '[ {"a":"x,]}"}, {"b":[1,{"c":2}]} ,"scalar", {"d":"\\"q\\""} ]';
    const whole = await read('json', [text]);
    const split = await read('json', text.split(''));
    expect(whole).toEqual([{ a: 'x,]}' }, { b: [1, { c: 2 }] }, 'scalar', { d: '"q"' }]);
    expect(split).toEqual(whole);
    await expect(read('json', ['{"a":1}'])).rejects.toBeInstanceOf(BatchFormatError);
    await expect(read('json', ['[{"a":1}'])).rejects.toBeInstanceOf(BatchFormatError);
  });
});

describe('masking', () => {
  const item = (sensitivity: ItemView['sensitivity'], mask?: ItemView['mask']): ItemView => ({
    key: 'x',
    label: 'x',
    type: 'string',
    required: false,
    queryKey: false,
    sensitivity,
    ...(mask ? { mask } : {}),
  });

  test('each item is masked as the catalogue declared it, never by its key or label', () => {
    expect(applyMask({ keepStart: 6, keepEnd: 4 }, '340302199001011234')).toBe('340302********1234');
    expect(applyMask({ keepStart: 1, keepEnd: 0 }, '张三丰')).toBe('张**');
    expect(applyMask('full', '安徽省蚌埠市')).toBe('***');
    expect(applyMask({ keepStart: 6, keepEnd: 4 }, '3403021234')).toBe('***'); // nothing left to hide
    const items = population.items;
    const mask = (key: string, v: unknown) => maskerOf(items.find((i) => i.key === key)!)?.(v) ?? v;
    expect(mask('idNumber', '340302199001011234')).toBe('340302********1234');
    expect(mask('name', '李四')).toBe('李*');
    expect(mask('householdAddress', '安徽省蚌埠市')).toBe('***'); // personal, no mask declared: hidden whole
    expect(mask('sex', '1')).toBe('1'); // not personal
    // A key or label that looks like a name or an identity number changes nothing: only the declaration counts.
    expect(maskerOf({ ...item('personal'), key: 'idNumber', label: '公民身份号码' })?.('340302199001011234')).toBe('***');
    expect(maskerOf({ ...item('internal'), key: 'name', label: '姓名' })).toBeNull();
    expect(maskerOf(item('secret', { keepStart: 0, keepEnd: 4 }))?.('6222020200112233445')).toBe('***************3445');
    expect(maskerOf(item('public', undefined))).toBeNull();
  });

  test('personal items leave in clear only when the grant lists them; secret items only with a legal basis as well', () => {
    const terms = (clear: string[], basis: string | null) => ({ clearItems: new Set(clear), clearLegalBasis: basis });
    expect(isClear(item('public'), terms([], null))).toBe(true);
    expect(isClear(item('internal'), terms([], null))).toBe(true);
    expect(isClear(item('personal'), terms([], null))).toBe(false);
    expect(isClear(item('personal'), terms(['x'], null))).toBe(true);
    expect(isClear(item('secret'), terms([], '《反洗钱法》第三十五条'))).toBe(false);
    expect(isClear(item('secret'), terms(['x'], null))).toBe(false);
    expect(isClear(item('secret'), terms(['x'], '  '))).toBe(false);
    expect(isClear(item('secret'), terms(['x'], '《反洗钱法》第三十五条'))).toBe(true);
  });
});

describe('synthetic data', () => {
  test('every row of every starter resource passes the batch validator; population keys are unique and consistent', () => {
    for (const resource of starterResources()) {
      const v = new RowValidator(resource.items, upsertKeyOf(resource.items));
      const make = rowMaker(resource);
      const errors: RowError[] = [];
      for (let i = 0; i < 300; i++) v.validate(make(i), i + 1, (e) => errors.push(e));
      expect({ code: resource.code, errors }).toEqual({ code: resource.code, errors: [] });
    }
    const ids = new Set<string>();
    let invalid = 0;
    for (let i = 0; i < 50_000; i++) {
      const p = personOf(i);
      if (!isValidResidentId(p.idNumber)) invalid++;
      ids.add(p.idNumber);
    }
    expect({ invalid, unique: ids.size }).toEqual({ invalid: 0, unique: 50_000 });
    const p = personOf(123_456);
    expect(p.idNumber.slice(6, 14)).toBe(p.birthDate.replace(/-/g, ''));
    expect(Number(p.idNumber[16]) % 2 === 1 ? '1' : '2').toBe(p.sex);
    expect(isRegionCode(p.regionCode) && p.idNumber.startsWith(p.regionCode)).toBe(true);
    expect(isValidCreditCode(creditCodeOf(987_654))).toBe(true);
    expect(referenceData().regions[p.regionCode]).toBeDefined();
  });
});
