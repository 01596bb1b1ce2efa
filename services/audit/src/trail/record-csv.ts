import type { AuditRecord } from './audit-record.model';

const COLUMNS: [string, (r: AuditRecord) => unknown][] = [
  ['id', (r) => r.id],
  ['occurredAt', (r) => r.occurredAt],
  ['type', (r) => r.type],
  ['result', (r) => r.result],
  ['actorKind', (r) => r.actor.kind],
  ['actorUnitId', (r) => r.actor.unitId],
  ['actorAccountId', (r) => r.actor.accountId],
  ['actorClientId', (r) => r.actor.clientId],
  ['subject', (r) => r.subject],
  ['resourceCode', (r) => r.resourceCode],
  ['grantId', (r) => r.grantId],
  ['route', (r) => r.route],
  ['mode', (r) => r.mode],
  ['items', (r) => r.items?.join(';')],
  ['rowCount', (r) => r.rowCount],
  ['latencyMs', (r) => r.latencyMs],
  ['requestId', (r) => r.requestId],
  ['sourceAddress', (r) => r.sourceAddress],
  ['ownerUnitId', (r) => r.ownerUnitId],
  ['chain', (r) => r.chain],
  ['position', (r) => r.position],
  ['hash', (r) => r.hash],
];

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  // Cells are strings, numbers, booleans, dates and item lists (joined with commas, as before).
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  let s = String(value);
  // A text cell starting like a formula would run in a spreadsheet (CSV injection).
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return `${COLUMNS.map(([name]) => name).join(',')}\r\n`;
}

/** RFC 4180 line. */
export function csvLine(r: AuditRecord): string {
  return `${COLUMNS.map(([, get]) => cell(get(r))).join(',')}\r\n`;
}
