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

/**
 * What a format writes around the records (sql-presenter.ts writes the records themselves).
 * The delivery's SHA-256 covers the data (begin, records and their separators, end), not the
 * NDJSON control lines (cursor checkpoints, the trailer): a file kept by the recipient and
 * stripped of control lines still hashes to the manifest's value.
 */
export interface PullFrame {
  begin: string;
  /** What follows every record (NDJSON, CSV) or comes between two (JSON). */
  terminator: string;
  between: string;
  end: string;
  /** A position to resume from, where the format can carry one mid-stream (NDJSON only). */
  checkpoint(cursor: string): string;
}

/** The header row of a CSV pull: the items, and `_deleted` when the pull can carry deletions (incremental). */
function csvHeader(items: readonly string[], tombstones: boolean): string {
  return `${(tombstones ? [...items, '_deleted'] : items).join(',')}\r\n`;
}

export function pullFrame(format: PullFormatName, items: readonly string[], tombstones: boolean): PullFrame {
  switch (format) {
    case 'ndjson':
      return { begin: '', terminator: '\n', between: '', end: '', checkpoint: (cursor) => `${JSON.stringify({ _cursor: cursor })}\n` };
    case 'csv':
      return { begin: csvHeader(items, tombstones), terminator: '\r\n', between: '', end: '', checkpoint: () => '' };
    case 'json':
      return { begin: '[', terminator: '', between: ',', end: ']', checkpoint: () => '' };
  }
}
