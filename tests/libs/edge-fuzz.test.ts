import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';

/**
 * Issue 11 items 5–10: a schema-driven fuzz over every operation of the platform's
 * OpenAPI document (the gateway's merged one), through a real gateway and all four
 * services with valid tokens. Path parameters, query strings and bodies get values
 * shaped by the declared schema, mixed with hostile ones (NUL, lone surrogates, huge
 * numbers, wrong types, impossible dates, long segments). Every answer must be below
 * 500 and arrive (no hang). FUZZ_SEED replays or varies a run; the default is fixed.
 */
jest.setTimeout(120_000);

let platform: TestPlatform;
let users: TestUser[];
const REQUESTS = 300;
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

beforeAll(async () => {
  platform = await startPlatform(['catalogue', 'request-approval', 'data-query', 'audit'], { config: { audit: { auditKeysDir: mkdtempSync(join(tmpdir(), 'gdx-audit-keys-')) } } });
  users = [await addUser(platform.gateway, 'OFFICE', ['office_admin', 'office_auditor']), await addUser(platform.gateway, 'GA', ['unit_admin', 'unit_operator'])];
  // Every service fetches the gateway's JWKS once before calls race.
  for (const path of ['/api/v1/catalogue/resources', '/api/v1/requests', '/api/v1/grants', '/api/v1/audit/records']) {
    await request(platform.gatewayUrl).get(path).set('authorization', `Bearer ${users[0].token}`);
  }
});
afterAll(async () => {
  await platform?.close();
});

type Schema = Record<string, unknown>;
interface Doc {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema?: Schema }[]; requestBody?: { content: Record<string, { schema?: Schema }> } }>>;
  components?: { schemas?: Record<string, Schema> };
}

const hostileString = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\uD800',
    'x\uDC00y',
    '99999999999999999999',
    '-1',
    '0',
    '1e309',
    'NaN',
    '2025-02-30T08:00:00+08:00',
    '0000-01-01T00:00:00Z',
    'a'.repeat(150),
    'b'.repeat(5000),
    '%',
    '../..',
    ' ',
    '',
    '00000000-0000-0000-0000-000000000000',
    "' OR 1=1 --",
    '101001/0001',
    '{"$gt":""}',
    '\\',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 20 }),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.constantFrom(1e20, -1e20, 2 ** 53 + 1, 1.5, -0, 1e308),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
);

function valueFor(doc: Doc, schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return hostileValue;
  const ref = schema.$ref as string | undefined;
  if (ref) return valueFor(doc, doc.components?.schemas?.[ref.split('/').pop()!], depth + 1);
  const alternatives = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  let typed: fc.Arbitrary<unknown>;
  if (alternatives?.length) typed = fc.oneof(...alternatives.map((s) => valueFor(doc, s, depth + 1)));
  else if (schema.enum) typed = fc.constantFrom(...(schema.enum as unknown[]));
  else if ('const' in schema) typed = fc.constant(schema.const);
  else {
    const type = Array.isArray(schema.type) ? (schema.type as string[])[0] : (schema.type as string | undefined);
    switch (type) {
      case 'object': {
        const props = (schema.properties ?? {}) as Record<string, Schema>;
        const record: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, s] of Object.entries(props)) record[k] = valueFor(doc, s, depth + 1);
        typed = fc.record(record, { requiredKeys: (schema.required as string[] | undefined)?.filter((k) => k in record) ?? [] });
        break;
      }
      case 'array':
        typed = fc.array(valueFor(doc, schema.items as Schema | undefined, depth + 1), { maxLength: 4 });
        break;
      case 'integer': {
        const min = typeof schema.minimum === 'number' ? schema.minimum : -5;
        const max = typeof schema.maximum === 'number' ? schema.maximum : 1000;
        typed = fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max: Math.min(max, min + 1000) }) }, { weight: 1, arbitrary: fc.constantFrom(2147483648, 1e20, -2147483649) });
        break;
      }
      case 'number':
        typed = fc.oneof(fc.double({ noNaN: true }), fc.integer());
        break;
      case 'boolean':
        typed = fc.boolean();
        break;
      case 'string': {
        // Mostly text the schema takes (within its length bounds), often with NUL or a lone surrogate in it.
        const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
        const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : 60;
        const fits = (t: string) => t.length >= minLength && t.length <= maxLength;
        const plain = fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 30) });
        const formatted =
          schema.format === 'uuid'
            ? fc.uuid()
            : schema.format === 'date-time'
              ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
              : schema.format === 'date'
                ? fc.constant('2026-01-01')
                : plain;
        const spoiled = fc
          .tuple(formatted, fc.constantFrom('\u0000', '\uD800', '\uDFFF', '2025-02-30T08:00:00+08:00', '99999999999999999999'))
          .map(([t, bad]) => `${t.slice(0, Math.max(0, maxLength - bad.length))}${bad}`);
        typed = fc.oneof({ weight: 3, arbitrary: formatted }, { weight: 2, arbitrary: spoiled.filter(fits) }, { weight: 1, arbitrary: hostileString.filter(fits) });
        break;
      }
      default:
        typed = hostileValue;
    }
  }
  return fc.oneof({ weight: 12, arbitrary: typed }, { weight: 1, arbitrary: hostileValue });
}

