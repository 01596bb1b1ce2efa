import { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { stringify } from 'csv-stringify/sync';
import { XMLBuilder } from 'fast-xml-parser';
import type { JobResultFormat } from '../entities/job.entity';
import { resultLines } from './result-copy';

export type ResultFormat = JobResultFormat;

export const RESULT_CONTENT_TYPES: Record<ResultFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
};

const BY_MEDIA_TYPE: [RegExp, ResultFormat][] = [
  [/^application\/(x-)?ndjson\b/, 'ndjson'],
  [/^text\/csv\b/, 'csv'],
  [/^application\/json\b/, 'json'],
  [/^(application|text)\/xml\b/, 'xml'],
];

/** The format a result is asked for: `format` first, else the first `Accept` entry we serve; undefined: the job's own. */
export function negotiateResultFormat(format: ResultFormat | undefined, accept: string | undefined): ResultFormat | undefined {
  if (format) return format;
  for (const part of (accept ?? '').split(',')) {
    const type = part.trim().toLowerCase();
    const hit = BY_MEDIA_TYPE.find(([re]) => re.test(type));
    if (hit) return hit[1];
  }
  return undefined;
}

const cell = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true });

/**
 * A job's result streamed in the format asked for, from one binary COPY of its lines in order
 * (result-copy.ts; never the whole result in memory): NDJSON as stored, a JSON array, CSV with the
 * job's columns as the header (nested values as JSON text), or XML `<records><record><field name="…">`.
 */
export function resultStream(pool: Pool, jobId: string, columns: string[], format: ResultFormat): Readable {
  async function* body(): AsyncGenerator<Buffer | string> {
    const client = await pool.connect();
    let complete = false;
    try {
      if (format === 'json') yield '[';
      if (format === 'csv') yield stringify([columns], { record_delimiter: 'windows' });
      if (format === 'xml') yield '<?xml version="1.0" encoding="UTF-8"?>\n<records>\n';
      let first = true;
      for await (const chunk of resultLines(client, jobId)) {
        if (format === 'ndjson') {
          yield chunk;
          continue;
        }
        // Lines are JSON: a line end inside one is escaped, so the chunk splits on them.
        const lines = chunk.toString('utf8').split('\n');
        lines.pop();
        if (format === 'json') {
          yield `${first ? '' : ','}${lines.join(',')}`;
          first = false;
          continue;
        }
        const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        if (format === 'csv')
          yield stringify(
            records.map((rec) => columns.map((c) => cell(rec[c]))),
            { record_delimiter: 'windows' },
          );
        else
          yield `${records.map((rec) => xml.build({ record: { field: columns.filter((c) => rec[c] !== undefined && rec[c] !== null).map((c) => ({ '@_name': c, '#text': cell(rec[c]) })) } })).join('\n')}\n`;
      }
      if (format === 'json') yield ']';
      if (format === 'xml') yield '</records>\n';
      complete = true;
    } finally {
      // A download broken off mid-COPY leaves the connection in the middle of it: closed, not reused.
      client.release(!complete);
    }
  }
  return Readable.from(body(), { objectMode: false });
}
