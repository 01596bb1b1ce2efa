import type { ItemType, ItemView } from '@gdx/contracts';
import { compareItemValues, creditCodeOf, formatDecimal, formatItemValue, parseItemValue, personOf } from '@gdx/data-query/testing';

/** The one value model of data-query: what batches accept, what queries compare, what answers carry. */

const item = (type: ItemType, more: Partial<ItemView> = {}): ItemView => ({ key: 'v', label: '值', type, required: false, queryKey: false, sensitivity: 'internal', ...more });
const parse = (type: ItemType, raw: unknown, more: Partial<ItemView> = {}) => parseItemValue(item(type, more), raw);
const value = (type: ItemType, raw: unknown) => {
  const p = parse(type, raw);
  if (!p.ok || typeof p.value !== 'string') throw new Error(`${String(raw)} did not parse`);
  return p.value;
};

describe('parse: JSON or CSV text into the value a column binds, or the reason it is not one', () => {
  test('absent values are null for every type', () => {
    for (const type of ['string', 'code', 'date', 'datetime', 'integer', 'decimal', 'boolean'] as const) {
      for (const raw of [null, undefined, '']) expect(parse(type, raw)).toEqual({ ok: true, value: null });
    }
  });

  test('text: length in characters, no NUL, identity numbers, credit codes and code tables checked', () => {
    expect(parse('string', '张三丰', { length: 3 })).toEqual({ ok: true, value: '张三丰' });
    expect(parse('string', '张三丰丰', { length: 3 })).toEqual({ ok: false, reason: 'is longer than 3 characters' });
    expect(parse('string', 'a\u0000b')).toEqual({ ok: false, reason: 'contains a NUL character' });
    expect(parse('string', 12)).toEqual({ ok: false, reason: 'must be text' });
    const id = personOf(3).idNumber;
    expect(parse('string', id, { key: 'idNumber' })).toEqual({ ok: true, value: id });
    expect(parse('string', `${id.slice(0, 17)}${id[17] === '0' ? '1' : '0'}`, { key: 'idNumber' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^is not a valid resident identity number/),
    });
    const credit = creditCodeOf(5);
    expect(parse('string', credit, { element: '统一社会信用代码' })).toEqual({ ok: true, value: credit });
    expect(parse('string', `${credit.slice(0, 17)}${credit[17] === '0' ? '1' : '0'}`, { element: '统一社会信用代码' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^is not a valid unified social credit code/),
    });
    expect(parse('code', '340302', { codeTable: 'GB/T 2260' })).toEqual({ ok: true, value: '340302' });
    expect(parse('code', '999999', { codeTable: 'GB/T 2260' })).toEqual({ ok: false, reason: 'is not a GB/T 2260 administrative region code' });
    expect(parse('code', '3', { codeTable: 'GB/T 2261.1' })).toEqual({ ok: false, reason: 'is not a GB/T 2261.1 sex code (0, 1, 2 or 9)' });
  });

  test('dates are calendar days: 2025-02-30 and 2023-02-29 are not, 2024-02-29 is', () => {
    expect(parse('date', '2024-02-29')).toEqual({ ok: true, value: '2024-02-29' });
    for (const bad of ['2025-02-30', '2023-02-29', '2025-13-01', '2025-2-3', '20250203', 20250203]) expect(parse('date', bad)).toEqual({ ok: false, reason: 'must be a date YYYY-MM-DD' });
  });

  test('date and time: ISO 8601 with a time zone, on a real day', () => {
    for (const good of ['2025-03-01T08:00:00+08:00', '2025-03-01 08:00Z', '2025-03-01T08:00:00.123456Z', '2024-02-29T00:00:00+0800'])
      expect(parse('datetime', good)).toEqual({ ok: true, value: good });
    for (const bad of [
      '2025-03-01T08:00:00',
      '2025-02-30T00:00:00Z',
      '2025-02-30T08:00:00+08:00',
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:00:00+08:00', // the instant falls in year 0
      '2025-03-01T08:00:00+20:00', // no time zone is that far east: PostgreSQL refuses it
      '2025-03-01T25:00:00Z',
      'yesterday',
    ])
      expect(parse('datetime', bad)).toEqual({ ok: false, reason: 'must be an ISO 8601 date and time with a time zone' });
  });

  test('integers and decimals: from numbers or text, as exact text', () => {
    expect(parse('integer', 42)).toEqual({ ok: true, value: '42' });
    expect(parse('integer', '-900719925474099312')).toEqual({ ok: true, value: '-900719925474099312' });
    for (const bad of [1.5, '1.5', '1e3', 2 ** 60]) expect(parse('integer', bad)).toEqual({ ok: false, reason: 'must be an integer' });
    expect(parse('decimal', 12.5)).toEqual({ ok: true, value: '12.5' });
    expect(parse('decimal', '-0.000000000000000000001')).toMatchObject({ ok: false });
    expect(parse('decimal', '123456789012345678901234567890.12')).toEqual({ ok: true, value: '123456789012345678901234567890.12' });
    for (const bad of ['1,5', 'NaN', Infinity]) expect(parse('decimal', bad)).toEqual({ ok: false, reason: 'must be a decimal number' });
  });

  test('a decimal with a declared scale takes no more digits than it: they would be rounded away when served', () => {
    expect(parse('decimal', '999', { scale: 2 })).toEqual({ ok: true, value: '999' });
    expect(parse('decimal', '999.5', { scale: 2 })).toEqual({ ok: true, value: '999.5' });
    expect(parse('decimal', 0.25, { scale: 2 })).toEqual({ ok: true, value: '0.25' });
    expect(parse('decimal', '1.005', { scale: 2 })).toEqual({ ok: false, reason: 'has more than 2 digits after the decimal point' });
    expect(parse('decimal', 0.1 + 0.2, { scale: 2 })).toMatchObject({ ok: false });
    expect(parse('decimal', '1.5', { scale: 0 })).toMatchObject({ ok: false });
  });

  test('booleans: true/false, 1/0', () => {
    expect([true, 'true', '1', false, 'false', '0'].map((raw) => parse('boolean', raw))).toEqual([true, true, true, false, false, false].map((value) => ({ ok: true, value })));
    expect(parse('boolean', 'yes')).toEqual({ ok: false, reason: 'must be true or false' });
  });
});

