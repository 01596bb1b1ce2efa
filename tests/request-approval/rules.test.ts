import { ConfigError } from '@gdx/config';
import { referenceData } from '@gdx/codes';
import { loadRequestApprovalConfig } from '@gdx/request-approval';
import { WorkingCalendar, validateRowFilter, checkAcceptance, sha256Hex, assertTransition, effectiveSharing, type CatalogueResource } from '@gdx/request-approval/testing';

describe('working calendar', () => {
  const cal = new WorkingCalendar({ holidays: ['2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07'], workingDays: ['2026-09-27', '2026-10-10'], utcOffsetMinutes: 480 });

  it('knows weekends, holidays and make-up working days', () => {
    expect(cal.isWorkingDay('2026-09-25')).toBe(true); // Friday
    expect(cal.isWorkingDay('2026-09-26')).toBe(false); // Saturday
    expect(cal.isWorkingDay('2026-09-27')).toBe(true); // Sunday, made up
    expect(cal.isWorkingDay('2026-10-01')).toBe(false); // Thursday, National Day
    expect(cal.isWorkingDay('2026-10-10')).toBe(true); // Saturday, made up
  });

  it('counts deadlines in working days from the local day after submission, ending at local midnight', () => {
    // Submitted Wednesday 30 September 23:30 Beijing time (15:30 UTC): the 30th does not count.
    const due = cal.addWorkingDays(new Date('2026-09-30T15:30:00Z'), 3);
    // 1–7 October off except none; Thu 8 (1), Fri 9 (2), Sat 10 made up (3) → due by Sun 11 00:00 Beijing.
    expect(due.toISOString()).toBe('2026-10-10T16:00:00.000Z');
    // Just after local midnight, it is already the 1st of October in Beijing.
    expect(cal.localDate(new Date('2026-09-30T16:00:00Z'))).toBe('2026-10-01');
    expect(cal.workingDaysBetween(new Date('2026-09-30T02:00:00Z'), new Date('2026-10-12T02:00:00Z'))).toBe(4);
  });

  it('reads holidays and working days from configuration and refuses impossible dates', () => {
    const config = loadRequestApprovalConfig({ EXTRA_HOLIDAYS: '2026-10-01, 2026-10-02', EXTRA_WORKING_DAYS: '2026-10-10', PROVIDER_DEADLINE_WORKING_DAYS: '15' });
    expect(config).toMatchObject({ extraHolidays: '2026-10-01, 2026-10-02', extraWorkingDays: '2026-10-10', providerDeadlineWorkingDays: 15, catalogueUrl: 'http://127.0.0.1:8081' });
    expect(loadRequestApprovalConfig({}).providerDeadlineWorkingDays).toBe(10);
    expect(() => loadRequestApprovalConfig({ EXTRA_HOLIDAYS: '2026-02-30' })).toThrow(ConfigError);
    expect(() => loadRequestApprovalConfig({ EXTRA_WORKING_DAYS: 'next tuesday' })).toThrow(/EXTRA_WORKING_DAYS/);
  });
});

describe('row filter', () => {
  const keys = [
    { key: 'idNumber', type: 'string' },
    { key: 'regionCode', type: 'code' },
    { key: 'year', type: 'integer' },
  ];

  it('accepts eq, in and between on query keys and drops duplicate values', () => {
    const f = validateRowFilter(
      {
        all: [
          { key: 'regionCode', op: 'in', value: ['340302', '340302', '340303'] },
          { key: 'idNumber', op: 'between', value: ['340300', '340399'] },
        ],
      },
      keys,
      'body.rowFilter',
    );
    expect(f.all[0]).toEqual({ key: 'regionCode', op: 'in', value: ['340302', '340303'] });
  });

  it('names the offending condition', () => {
    expect(() =>
      validateRowFilter(
        {
          all: [
            { key: 'regionCode', op: 'eq', value: '1' },
            { key: 'name', op: 'eq', value: 'x' },
          ],
        },
        keys,
        'body.rowFilter',
      ),
    ).toThrow(expect.objectContaining({ code: 'ROW_FILTER_KEY_NOT_QUERYABLE', extras: { field: 'body.rowFilter.all[1].key' } }));
    expect(() => validateRowFilter({ all: [{ key: 'regionCode', op: 'between', value: ['9', '1'] }] }, keys, 'f')).toThrow(
      expect.objectContaining({ code: 'ROW_FILTER_INVALID', extras: { field: 'f.all[0].value' } }),
    );
    expect(() => validateRowFilter({ all: [{ key: 'regionCode', op: 'eq', value: 340302 }] }, keys, 'f')).toThrow(expect.objectContaining({ code: 'ROW_FILTER_INVALID' }));
    expect(() => validateRowFilter({ all: [{ key: 'year', op: 'in', value: [2025, '2026'] }] }, keys, 'f')).toThrow(expect.objectContaining({ code: 'ROW_FILTER_INVALID' }));
    expect(validateRowFilter({ all: [{ key: 'year', op: 'between', value: [2020, 2025] }] }, keys, 'f').all).toHaveLength(1);
  });
});

describe('commitment', () => {
  const c = referenceData().commitment;
  it('accepts the exact text or its hash, and nothing else', () => {
    expect(checkAcceptance({ version: c.version, text: c.text }).sha256).toBe(sha256Hex(c.text));
    expect(checkAcceptance({ version: c.version, sha256: sha256Hex(c.text).toUpperCase() }).version).toBe(c.version);
    expect(() => checkAcceptance({ version: c.version, text: `${c.text} ` })).toThrow(expect.objectContaining({ code: 'COMMITMENT_MISMATCH' }));
    expect(() => checkAcceptance({ version: c.version, text: c.text, sha256: '0'.repeat(64) })).toThrow(
      expect.objectContaining({ code: 'COMMITMENT_MISMATCH', extras: { field: 'body.commitment.sha256' } }),
    );
  });
});

describe('state machines', () => {
  it('allows only the listed steps', () => {
    expect(() => assertTransition('request', 'provider_review', 'review')).not.toThrow();
    expect(() => assertTransition('request', 'granted', 'withdraw')).toThrow(expect.objectContaining({ status: 409, code: 'ILLEGAL_TRANSITION' }));
    expect(() => assertTransition('grant', 'suspended', 'resume')).not.toThrow();
    expect(() => assertTransition('grant', 'revoked', 'resume')).toThrow(expect.objectContaining({ code: 'ILLEGAL_TRANSITION' }));
    expect(() => assertTransition('grant', 'expired', 'revoke')).toThrow(expect.objectContaining({ code: 'ILLEGAL_TRANSITION' }));
  });

  it('decides a request by the strictest of the resource and the items asked for', () => {
    const res = {
      code: 'x',
      status: 'published',
      providerUnitId: 'p',
      methods: ['interface'],
      sharing: { type: 'unconditional' },
      items: [{ key: 'a' }, { key: 'b', sharing: 'conditional' }, { key: 'c', sharing: 'none' }],
    } as CatalogueResource;
    expect(effectiveSharing(res, ['a'])).toBe('unconditional');
    expect(effectiveSharing(res, ['a', 'b'])).toBe('conditional');
    expect(effectiveSharing(res, ['b', 'c'])).toBe('none');
  });
});
