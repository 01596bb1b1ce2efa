import {
  cleanCreditCode,
  cleanDate,
  cleanResidentId,
  cleanText,
  FULL_WIDTH,
  HALF_WIDTH,
  isValidResidentId,
  normalizeRegion,
  normalizeSex,
  normalizeText,
  REGION_ALIASES,
  RETIRED_REGIONS,
  toHalfWidth,
} from '@gdx/codes';

/** GB 11643-1999 check character, written out here independently of the library. */
function gb11643(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, ch, i) => acc + Number(ch) * weights[i], 0);
  return '10X98765432'[sum % 11];
}

describe('text normalisation', () => {
  test('FULL_WIDTH and HALF_WIDTH have equal lengths in code units and code points', () => {
    expect(FULL_WIDTH.length).toBe(95);
    expect(HALF_WIDTH.length).toBe(95);
    expect([...FULL_WIDTH].length).toBe([...HALF_WIDTH].length);
    expect(FULL_WIDTH[0]).toBe('！');
    expect(HALF_WIDTH[0]).toBe('!');
    expect(FULL_WIDTH.at(-2)).toBe('～');
    expect(HALF_WIDTH.at(-2)).toBe('~');
    expect(FULL_WIDTH.at(-1)).toBe('\u3000');
    expect(HALF_WIDTH.at(-1)).toBe(' ');
    // The tables, applied character by character as PostgreSQL translate() does, agree with toHalfWidth.
    const translate = (s: string): string => [...s].map((c) => (FULL_WIDTH.includes(c) ? HALF_WIDTH[FULL_WIDTH.indexOf(c)] : c)).join('');
    expect(translate(FULL_WIDTH)).toBe(toHalfWidth(FULL_WIDTH));
  });

  test('toHalfWidth maps full-width ASCII and the ideographic space only', () => {
    expect(toHalfWidth('ＡＢＣ１２３')).toBe('ABC123');
    expect(toHalfWidth('ａｚ（）＠～！')).toBe('az()@~!');
    expect(toHalfWidth('\u3000x\u3000')).toBe(' x ');
    expect(toHalfWidth('蚌埠市，')).toBe('蚌埠市,');
    expect(toHalfWidth('蚌埠市、。')).toBe('蚌埠市、。');
  });

  test('normalizeText: half-width, then trim, then case', () => {
    expect(normalizeText('\u3000x\u3000', { trim: true, halfWidth: true })).toBe('x');
    expect(normalizeText('\u3000x\u3000', { halfWidth: true })).toBe(' x ');
    expect(normalizeText(' ＡＢｃ ', { trim: true, halfWidth: true, case: 'lower' })).toBe('abc');
    expect(normalizeText(' ＡＢｃ ', { trim: true, case: 'upper' })).toBe('ＡＢＣ');
    expect(normalizeText(' aB ', {})).toBe(' aB ');
  });
});

describe('cleanText', () => {
  test('lists only the changes that changed something', () => {
    expect(cleanText('abc')).toEqual({ ok: true, value: 'abc', changes: [] });
    expect(cleanText('  abc ')).toEqual({ ok: true, value: 'abc', changes: ['trimmed'] });
    expect(cleanText('ＡＢＣ１２３')).toEqual({ ok: true, value: 'ABC123', changes: ['half-width'] });
    expect(cleanText('\u3000x\u3000')).toEqual({ ok: true, value: 'x', changes: ['half-width', 'trimmed'] });
  });
});