describe('compare: the order of range values, exactly as PostgreSQL orders them', () => {
  const sign = (n: number) => Math.sign(n);

  test('dates', () => {
    expect(sign(compareItemValues('date', value('date', '2024-12-31'), value('date', '2025-01-01')))).toBe(-1);
    expect(compareItemValues('date', '2025-01-01', '2025-01-01')).toBe(0);
  });

  test('date and time: across time zones and below the millisecond', () => {
    expect(compareItemValues('datetime', '2025-01-01T08:00:00+08:00', '2025-01-01T00:00:00Z')).toBe(0);
    expect(sign(compareItemValues('datetime', '2025-01-01T09:00:00+08:00', '2025-01-01T00:30:00Z'))).toBe(1);
    expect(sign(compareItemValues('datetime', '2025-01-01T00:00:00.123456Z', '2025-01-01T00:00:00.123457Z'))).toBe(-1);
    expect(sign(compareItemValues('datetime', '2025-01-01T00:00:00.1234Z', '2025-01-01T00:00:00.123Z'))).toBe(1);
  });

  test('integers beyond 2^53 and decimals of any scale', () => {
    expect(sign(compareItemValues('integer', '9007199254740993', '9007199254740992'))).toBe(1);
    expect(sign(compareItemValues('integer', '-5', '3'))).toBe(-1);
    expect(compareItemValues('decimal', '1.50', '1.5')).toBe(0);
    expect(sign(compareItemValues('decimal', '123456789012345678901234567890.000000000000000000001', '123456789012345678901234567890'))).toBe(1);
    expect(sign(compareItemValues('decimal', '-0.5', '-0.25'))).toBe(-1);
    expect(sign(compareItemValues('decimal', value('decimal', 1.5e-7), value('decimal', 0.0000001)))).toBe(1);
    expect(compareItemValues('decimal', value('decimal', 1e21), '1000000000000000000000')).toBe(0);
  });
});

describe('format: a stored value (PostgreSQL text) as the JSON answer carries it', () => {
  test('per type', () => {
    expect(formatItemValue('string', '张三')).toBe('张三');
    expect(formatItemValue('code', '340302')).toBe('340302');
    expect(formatItemValue('date', '1990-01-01')).toBe('1990-01-01');
    expect(formatItemValue('datetime', '2025-01-01 08:00:00+08')).toBe('2025-01-01T00:00:00.000Z');
    expect(formatItemValue('integer', '42')).toBe(42);
    expect(formatItemValue('integer', '9007199254740993')).toBe('9007199254740993');
    expect(formatItemValue('decimal', '12.50')).toBe('12.50'); // exact, as text: never a lossy double
    expect(formatItemValue('decimal', '999.00')).toBe('999.00');
    expect(formatItemValue('boolean', 't')).toBe(true);
    expect(formatItemValue('boolean', 'f')).toBe(false);
  });

  test('decimals with their declared scale: padded, or (stored before the scale) rounded half away from zero', () => {
    expect(formatDecimal('999', 2)).toBe('999.00');
    expect(formatDecimal('1234.5', 2)).toBe('1234.50');
    expect(formatDecimal('0.0350', 2)).toBe('0.04');
    expect(formatDecimal('-2.345', 2)).toBe('-2.35');
    expect(formatDecimal('-0.001', 2)).toBe('0.00');
    expect(formatDecimal('12.6', 0)).toBe('13');
    expect(formatDecimal('123456789012345678901234567890.1', 3)).toBe('123456789012345678901234567890.100');
  });
});
