import type { LookupAddress } from 'node:dns';
import { checkWebhookUrl, type WebhookUrlPolicy } from '@gdx/data-query/testing';

/**
 * The SSRF guard for subscription URLs: nothing but public unicast addresses, however the
 * address is spelt or hidden behind a name, unless the operator's allow-list says so.
 * The resolver is injected, so no test depends on real DNS.
 */

const STRICT: WebhookUrlPolicy = { requireHttps: true, allow: [] };

/** A resolver answering from a table; unknown names fail as DNS would. */
function resolver(table: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const answer = table[hostname];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, asked };
}

const DNS = resolver({
  localhost: ['127.0.0.1', '::1'],
  'loopback.example': ['127.0.0.1'],
  'internal.example': ['10.0.0.7'],
  'metadata.example': ['169.254.169.254'],
  'v6-metadata.example': ['fd00:ec2::254'],
  'mixed.example': ['8.8.8.8', '192.168.0.10'],
  'public.example': ['8.8.8.8', '2001:4860:4860::8888'],
  'receiver.intranet': ['10.20.0.5'],
});

async function refused(url: string, policy: WebhookUrlPolicy = STRICT): Promise<string> {
  const result = await checkWebhookUrl(url, policy, DNS.resolve);
  if (result.ok) throw new Error(`${url} was allowed`);
  return result.reason;
}

