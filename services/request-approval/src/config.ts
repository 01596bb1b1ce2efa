import { Type } from '@sinclair/typebox';
import { CommonConfig, ConfigError, envName, loadConfig } from '@gdx/config';

const ISO_DATES = '^$|^\\d{4}-\\d{2}-\\d{2}(,\\s*\\d{4}-\\d{2}-\\d{2})*$';

export const RequestApprovalConfigSchema = {
  ...CommonConfig,
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8082 }),
  gatewayUrl: Type.String({ default: 'http://127.0.0.1:8080', description: 'The gateway, for the unit directory and other synchronous reads.' }),
  catalogueUrl: Type.String({ default: 'http://127.0.0.1:8081', description: 'The catalogue service: resources, items and sharing types are read from it, never copied by hand.' }),
  catalogueTimeoutMs: Type.Integer({ minimum: 100, default: 3_000, description: 'How long a catalogue read may take before the request answers 503.' }),
  providerDeadlineWorkingDays: Type.Integer({ minimum: 1, maximum: 60, default: 10, description: 'Working days a provider has to answer a request before it is flagged as delayed provision.' }),
  objectionAnswerWorkingDays: Type.Integer({
    minimum: 1,
    maximum: 60,
    default: 5,
    description: 'Working days a provider has to answer an objection (异议, Art. 18) in writing before it is flagged overdue.',
  }),
  complaintAnswerWorkingDays: Type.Integer({ minimum: 1, maximum: 60, default: 15, description: 'Working days the office has to answer a complaint (投诉, Art. 29) before it is flagged overdue.' }),
  noticeWorkingDays: Type.Integer({ minimum: 0, maximum: 30, default: 3, description: 'Working days ahead a maintenance window is announced (Art. 23); sooner only as an emergency with a reason.' }),
  extraHolidays: Type.String({ default: '', pattern: ISO_DATES, description: 'Comma-separated ISO dates that are holidays although they fall on a weekday (e.g. 2026-10-01,2026-10-02).' }),
  extraWorkingDays: Type.String({ default: '', pattern: ISO_DATES, description: 'Comma-separated ISO dates that are working days although they fall on a weekend (调休).' }),
  calendarUtcOffsetMinutes: Type.Integer({ minimum: -720, maximum: 840, default: 480, description: 'Offset of the civil time working days are counted in (480 = China Standard Time).' }),
  sweepIntervalMs: Type.Integer({ minimum: 0, default: 60_000, description: 'How often deadlines and grant expiry are checked; 0 turns the timer off (tests call the sweep directly).' }),
  defaultRateLimitPerSecond: Type.Integer({ minimum: 1, default: 20, description: 'Rate limit of a grant when the reviewer sets none (and of unconditional grants).' }),
  defaultDailyQuota: Type.Integer({ minimum: 1, default: 10_000, description: 'Daily quota of a grant when the reviewer sets none (and of unconditional grants).' }),
};

export type RequestApprovalConfig = ReturnType<typeof loadRequestApprovalConfig>;

export function loadRequestApprovalConfig(env: Record<string, string | undefined> = process.env, overrides = {}) {
  const config = loadConfig(RequestApprovalConfigSchema, env, overrides);
  // The pattern admits 2026-02-31; a calendar built on such a date would be silently wrong.
  for (const key of ['extraHolidays', 'extraWorkingDays'] as const) {
    for (const d of parseIsoDates(config[key])) {
      if (Number.isNaN(Date.parse(`${d}T00:00:00Z`)) || new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) !== d) throw new ConfigError(envName(key), `names an impossible date ${d}`);
    }
  }
  return config;
}

export function parseIsoDates(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