describe('cleanDate', () => {
  test.each([
    ['2023-01-05', []],
    ['2023-1-5', ['date-format']],
    ['2023/1/5', ['date-format']],
    ['2023/01/05', ['date-format']],
    ['2023.1.5', ['date-format']],
    ['20230105', ['date-format']],
    ['2023年1月5日', ['date-format']],
    ['2023年01月05日', ['date-format']],
    ['2023年1月5', ['date-format']],
    [' 2023-01-05 ', ['trimmed']],
    ['２０２３－０１－０５', ['half-width']],
    ['\u3000２０２３／１／５', ['half-width', 'trimmed', 'date-format']],
  ])('%j → 2023-01-05', (raw, changes) => {
    expect(cleanDate(raw)).toEqual({ ok: true, value: '2023-01-05', changes });
  });

  test('leap days exist only in leap years', () => {
    expect(cleanDate('2024-02-29')).toEqual({ ok: true, value: '2024-02-29', changes: [] });
    expect(cleanDate('2000/2/29')).toEqual({ ok: true, value: '2000-02-29', changes: ['date-format'] });
    expect(cleanDate('1900-02-29')).toMatchObject({ ok: false, reason: 'INVALID_DATE', detail: 'is not a date that exists' });
  });

  test.each(['2023-02-30', '2023-13-01', '2023-00-10', '2023-04-31', '20230230', '2023年2月30日', '2023-01-00'])('%j does not exist', (raw) => {
    expect(cleanDate(raw)).toEqual({ ok: false, reason: 'INVALID_DATE', detail: 'is not a date that exists' });
  });

  test('years outside 1000..9999 are rejected', () => {
    expect(cleanDate('0999-01-01')).toMatchObject({ ok: false, reason: 'INVALID_DATE' });
    expect(cleanDate('10000-01-01')).toMatchObject({ ok: false, reason: 'INVALID_DATE' });
  });

  test.each(['', '2023', '2023-01', '2023-01-05 10:00:00', '2023-01-05T10:00', '2023-1/5', '23-01-05', '05/01/2023', '2023-001-05', 'yesterday'])('%j is not an accepted form', (raw) => {
    expect(cleanDate(raw)).toMatchObject({ ok: false, reason: 'INVALID_DATE' });
  });
});

describe('cleanResidentId', () => {
  test('the GB 11643 reference vector passes as is', () => {
    expect(isValidResidentId('11010519491231002X')).toBe(true);
    expect(cleanResidentId('11010519491231002X')).toEqual({ ok: true, value: '11010519491231002X', changes: [] });
  });

  test('a lower-case x is upper-cased', () => {
    expect(cleanResidentId(' 11010519491231002x')).toEqual({ ok: true, value: '11010519491231002X', changes: ['trimmed', 'upper-case'] });
    expect(cleanResidentId('１１０１０５１９４９１２３１００２ｘ')).toEqual({ ok: true, value: '11010519491231002X', changes: ['half-width', 'upper-case'] });
  });

  test('a 15-digit number is upgraded to 18 characters', () => {
    // 110105 491231 002 → 110105 19491231 002 + check character (X for this one).
    expect(gb11643('11010519491231002')).toBe('X');
    expect(cleanResidentId('110105491231002')).toEqual({ ok: true, value: '11010519491231002X', changes: ['id-15-to-18'] });
    // 340302 850307 123 → 34030219850307123: weighted sum 238, 238 mod 11 = 7 → '5' (the 8th of 10X98765432).
    expect(gb11643('34030219850307123')).toBe('5');
    expect(cleanResidentId('340302850307123')).toEqual({ ok: true, value: '340302198503071235', changes: ['id-15-to-18'] });
    expect(cleanResidentId(' ３４０３０２８５０３０７１２３ ')).toEqual({ ok: true, value: '340302198503071235', changes: ['half-width', 'trimmed', 'id-15-to-18'] });
  });

  test('an invalid 18-character number is rejected saying what is wrong', () => {
    expect(cleanResidentId('110105194912310021')).toEqual({ ok: false, reason: 'INVALID_ID_NUMBER', detail: 'has a check character that does not match its first 17 digits' });
    expect(cleanResidentId('110105194902300020')).toMatchObject({ ok: false, reason: 'INVALID_ID_NUMBER', detail: 'has a birth date that does not exist' });
    expect(cleanResidentId('11010519491231002')).toMatchObject({ ok: false, reason: 'INVALID_ID_NUMBER', detail: expect.stringContaining('shape') as unknown });
    expect(cleanResidentId('1101051949123100 2X')).toMatchObject({ ok: false, reason: 'INVALID_ID_NUMBER', detail: expect.stringContaining('shape') as unknown });
    expect(cleanResidentId('11010519491231002Y')).toMatchObject({ ok: false, reason: 'INVALID_ID_NUMBER', detail: expect.stringContaining('shape') as unknown });
    expect(cleanResidentId('110105490230002')).toEqual({ ok: false, reason: 'INVALID_ID_NUMBER', detail: 'is a 15-digit number whose birth date does not exist' });
  });
});