describe('webhook URL check', () => {
  test('the URL parser turns numeric IPv4 spellings into dotted quads before any range check', () => {
    for (const host of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '0x7f.1', '127.0.1']) expect(new URL(`https://${host}/`).hostname).toBe('127.0.0.1');
    expect(new URL('https://[::ffff:127.0.0.1]/').hostname).toBe('[::ffff:7f00:1]');
    expect(new URL('https://LOCALHOST./').hostname).toBe('localhost.');
  });

  test.each([
    'https://127.0.0.1/hook',
    'https://127.255.255.254/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.1.2.3/hook',
    'https://172.16.0.1/hook',
    'https://172.31.255.255/hook',
    'https://192.168.1.1/hook',
    'https://100.64.0.1/hook',
    'https://0.0.0.0/hook',
    'https://224.0.0.1/hook',
    'https://240.0.0.1/hook',
    'https://255.255.255.255/hook',
    'https://[::1]/hook',
    'https://[::]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[::ffff:7f00:1]/hook',
    'https://[::ffff:a9fe:a9fe]/hook',
    'https://[::ffff:10.0.0.1]/hook',
    'https://[64:ff9b::7f00:1]/hook',
    'https://[fe80::1]/hook',
    'https://[fd00:ec2::254]/hook',
    'https://[fc00::1]/hook',
    'https://[ff02::1]/hook',
    'https://0x7f000001/hook',
    'https://2130706433/hook',
    'https://0177.0.0.1/hook',
    'https://127.1/hook',
    'https://0xa9fea9fe/hook',
    'https://203.0.113.10/hook',
  ])('refuses %s', async (url) => {
    expect(await refused(url)).toMatch(/not a (public|unicast) address/);
  });

  test('refuses loopback names, and names resolving to any non-public address', async () => {
    expect(await refused('https://localhost/hook')).toMatch(/loopback/);
    expect(await refused('https://LOCALHOST./hook')).toMatch(/loopback/);
    expect(await refused('https://app.localhost/hook')).toMatch(/loopback/);
    expect(await refused('https://loopback.example/hook')).toBe('loopback.example resolves to 127.0.0.1: 127.0.0.1 is not a public address');
    expect(await refused('https://internal.example/hook')).toMatch(/10\.0\.0\.7 is not a public address/);
    expect(await refused('https://metadata.example/hook')).toMatch(/169\.254\.169\.254/);
    expect(await refused('https://v6-metadata.example/hook')).toMatch(/fd00:ec2::254/);
    // One public address does not carry a private one through.
    expect(await refused('https://mixed.example/hook')).toMatch(/192\.168\.0\.10 is not a public address/);
    expect(await refused('https://nowhere.example/hook')).toMatch(/could not be resolved/);
    expect(await checkWebhookUrl('https://empty.example/', STRICT, async () => [])).toEqual({ ok: false, reason: 'empty.example could not be resolved' });
  });

  test('refuses other schemes, http under requireHttps, credentials, fragments and garbage', async () => {
    expect(await refused('http://8.8.8.8/hook')).toMatch(/http is not allowed/);
    expect(await refused('ftp://8.8.8.8/hook')).toMatch(/scheme ftp: is not allowed/);
    expect(await refused('file:///etc/passwd')).toMatch(/scheme file:/);
    expect(await refused('gopher://8.8.8.8/')).toMatch(/scheme/);
    expect(await refused('https://user:secret@8.8.8.8/hook')).toMatch(/credentials/);
    expect(await refused('https://user@8.8.8.8/hook')).toMatch(/credentials/);
    expect(await refused('https://8.8.8.8/hook#part')).toMatch(/fragment/);
    expect(await refused('https://8.8.8.8/hook#')).toMatch(/fragment/);
    expect(await refused('not a url')).toBe('not a valid URL');
    expect(await refused('https://8.8.8.8/', { requireHttps: true, allow: ['10.0.0.0/99'] })).toMatch(/not a CIDR/);
  });

  test('allows public addresses and names, returning the addresses to connect to', async () => {
    const literal = await checkWebhookUrl('https://8.8.8.8/hook?x=1', STRICT, DNS.resolve);
    expect(literal).toEqual({ ok: true, url: new URL('https://8.8.8.8/hook?x=1'), addresses: ['8.8.8.8'] });
    expect(await checkWebhookUrl('https://[2001:4860:4860::8888]:8443/hook', STRICT, DNS.resolve)).toMatchObject({ ok: true, addresses: ['2001:4860:4860::8888'] });
    expect(await checkWebhookUrl('https://public.example/hook', STRICT, DNS.resolve)).toMatchObject({ ok: true, addresses: ['8.8.8.8', '2001:4860:4860::8888'] });
    expect(await checkWebhookUrl('http://8.8.8.8/hook', { requireHttps: false, allow: [] }, DNS.resolve)).toMatchObject({ ok: true });
    // Address literals are never looked up.
    expect(DNS.asked).not.toContain('8.8.8.8');
  });

  test('the allow-list opens what it names and nothing else', async () => {
    const local: WebhookUrlPolicy = { requireHttps: false, allow: ['127.0.0.1/32'] };
    expect(await checkWebhookUrl('http://127.0.0.1:8080/hook', local, DNS.resolve)).toMatchObject({ ok: true, addresses: ['127.0.0.1'] });
    expect(await checkWebhookUrl('http://[::ffff:127.0.0.1]:8080/hook', local, DNS.resolve)).toMatchObject({ ok: true });
    expect(await refused('http://127.0.0.2/hook', local)).toMatch(/not a public address/);
    expect(await refused('http://[::1]/hook', local)).toMatch(/not a public address/);
    expect(await refused('http://10.1.2.3/hook', local)).toMatch(/not a public address/);

    const onPremises: WebhookUrlPolicy = { requireHttps: true, allow: ['10.20.0.0/16', 'receiver.intranet', 'fd12:3456::/32'] };
    expect(await checkWebhookUrl('https://10.20.3.4/hook', onPremises, DNS.resolve)).toMatchObject({ ok: true });
    expect(await checkWebhookUrl('https://[fd12:3456::9]/hook', onPremises, DNS.resolve)).toMatchObject({ ok: true });
    expect(await checkWebhookUrl('https://Receiver.Intranet/hook', onPremises, DNS.resolve)).toMatchObject({ ok: true, addresses: ['10.20.0.5'] });
    expect(await refused('https://internal.example/hook', onPremises)).toMatch(/10\.0\.0\.7/);
    // The allow-list waives the range check, not the other rules.
    expect(await refused('http://10.20.3.4/hook', onPremises)).toMatch(/http is not allowed/);
    expect(await refused('https://u:p@10.20.3.4/hook', onPremises)).toMatch(/credentials/);
    // Nor does it make a non-unicast address a receiver.
    expect(await refused('https://0.0.0.0/hook', { requireHttps: true, allow: ['0.0.0.0/0'] })).toMatch(/not a unicast address/);
  });
});
