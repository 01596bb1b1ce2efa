import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { untypedEvent } from '@gdx/contracts';
import { deadLetterCountKey, deadLetterKey, streamKey } from '@gdx/events';
import { REDIS_URL, deleteKeys, testPrefix } from '../helpers/redis';
import { runNode } from '../helpers/processes';

/** Issue 16 (14): the operator's commands the runbooks use (docs/operations.md). */
const prefix = testPrefix();
let redis: Redis;
beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis.disconnect();
  await deleteKeys(prefix);
});

const run = (script: string, args: string[]) => runNode(`scripts/dist/${script}`, args, { REDIS_URL, STREAM_PREFIX: prefix });

test('keys new: an Ed25519 PKCS#8 key named by its id, for any of the key directories', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gdx-keys-cli-'));
  const { code, out } = await run('keys-cli.js', ['new', dir]);
  expect(code).toBe(0);
  const [file] = readdirSync(dir);
  expect(out).toContain(`new key ${file.replace(/\.pem$/, '')}`);
  expect(createPrivateKey(readFileSync(join(dir, file))).asymmetricKeyType).toBe('ed25519');
  expect((await run('keys-cli.js', [])).code).toBe(2);
});

test('dead-letters: lists what a group gave up on, replays one onto its stream as it was, and the group’s count goes down', async () => {
  const event = untypedEvent('grant.issued', { actor: { kind: 'system' }, subject: 'x', data: { n: 1 } });
  const stream = streamKey(prefix, 'grant');
  const entry = await redis.xadd(
    deadLetterKey(prefix),
    '*',
    'stream',
    stream,
    'entryId',
    '1-0',
    'group',
    'gateway',
    'reason',
    'too many failed deliveries',
    'deliveries',
    '6',
    'event',
    JSON.stringify(event),
  );
  await redis.hincrby(deadLetterCountKey(prefix), 'gateway', 1);

  const list = await run('dead-letters-cli.js', ['list']);
  expect(list.code).toBe(0);
  expect(list.out).toContain(`${entry}  group=gateway  stream=${stream}  type=grant.issued  event=${event.id}  deliveries=6  reason=too many failed deliveries`);
  expect(list.out).toContain('1 dead-lettered');

  const replay = await run('dead-letters-cli.js', ['replay', entry!]);
  expect(replay.code).toBe(0);
  const back = await redis.xrange(stream, '-', '+');
  expect(back.map(([, f]) => f)).toEqual([['event', JSON.stringify(event)]]);
  expect(await redis.xlen(deadLetterKey(prefix))).toBe(0);
  expect(await redis.hget(deadLetterCountKey(prefix), 'gateway')).toBe('0');
  expect((await run('dead-letters-cli.js', ['replay', '9-9'])).code).toBe(1);
});
