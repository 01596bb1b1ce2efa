import { EVENT_DOMAINS } from '@gdx/contracts';
import { deadLetterKey, streamKey } from '@gdx/events';

/**
 * Issue 16 item 3: a consumer reads several domains' streams in one XREADGROUP, which Redis
 * Cluster refuses (CROSSSLOT) unless all the keys hash to one slot. The slot of a key is CRC16
 * (XMODEM) of its hash tag (the first non-empty `{…}`) or of the whole key, modulo 16384, as
 * the Redis Cluster specification defines it.
 */
function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(Buffer.from(key.slice(open + 1, close))) % 16384;
  }
  return crc16(Buffer.from(key)) % 16384;
}

test('the CRC16 used is the specification’s (its test vector)', () => {
  expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
});

test('every event stream of a platform, the dead-letter stream included, is in one cluster slot', () => {
  for (const prefix of ['gdx:', 'gdx:test:a1b2c3:']) {
    const keys = [...EVENT_DOMAINS.map((d) => streamKey(prefix, d)), deadLetterKey(prefix)];
    expect(new Set(keys).size).toBe(EVENT_DOMAINS.length + 1);
    expect(new Set(keys.map(keySlot)).size).toBe(1);
  }
  // Without the tag the same keys would spread over many slots: the tag is what holds them together.
  expect(new Set(EVENT_DOMAINS.map((d) => keySlot(`gdx:events:${d}`))).size).toBeGreaterThan(1);
});