describe('cleanCreditCode', () => {
  test('the GB 32100 reference vector passes; lower case is upper-cased', () => {
    expect(cleanCreditCode('91350100M000100Y43')).toEqual({ ok: true, value: '91350100M000100Y43', changes: [] });
    expect(cleanCreditCode('91350100m000100y43')).toEqual({ ok: true, value: '91350100M000100Y43', changes: ['upper-case'] });
    expect(cleanCreditCode('\u3000９１３５０１００Ｍ０００１００Ｙ４３ ')).toEqual({ ok: true, value: '91350100M000100Y43', changes: ['half-width', 'trimmed'] });
  });

  test('a wrong check character or shape is rejected saying which', () => {
    expect(cleanCreditCode('91350100M000100Y44')).toEqual({ ok: false, reason: 'INVALID_CREDIT_CODE', detail: 'has a check character that does not match its first 17 characters' });
    for (const bad of ['91350100M000100Y4', '91350100M000100O43', '9135010AM000100Y43', '']) {
      expect(cleanCreditCode(bad)).toMatchObject({ ok: false, reason: 'INVALID_CREDIT_CODE', detail: expect.stringContaining('shape') as unknown });
    }
  });
});

describe('normalizeRegion', () => {
  test('a current code is kept', () => {
    expect(normalizeRegion('340302')).toEqual({ ok: true, value: '340302', changes: [] });
    expect(normalizeRegion(' ３４０３００')).toEqual({ ok: true, value: '340300', changes: ['half-width', 'trimmed'] });
  });

  test.each([
    ['安徽省', '340000'],
    ['蚌埠市', '340300'],
    ['安徽省蚌埠市', '340300'],
    ['龙子湖区', '340302'],
    ['蚌埠市龙子湖区', '340302'],
    ['安徽省蚌埠市龙子湖区', '340302'],
    ['安徽省龙子湖区', '340302'],
    ['怀远县', '340321'],
    ['安徽省蚌埠市怀远县', '340321'],
    ['合肥市', '340100'],
  ])('the name %j maps to %s', (raw, code) => {
    expect(normalizeRegion(raw)).toEqual({ ok: true, value: code, changes: ['mapped'] });
  });

  test('the districts renamed in 2004 map to the codes they kept', () => {
    expect(REGION_ALIASES).toEqual({ 东市区: '340302', 中市区: '340303', 西市区: '340304', 郊区: '340311' });
    expect(normalizeRegion('东市区')).toEqual({ ok: true, value: '340302', changes: ['mapped'] });
    expect(normalizeRegion('中市区')).toEqual({ ok: true, value: '340303', changes: ['mapped'] });
    expect(normalizeRegion('蚌埠市西市区')).toEqual({ ok: true, value: '340304', changes: ['mapped'] });
    expect(normalizeRegion('安徽省蚌埠市郊区 ')).toEqual({ ok: true, value: '340311', changes: ['trimmed', 'mapped'] });
  });

  test('the retired Chaohu prefecture code is rejected as split', () => {
    expect(Object.keys(RETIRED_REGIONS)).toEqual(['341400']);
    const r = normalizeRegion('341400');
    expect(r).toMatchObject({ ok: false, reason: 'RETIRED_REGION' });
    expect(!r.ok && r.detail).toContain('split');
  });

  test.each(['340399', '110000', '蚌埠', '合肥市龙子湖区', '龙子湖区蚌埠市', '', '北京市'])('%j is unknown', (raw) => {
    expect(normalizeRegion(raw)).toMatchObject({ ok: false, reason: 'UNKNOWN_REGION' });
  });
});

describe('normalizeSex', () => {
  test.each(['0', '1', '2', '9'])('the code %s is kept', (code) => {
    expect(normalizeSex(code)).toEqual({ ok: true, value: code, changes: [] });
  });

  test.each([
    ['男', '1'],
    ['男性', '1'],
    ['M', '1'],
    ['m', '1'],
    ['male', '1'],
    ['Male', '1'],
    ['女', '2'],
    ['女性', '2'],
    ['F', '2'],
    ['f', '2'],
    ['female', '2'],
    ['未知', '0'],
    ['未知的性别', '0'],
    ['unknown', '0'],
    ['未说明', '9'],
    ['未说明的性别', '9'],
  ])('%j → %s', (raw, code) => {
    expect(normalizeSex(raw)).toEqual({ ok: true, value: code, changes: ['mapped'] });
  });

  test('full-width and padded values', () => {
    expect(normalizeSex('１')).toEqual({ ok: true, value: '1', changes: ['half-width'] });
    expect(normalizeSex(' 女 ')).toEqual({ ok: true, value: '2', changes: ['trimmed', 'mapped'] });
    expect(normalizeSex('Ｆ')).toEqual({ ok: true, value: '2', changes: ['half-width', 'mapped'] });
  });

  test.each(['3', '', 'x', '男女', 'man'])('%j is unknown', (raw) => {
    expect(normalizeSex(raw)).toEqual({ ok: false, reason: 'UNKNOWN_SEX', detail: 'is not a sex code (0, 1, 2, 9) or a recognised name' });
  });
});
