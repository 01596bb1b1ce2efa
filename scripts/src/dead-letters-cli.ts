/**
 * `npm run dead-letters -- list` and `npm run dead-letters -- replay <entry-id>|all`: the
 * events a consumer group gave up on ({<prefix>events}:dead-letter). Replaying puts the event
 * back on its stream, as it was, once the cause is fixed: the group that failed handles it again,
 * every other group recognises the event id and skips it. The entry then leaves the dead-letter
 * stream and its group's count (the readiness and alert figure) goes down by one.
 * REDIS_URL and STREAM_PREFIX as the services have them.
 */
import { Redis } from 'ioredis';
import { deadLetterCountKey, deadLetterKey } from '@gdx/events';

type Entry = [id: string, fields: string[]];

async function main(): Promise<void> {
  const [verb, which] = process.argv.slice(2);
  const prefix = process.env.STREAM_PREFIX ?? 'gdx:';
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  try {
    const entries = (await redis.xrange(deadLetterKey(prefix), '-', '+')) as Entry[];
    const view = ([id, f]: Entry): { id: string } & Partial<Record<'stream' | 'entryId' | 'group' | 'reason' | 'deliveries' | 'event', string>> => {
      const o: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) o[f[i]] = f[i + 1];
      return { ...o, id };
    };
    if (verb === 'list') {
      for (const e of entries.map(view)) {
        let type = '?';
        let eventId = '?';
        try {
          const ev = JSON.parse(e.event ?? '') as { type?: string; id?: string };
          type = ev.type ?? '?';
          eventId = ev.id ?? '?';
        } catch {
          // not an event: listed as such
        }
        console.log(`${e.id}  group=${e.group}  stream=${e.stream}  type=${type}  event=${eventId}  deliveries=${e.deliveries}  reason=${e.reason}`);
      }
      console.log(`gdx: ${entries.length} dead-lettered`);
      return;
    }
    if (verb === 'replay' && which) {
      const chosen = which === 'all' ? entries : entries.filter(([id]) => id === which);
      if (!chosen.length) throw new Error(`no dead-letter entry ${which}`);
      for (const e of chosen.map(view)) {
        if (!e.stream || !e.event) {
          console.log(`gdx: ${e.id} carries no event (reason: ${e.reason}); left where it is`);
          continue;
        }
        await redis.xadd(e.stream, '*', 'event', e.event);
        await redis.xdel(deadLetterKey(prefix), e.id);
        if (e.group) await redis.hincrby(deadLetterCountKey(prefix), e.group, -1);
        console.log(`gdx: ${e.id} replayed onto ${e.stream} (group ${e.group})`);
      }
      return;
    }
    console.error('usage: npm run dead-letters -- list | replay <entry-id>|all');
    process.exitCode = 2;
  } finally {
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(`gdx: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