/** Percent-encodes what encodeURIComponent can, and a lone surrogate as the (invalid) UTF-8 of its code unit. */
function encode(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  return [...text]
    .map((ch) => {
      try {
        return encodeURIComponent(ch);
      } catch {
        const c = ch.charCodeAt(0);
        return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
      }
    })
    .join('');
}

interface Call {
  method: string;
  path: string;
  contentType?: string;
  body?: string;
}

function callsFor(doc: Doc, template: string, method: string): fc.Arbitrary<Call> {
  const op = doc.paths[template][method];
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const path = fc.tuple(...pathParams.map((p) => valueFor(doc, p.schema)));
  const query = fc.record(Object.fromEntries(queryParams.map((p) => [p.name, valueFor(doc, p.schema)])), { requiredKeys: [] });
  const content = op.requestBody?.content ?? {};
  const bodyType = 'application/json' in content ? 'application/json' : Object.keys(content)[0];
  const body = bodyType ? fc.oneof({ weight: 4, arbitrary: valueFor(doc, content[bodyType].schema) }, { weight: 1, arbitrary: hostileValue }) : fc.constant(undefined);
  return fc.record({ path, query, body }).map(({ path: values, query: q, body: b }) => {
    let url = template;
    pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, encode(values[i]))));
    const qs = Object.entries(q)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encode(v)}`)
      .join('&');
    const call: Call = { method, path: qs ? `${url}?${qs}` : url };
    if (bodyType && b !== undefined) {
      call.contentType = bodyType === 'application/x-ndjson' || bodyType === 'text/csv' ? 'application/json' : bodyType;
      call.body = JSON.stringify(b);
    }
    return call;
  });
}

test(`${REQUESTS} schema-driven hostile requests over every operation answer below 500, none hangs`, async () => {
  const doc = (await request(platform.gatewayUrl).get('/openapi.json').expect(200)).body as Doc;
  const operations = Object.entries(doc.paths).flatMap(([template, ops]) => Object.keys(ops).map((method) => ({ template, method })));
  // The merged document has every service's operations, not only the gateway's.
  expect(operations.length).toBeGreaterThan(40);
  const perOperation = Math.ceil(REQUESTS / operations.length);
  const calls = operations.flatMap(({ template, method }, i) => fc.sample(callsFor(doc, template, method), { numRuns: perOperation, seed: SEED + i }));
  const failures: unknown[] = [];
  const histogram: Record<number, number> = {};
  for (const [i, call] of calls.entries()) {
    const user = users[i % users.length];
    let req = request(platform.gatewayUrl)[call.method as 'get'](call.path).set('authorization', `Bearer ${user.token}`).timeout(10_000);
    if (call.body !== undefined) req = req.set('content-type', call.contentType ?? 'application/json').send(call.body);
    try {
      const res = await req;
      histogram[res.status] = (histogram[res.status] ?? 0) + 1;
      if (res.status >= 500) failures.push({ ...call, body: call.body?.slice(0, 300), status: res.status, answer: res.text.slice(0, 300) });
    } catch (err) {
      failures.push({ ...call, body: call.body?.slice(0, 300), error: (err as Error).message });
    }
  }
  expect(calls.length).toBeGreaterThanOrEqual(REQUESTS);
  // Not everything was refused at the door: handlers ran.
  expect(Object.entries(histogram).filter(([status]) => Number(status) < 300).length).toBeGreaterThan(0);
  if (process.env.FUZZ_VERBOSE) console.log(histogram);
  expect(failures).toEqual([]);
});
