/** The formats a pull streams, chosen by `format` or `Accept`. */
export type PullFormatName = 'ndjson' | 'csv' | 'json';

export const PULL_CONTENT_TYPES: Record<PullFormatName, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  json: 'application/json; charset=utf-8',
};

/** The format a request asks for: `format` wins, else the first of Accept's types we serve, else NDJSON. */
export function negotiatePullFormat(format: string | undefined, accept: string | undefined): PullFormatName | undefined {
  if (format) return format in PULL_CONTENT_TYPES ? (format as PullFormatName) : undefined;
  const ranked = (accept ?? '')
    .split(',')
    .map((part, n) => {
      const [type, ...params] = part.trim().toLowerCase().split(';');
      const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { type: type.trim(), q: qp ? Number(qp.slice(2)) : 1, n };
    })
    .filter((r) => r.type && r.q > 0)
    .sort((a, b) => b.q - a.q || a.n - b.n);
  if (!ranked.length) return 'ndjson';
  for (const { type } of ranked) {
    if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl') return 'ndjson';
    if (type === 'text/csv') return 'csv';
    if (type === 'application/json') return 'json';
    if (type === '*/*' || type === 'application/*') return 'ndjson';
  }
  return undefined;
}

/** One record of a pull: a row's values by item key, or a tombstone naming the deleted row's key. */
export type PullRecord = { kind: 'row'; values: Record<string, unknown> } | { kind: 'tombstone'; key: string; value: unknown };

/**
 * How records become text. `data` is what the delivery's SHA-256 covers; `control` (NDJSON's
 * cursor checkpoints and trailer) is not: a file kept by the recipient and stripped of
 * control lines still hashes to the manifest's value.
 */
export interface PullWriter {
  begin(): string;
  record(r: PullRecord): string;
  /** A position to resume from, where the format can carry one mid-stream (NDJSON only). */
  checkpoint(cursor: string): string;
  end(): string;
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : JSON.stringify(v);
  // RFC 4180: a field with a quote, a comma or a line break is quoted, its quotes doubled.
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The writer of a format. `items`: the columns, in order; `tombstones`: whether the pull can carry deletions (incremental). */
export function pullWriter(format: PullFormatName, items: readonly string[], tombstones: boolean): PullWriter {
  switch (format) {
    case 'ndjson':
      return {
        begin: () => '',
        record: (r) => `${JSON.stringify(r.kind === 'row' ? r.values : { _deleted: true, [r.key]: r.value })}\n`,
        checkpoint: (cursor) => `${JSON.stringify({ _cursor: cursor })}\n`,
        end: () => '',
      };
    case 'csv': {
      const header = tombstones ? [...items, '_deleted'] : [...items];
      return {
        begin: () => `${header.map(csvField).join(',')}\r\n`,
        record: (r) => {
          const fields = r.kind === 'row' ? items.map((k) => csvField(r.values[k])) : items.map((k) => (k === r.key ? csvField(r.value) : ''));
          if (tombstones) fields.push(r.kind === 'row' ? '' : 'true');
          return `${fields.join(',')}\r\n`;
        },
        checkpoint: () => '',
        end: () => '',
      };
    }
    case 'json': {
      let first = true;
      return {
        begin: () => '[',
        record: (r) => {
          const text = JSON.stringify(r.kind === 'row' ? r.values : { _deleted: true, [r.key]: r.value });
          const sep = first ? '' : ',';
          first = false;
          return sep + text;
        },
        checkpoint: () => '',
        end: () => ']',
      };
    }
  }
}
