import { createHash, randomUUID } from 'node:crypto';
import { untypedEvent } from '@gdx/contracts';
import { canonicalize, ChainService, draftFromEvent, type AuditRecord } from '@gdx/audit/testing';

describe('canonical JSON (RFC 8785)', () => {
  it('writes the RFC’s primitive example byte for byte', () => {
    // RFC 8785 §3.2.2 example.
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalize(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts member names by UTF-16 code units, array-index-like names included', () => {
    // RFC 8785 §3.2.3 sorting example; "1" and "10" defeat insertion order in JavaScript objects.
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '10': 'Ten',
      '2': 'Two',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const keys = Object.keys(JSON.parse(canonicalize(input)) as object);
    expect(canonicalize(input).indexOf('"1"')).toBeLessThan(canonicalize(input).indexOf('"10"'));
    expect(canonicalize(input).indexOf('"10"')).toBeLessThan(canonicalize(input).indexOf('"2"'));
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","10":"Ten","2":"Two","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    expect(keys).toHaveLength(9);
  });

  it('does not depend on member order, drops undefined members, nests', () => {
    expect(canonicalize({ b: [{ y: 1, x: undefined, a: 'é' }], a: null })).toBe('{"a":null,"b":[{"a":"é","y":1}]}');
    expect(canonicalize({ a: null, b: [{ a: 'é', y: 1 }] })).toBe(canonicalize({ b: [{ y: 1, a: 'é' }], a: null }));
    expect(() => canonicalize({ a: NaN })).toThrow();
  });
});

describe('record hashing', () => {
  const chain = new ChainService();
  const generic = (r: AuditRecord) => {
    const { hash: _h, ...content } = r;
    return createHash('sha256').update('gdx-audit-record/1\n').update(canonicalize(content)).digest('hex');
  };

  it('hashes what the generic canonicaliser hashes, whatever the data holds', () => {
    const datas = [
      { resourceCode: '1/01/0001', items: ['xm', 'sfzh'], rowCount: 3, result: 'allowed' },
      { '10': 'ten', '2': 'two', nested: { '1': [1, 2, { z: 0, a: -0 }] } },
      { text: '蚌埠市公安局 \u2028 "quoted" \\ \n', n: 1e21, small: 5e-7 },
      {},
    ];
    const now = new Date().toISOString();
    for (const data of datas) {
      const e = untypedEvent('query.executed', { actor: { kind: 'client', unitId: randomUUID(), clientId: randomUUID() }, subject: 'x', data });
      const {
        records: [r],
        dataJson,
      } = chain.link([draftFromEvent(e, now)], { chain: 3, position: 41, hash: 'a'.repeat(64) });
      expect(dataJson[0]).toBe(canonicalize(data));
      expect(r).toMatchObject({ chain: 3, position: 42, prevHash: 'a'.repeat(64) });
      expect(r.hash).toBe(generic(r));
      expect(chain.hashOf(r)).toBe(r.hash);
    }
  });

  it('links each record to the one before and starts a chain at the genesis hash', () => {
    const now = new Date().toISOString();
    const drafts = [1, 2, 3].map((n) => draftFromEvent(untypedEvent('grant.issued', { actor: { kind: 'system' }, subject: `g${n}`, data: { n } }), now));
    const { records } = chain.link(drafts, { chain: 0, position: 0, hash: '' });
    expect(records.map((r) => r.position)).toEqual([1, 2, 3]);
    expect(records[0].prevHash).toBe('0'.repeat(64));
    expect(records[1].prevHash).toBe(records[0].hash);
    expect(records[2].prevHash).toBe(records[1].hash);
    // Any change of content changes the hash.
    expect(chain.hashOf({ ...records[1], subject: 'other' })).not.toBe(records[1].hash);
    expect(chain.hashOf({ ...records[1], position: 5 })).not.toBe(records[1].hash);
  });
});

describe('fields taken from events', () => {
  const now = new Date().toISOString();

  it('reads results of authentication events from their type, and the grant of grant events from the subject', () => {
    const actor = { kind: 'account' as const, unitId: randomUUID(), accountId: randomUUID() };
    expect(draftFromEvent(untypedEvent('auth.login_failed', { actor, subject: 'a', data: { ip: '10.0.0.1', requestId: 'r1' } }), now)).toMatchObject({
      result: 'failed',
      sourceAddress: '10.0.0.1',
      requestId: 'r1',
    });
    expect(draftFromEvent(untypedEvent('auth.token_refused', { actor, subject: 'a', data: {} }), now).result).toBe('denied');
    expect(draftFromEvent(untypedEvent('auth.login_succeeded', { actor, subject: 'a', data: {} }), now).result).toBe('ok');
    expect(draftFromEvent(untypedEvent('grant.revoked', { actor, subject: 'g-1', data: {} }), now)).toMatchObject({ grantId: 'g-1', result: 'ok' });
    // In the request domain requestId is the share request, not the HTTP request.
    expect(draftFromEvent(untypedEvent('request.filed', { actor, subject: 'req-1', data: { requestId: 'req-1', providerUnitId: 'p-1' } }), now)).toMatchObject({
      requestId: null,
      ownerUnitId: 'p-1',
      subject: 'req-1',
    });
    expect(draftFromEvent(untypedEvent('request.filed', { actor, subject: 'req-1', data: { requestId: 'req-1', httpRequestId: 'http-1' } }), now).requestId).toBe('http-1');
    expect(draftFromEvent(untypedEvent('resource.published', { actor, subject: '1/01/0001', data: { providerUnitId: actor.unitId } }), now)).toMatchObject({
      resourceCode: '1/01/0001',
      ownerUnitId: actor.unitId,
    });
  });

  it('ignores fields of the wrong shape rather than refusing the event', () => {
    const d = draftFromEvent(untypedEvent('query.executed', { actor: { kind: 'client' }, subject: 's', data: { items: [1, 2], rowCount: 'many', latencyMs: 'fast', result: 'maybe' } }), now);
    expect(d).toMatchObject({ items: null, rowCount: null, latencyMs: null, result: 'ok', actor: { kind: 'client', unitId: null, accountId: null, clientId: null } });
    expect(d.data).toEqual({ items: [1, 2], rowCount: 'many', latencyMs: 'fast', result: 'maybe' });
  });
});
