import { promises as dns, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * SSRF guard for webhook URLs. A consumer unit names the URL; the platform makes the
 * request from inside its own network. Without this check a subscription could aim
 * deliveries at the database, the cloud metadata service or another internal host.
 */

export interface WebhookUrlPolicy {
  requireHttps: boolean;
  /** CIDRs (`10.20.0.0/16`, `fd00::/8`, a bare address) or exact host names the operator permits even though they are not public. */
  allow: string[];
}

export type WebhookUrlCheck = { ok: true; url: URL; addresses: string[] } | { ok: false; reason: string };

export type Resolver = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname, options) => dns.lookup(hostname, options);

type Family = 'ipv4' | 'ipv6';

function blockList(ranges: [string, number, Family][]): BlockList {
  const list = new BlockList();
  for (const [address, prefix, family] of ranges) list.addSubnet(address, prefix, family);
  return list;
}

/** Never a unicast destination, so not even the allow-list opens them. */
const NEVER = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['255.255.255.255', 32, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]);

/**
 * IPv4 that is not on the public internet (IANA special-purpose registry). The
 * documentation and benchmarking ranges are included: no real receiver lives there, and
 * they are routed internally in some networks.
 */
const NOT_PUBLIC_V4 = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
]);

/** Only 2000::/3 is global unicast; everything else (loopback, link-local, ULA incl. fd00:ec2::254, multicast) falls outside it. */
const GLOBAL_UNICAST_V6 = blockList([['2000::', 3, 'ipv6']]);

/** Inside 2000::/3 but not public, or carrying an IPv4 address we could not vet (Teredo, 6to4). */
const NOT_PUBLIC_V6 = blockList([
  ['2001::', 23, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['3fff::', 20, 'ipv6'],
  ['5f00::', 16, 'ipv6'],
]);

/** Expands an IPv6 address to its eight 16-bit groups; `address` is known to be valid. */
function groupsOf(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = parse(tail);
  return tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

/**
 * The IPv4 address an IPv6 one stands for, when the network would deliver it to that IPv4
 * host: IPv4-mapped (::ffff:a.b.c.d, how dual-stack sockets reach IPv4) and NAT64's
 * well-known prefix (64:ff9b::/96). The deprecated IPv4-compatible ::a.b.c.d is left out:
 * it lies outside 2000::/3 and is refused as it is.
 */
function embeddedV4(address: string): string | undefined {
  const g = groupsOf(address);
  const v4 = () => `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return v4();
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4();
  return undefined;
}

/** What the allow-list's CIDRs open; host names are kept apart and matched against the URL. */
function allowListOf(entries: string[]): { cidrs: BlockList; names: Set<string> } {
  const cidrs = new BlockList();
  const names = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    const [address, prefixText, extra] = entry.split('/');
    const family = isIP(address);
    if (family === 0) {
      if (prefixText !== undefined) throw new Error(`allow-list entry ${raw} is not a CIDR`);
      names.add(hostKey(entry));
      continue;
    }
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (extra !== undefined || !/^\d{1,3}$/.test(prefixText ?? String(max)) || prefix > max) throw new Error(`allow-list entry ${raw} is not a CIDR`);
    cidrs.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { cidrs, names };
}

/** Host names compare without case and without the root's trailing dot (`LOCALHOST.` is `localhost`). */
function hostKey(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/**
 * Why an address may not receive deliveries, or undefined when it may. `allowAll` is for
 * host names on the allow-list: the operator vouches for whatever they resolve to, as long
 * as it is a unicast address at all.
 */
function refusalOf(address: string, allow: BlockList, allowAll: boolean): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  // A zone index only occurs on link-local and similar scoped addresses, none of them a receiver.
  if (address.includes('%')) return `${address} is a scoped address`;
  const type: Family = family === 4 ? 'ipv4' : 'ipv6';
  const mapped = family === 6 ? embeddedV4(address) : undefined;
  if (NEVER.check(address, type) || (mapped !== undefined && NEVER.check(mapped, 'ipv4'))) return `${address} is not a unicast address`;
  if (allowAll || allow.check(address, type) || (mapped !== undefined && allow.check(mapped, 'ipv4'))) return undefined;
  const notPublic = `${address} is not a public address`;
  if (mapped !== undefined) return NOT_PUBLIC_V4.check(mapped, 'ipv4') ? notPublic : undefined;
  if (family === 4) return NOT_PUBLIC_V4.check(address, 'ipv4') ? notPublic : undefined;
  return !GLOBAL_UNICAST_V6.check(address, 'ipv6') || NOT_PUBLIC_V6.check(address, 'ipv6') ? notPublic : undefined;
}

/**
 * Whether deliveries may go to `raw`. On success, `addresses` are the addresses the name
 * resolved to and that passed. The caller must connect to exactly those (for example
 * through the agent's `lookup` option, keeping the URL's host for the Host header and TLS
 * SNI) and not resolve the name again: a second lookup could answer differently (DNS
 * rebinding, or a short TTL), and then the check would have vetted one host and the
 * request reached another.
 */
export async function checkWebhookUrl(raw: string, policy: WebhookUrlPolicy, resolve: Resolver = systemResolver): Promise<WebhookUrlCheck> {
  let url: URL;
  try {
    // The WHATWG parser also normalises numeric IPv4 spellings (2130706433, 0x7f000001,
    // 0177.0.0.1, 127.1) to dotted quads, so the range checks below see the real address.
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: `scheme ${url.protocol} is not allowed; use https` };
  if (url.protocol === 'http:' && policy.requireHttps) return { ok: false, reason: 'http is not allowed; use https' };
  // Credentials would be sent along with every delivery and land in logs; the signature authenticates us instead.
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not allowed' };
  // A fragment is never sent, so it can only mislead whoever reads the subscription.
  if (url.hash || raw.includes('#')) return { ok: false, reason: 'a fragment is not allowed' };

  let allow: ReturnType<typeof allowListOf>;
  try {
    allow = allowListOf(policy.allow);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const literal = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const host = hostKey(literal);
  const named = allow.names.has(host);

  if (!named && isIP(literal) === 0 && (host === 'localhost' || host.endsWith('.localhost'))) {
    // RFC 6761: resolvers may answer these with loopback without asking DNS, whatever our lookup says.
    return { ok: false, reason: `${url.hostname} is a loopback name` };
  }

  let addresses: string[];
  if (isIP(literal) !== 0) {
    addresses = [literal];
  } else {
    try {
      addresses = (await resolve(host, { all: true })).map((a) => a.address);
    } catch {
      return { ok: false, reason: `${url.hostname} could not be resolved` };
    }
    if (addresses.length === 0) return { ok: false, reason: `${url.hostname} could not be resolved` };
  }

  // Every address, not just the first: the client may try any of them, and an attacker
  // controlling the name can put a private one next to a public one.
  for (const address of addresses) {
    const refusal = refusalOf(address, allow.cidrs, named);
    if (refusal !== undefined) return { ok: false, reason: isIP(literal) === 0 ? `${url.hostname} resolves to ${address}: ${refusal}` : refusal };
  }
  return { ok: true, url, addresses };
}
