import { Writable } from 'node:stream';
import pino from 'pino';
import { Type } from '@sinclair/typebox';
import { CommonConfig, ConfigError, loadConfig } from '@gdx/config';
import { loggerOptions } from '@gdx/logging';
import { creditCodeCheckChar, isValidCreditCode, isValidResidentId, referenceData, residentIdCheckChar } from '@gdx/codes';
import { childTraceparent } from '@gdx/events';
import { untypedEvent } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';

describe('config', () => {
  const schema = { ...CommonConfig, port: Type.Integer({ minimum: 0, maximum: 65535, default: 8081 }) };

  test('defaults suit a laptop and env vars are converted to their types', () => {
    const c = loadConfig(schema, { PORT: '9000', MIGRATE_ON_START: 'false', DATABASE_POOL_SIZE: '3' });
    expect(c).toMatchObject({ port: 9000, migrateOnStart: false, databasePoolSize: 3, redisUrl: 'redis://127.0.0.1:6379', host: '0.0.0.0' });
  });

  test('a bad value fails at boot naming the variable', () => {
    expect(() => loadConfig(schema, { PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig(schema, { LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig(schema, { DATABASE_POOL_SIZE: '0' })).toThrow(/DATABASE_POOL_SIZE/);
  });
});

describe('logging', () => {
  test('secrets, tokens and personal items never reach the log', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = pino(loggerOptions('test', 'info'), sink);
    log.info({ req: { headers: { authorization: 'Bearer abc.def.ghi' } }, body: { password: 'hunter22', clientSecret: 's3cr3t', idNumber: '11010519491231002X', personName: '张三' } }, 'hello');
    const out = lines.join('');
    for (const leaked of ['abc.def.ghi', 'hunter22', 's3cr3t', '11010519491231002X', '张三']) expect(out).not.toContain(leaked);
    expect(out).toContain('[redacted]');
    expect(JSON.parse(out)).toMatchObject({ service: 'test', level: 'info', msg: 'hello' });
  });
});

describe('check characters', () => {
  test('the reference vectors validate, and one changed character fails', () => {
    const { residentId, creditCode } = referenceData().checkDigitVectors;
    for (const id of residentId) {
      expect(isValidResidentId(id)).toBe(true);
      expect(residentIdCheckChar(id)).toBe(id[17]);
      expect(isValidResidentId(id.slice(0, 17) + (id[17] === '1' ? '2' : '1'))).toBe(false);
    }
    for (const code of creditCode) {
      expect(isValidCreditCode(code)).toBe(true);
      expect(creditCodeCheckChar(code)).toBe(code[17]);
      expect(isValidCreditCode(code.slice(0, 17) + (code[17] === '0' ? '1' : '0'))).toBe(false);
    }
  });

  test('every reference unit carries a valid credit code', () => {
    for (const u of referenceData().units) expect([u.key, isValidCreditCode(u.creditCode)]).toEqual([u.key, true]);
  });

  test('shape and date are checked too', () => {
    expect(isValidResidentId('11010519491331002X')).toBe(false);
    expect(isValidResidentId('1101051949123100')).toBe(false);
    expect(isValidCreditCode('91350100M000100Y4I')).toBe(false);
  });
});

describe('event envelope', () => {
  test('ids are UUIDv7 in time order; traceparent continues the caller’s trace', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const child = childTraceparent(parent);
    expect(child.slice(0, 36)).toBe(parent.slice(0, 36));
    expect(child).not.toBe(parent);
    expect(childTraceparent('garbage')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const e = untypedEvent('grant.issued', { actor: { kind: 'system' }, subject: 'g1', data: { x: 1 }, traceparent: parent });
    expect(Object.keys(e).sort()).toEqual(['actor', 'data', 'id', 'occurredAt', 'subject', 'traceparent', 'type']);
    expect(() => untypedEvent('Bad Type', { actor: { kind: 'system' }, subject: 's', data: {} })).toThrow();
  });
});
