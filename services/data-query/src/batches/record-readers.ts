import { StringDecoder } from 'node:string_decoder';

/**
 * Streaming readers for batch bodies: each yields the records of the chunks
 * received so far and keeps only an unfinished record between chunks, so memory
 * stays flat whatever the size of the body. A record that cannot be parsed is
 * passed on as a `RecordParseError` (reported against its row); a body whose
 * structure is broken throws `BatchFormatError`.
 */
export type BatchFormat = 'ndjson' | 'csv' | 'json';

export class RecordParseError {
  constructor(readonly reason: string) {}
}

export class BatchFormatError extends Error {}

export type RecordValue = unknown;

const CONTENT_TYPES: Record<string, BatchFormat> = {
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'text/csv': 'csv',
  'application/json': 'json',
};
export const BATCH_CONTENT_TYPES = Object.keys(CONTENT_TYPES);

export function formatOf(contentType: string | undefined): BatchFormat | undefined {
  return CONTENT_TYPES[(contentType ?? '').split(';')[0].trim().toLowerCase()];
}

export function readRecords(format: BatchFormat, body: AsyncIterable<Buffer | string>, maxRecordChars: number): AsyncGenerator<RecordValue[]> {
  if (format === 'ndjson') return readNdjson(body, maxRecordChars);
  if (format === 'csv') return readCsv(body, maxRecordChars);
  return readJsonArray(body, maxRecordChars);
}

function parseJson(text: string): RecordValue {
  try {
    return JSON.parse(text) as RecordValue;
  } catch {
    return new RecordParseError('is not valid JSON');
  }
}

function tooLarge(max: number): BatchFormatError {
  return new BatchFormatError(`A record is longer than ${max} characters.`);
}

/** Lines of text, without their line ends; the last line may lack one. */
async function* lines(body: AsyncIterable<Buffer | string>, max: number): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let first = true;
  for await (const chunk of body) {
    let text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    if (first && text.length) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark is not data
      first = false;
    }
    const out: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      out.push(text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
    if (rest.length > max) throw tooLarge(max);
    if (out.length) yield out;
  }
  rest += decoder.end();
  if (rest.length) yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest];
}

async function* readNdjson(body: AsyncIterable<Buffer | string>, max: number): AsyncGenerator<RecordValue[]> {
  for await (const group of lines(body, max)) {
    const records: RecordValue[] = [];
    for (const line of group) {
      if (line.length > max) throw tooLarge(max);
      if (line.trim()) records.push(parseJson(line));
    }
    if (records.length) yield records;
  }
}

/** RFC 4180 fields of one record (which may span lines when a quoted field holds a line break). */
function splitCsv(record: string): string[] | RecordParseError {
  if (!record.includes('"')) return record.split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (record[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = record.indexOf('"', i);
        if (close < 0) return new RecordParseError('has an unterminated quoted field');
        value += record.slice(i, close);
        if (record[close + 1] === '"') {
          value += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      fields.push(value);
      if (i === record.length) return fields;
      if (record[i] !== ',') return new RecordParseError('has text after a closing quote');
      i++;
    } else {
      const comma = record.indexOf(',', i);
      const field = comma < 0 ? record.slice(i) : record.slice(i, comma);
      if (field.includes('"')) return new RecordParseError('has a quote inside an unquoted field');
      fields.push(field);
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
}

function quoteCount(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
}

/** CSV with a header line of item keys (and optionally `op`); empty fields are absent values. */
async function* readCsv(body: AsyncIterable<Buffer | string>, max: number): AsyncGenerator<RecordValue[]> {
  let header: string[] | undefined;
  let pending = '';
  let quotes = 0;
  for await (const group of lines(body, max)) {
    const records: RecordValue[] = [];
    for (const line of group) {
      // A record is complete when its quotes balance; until then the line break is part of a field.
      pending = pending ? `${pending}\n${line}` : line;
      quotes += quoteCount(line);
      if (quotes % 2) {
        if (pending.length > max) throw tooLarge(max);
        continue;
      }
      const record = pending;
      pending = '';
      quotes = 0;
      if (!record.trim()) continue;
      const fields = splitCsv(record);
      if (!header) {
        if (fields instanceof RecordParseError) throw new BatchFormatError(`The CSV header ${fields.reason}.`);
        header = fields.map((f) => f.trim());
        if (header.some((h) => !h) || new Set(header).size !== header.length) throw new BatchFormatError('The CSV header must name each column once.');
        continue;
      }
      if (fields instanceof RecordParseError) records.push(fields);
      else if (fields.length !== header.length) records.push(new RecordParseError(`has ${fields.length} fields where the header has ${header.length}`));
      else {
        const rec: Record<string, string> = {};
        for (let i = 0; i < header.length; i++) if (fields[i] !== '') rec[header[i]] = fields[i];
        records.push(rec);
      }
    }
    if (records.length) yield records;
  }
  if (pending) throw new BatchFormatError('The CSV body ends inside a quoted field.');
}

/** The elements of one top-level JSON array, cut out by a small scanner and parsed one by one. */
async function* readJsonArray(body: AsyncIterable<Buffer | string>, max: number): AsyncGenerator<RecordValue[]> {
  const decoder = new StringDecoder('utf8');
  let depth = 0; // 0 before '[', 1 inside the array, >1 inside an element
  let inString = false;
  let escaped = false;
  let inElement = false;
  let done = false;
  let carry = '';
  let first = true;
  const finish = (text: string, records: RecordValue[]) => {
    records.push(parseJson(text));
    inElement = false;
  };
  for await (const chunk of body) {
    let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (first && text.length) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const records: RecordValue[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92)
          escaped = true; // backslash
        else if (c === 34) inString = false;
        continue;
      }
      if (c === 32 || c === 10 || c === 13 || c === 9) continue;
      if (done) throw new BatchFormatError('There is text after the closing bracket of the JSON array.');
      if (depth === 0) {
        if (c !== 91) throw new BatchFormatError('A JSON batch must be an array of records.');
        depth = 1;
        continue;
      }
      if (depth === 1 && !inElement && c !== 44 && c !== 93) {
        inElement = true;
        start = i;
      }
      if (c === 34) inString = true;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (depth === 1) {
          // the array's own closing bracket; a scalar element ends here too
          if (inElement) finish(carry + text.slice(start, i), records);
          carry = '';
          done = true;
          depth = 0;
        } else if (--depth === 1) {
          finish(carry + text.slice(start, i + 1), records);
          carry = '';
        }
      } else if (c === 44 && depth === 1 && inElement) {
        finish(carry + text.slice(start, i), records);
        carry = '';
      }
    }
    if (inElement) {
      carry += text.slice(start);
      if (carry.length > max) throw tooLarge(max);
    }
    if (records.length) yield records;
  }
  if (!done) throw new BatchFormatError('The JSON array is not closed.');
}
