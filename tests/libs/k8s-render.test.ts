import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { loadGatewayConfig } from '@gdx/gateway';
import { loadCatalogueConfig } from '@gdx/catalogue';
import { loadRequestApprovalConfig } from '@gdx/request-approval';
import { loadDataQueryConfig } from '@gdx/data-query';
import { loadAuditConfig } from '@gdx/audit';

/**
 * Issue 16 (7): every overlay as Kubernetes would receive it (`kubectl kustomize`, offline),
 * each rendered object validated against the OpenAPI schema of its kind (kubernetes-models),
 * and the properties the base files promise checked again after the overlays had their say.
 */
const k8s = join(__dirname, '..', '..', 'k8s');
const OVERLAYS = ['dev', 'production'] as const;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean };
  containers: {
    name: string;
    image: string;
    env?: { name: string; value?: string }[];
    securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
    resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  }[];
}

function render(overlay: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(k8s, 'overlays', overlay)], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJSON() as K8sObject);
}

/** The kubernetes-models class of an object's kind: `apps/v1` → kubernetes-models/apps/v1/<Kind>, core `v1` → kubernetes-models/v1/<Kind>. */
function modelOf(o: K8sObject): new (data: unknown) => { validate(): void } {
  // The Prometheus Operator's kinds from its own models package.
  const pkg = o.apiVersion.startsWith('monitoring.coreos.com/') ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
  const mod = require(`${pkg}/${o.apiVersion}/${o.kind}`) as Record<string, new (data: unknown) => { validate(): void }>;
  return mod[o.kind];
}

/** Custom resources (CloudNativePG) have no kubernetes-models class: checked by the tests below instead. */
const CUSTOM = new Set(['postgresql.cnpg.io/v1']);

function podOf(o: K8sObject): PodSpec | undefined {
  if (o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'Job') return (o.spec as { template: { spec: PodSpec } }).template.spec;
  if (o.kind === 'CronJob') return (o.spec as { jobTemplate: { spec: { template: { spec: PodSpec } } } }).jobTemplate.spec.template.spec;
  return undefined;
}

describe.each(OVERLAYS)('k8s/overlays/%s, rendered', (overlay) => {
  const objects = render(overlay);

  test('renders, and every object is valid against the schema of its kind', () => {
    expect(objects.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const o of objects) {
      if (CUSTOM.has(o.apiVersion)) continue;
      try {
        new (modelOf(o))(o).validate();
      } catch (err) {
        problems.push(`${o.kind}/${o.metadata.name}: ${String(err)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('every pod runs non-root with a read-only root filesystem, no privilege escalation, no capabilities, requests and limits', () => {
    const pods = objects.flatMap((o) => {
      const pod = podOf(o);
      return pod ? [{ name: `${o.kind}/${o.metadata.name}`, pod }] : [];
    });
    expect(pods.length).toBeGreaterThanOrEqual(6);
    for (const { name, pod } of pods) {
      expect({ name, runAsNonRoot: pod.securityContext?.runAsNonRoot }).toEqual({ name, runAsNonRoot: true });
      for (const c of pod.containers) {
        expect({ name, container: c.name, ...c.securityContext }).toMatchObject({
          name,
          container: c.name,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(Object.keys(c.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
      }
    }
  });

  test('every image is pinned to a release, and the platform image is the overlay’s own', () => {
    const images = objects.flatMap((o) => podOf(o)?.containers.map((c) => c.image) ?? []);
    for (const image of images) expect(image).toMatch(/:[0-9a-z][\w.-]*$/);
    // A moving major tag (postgres:15, redis:7) is not a release.
    for (const image of images) expect(image).not.toMatch(/:(\d+|latest)$/);
    const platform = images.filter((i) => /(^|\/)gdx(:|$)/.test(i));
    expect(new Set(platform)).toEqual(new Set([overlay === 'dev' ? 'gdx:dev' : 'registry.example.gov.cn/gdx/gdx:0.1.0']));
  });
});

test('dev: PostgreSQL initialises in a subdirectory of its volume (a fresh volume’s root holds lost+found), Redis keeps an AOF and never evicts', () => {
  const objects = render('dev');
  const postgres = podOf(objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'postgres')!)!;
  const pgdata = postgres.containers[0].env?.find((e) => e.name === 'PGDATA')?.value;
  expect(pgdata).toBe('/var/lib/postgresql/data/pgdata');
  const redis = podOf(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'redis')!)!;
  const args = (redis.containers[0] as { args?: string[] }).args ?? [];
  expect(args.join(' ')).toMatch(/--appendonly yes/);
  expect(args.join(' ')).toMatch(/--maxmemory-policy noeviction/);
});

test('the schema check is real: a Deployment with a wrong type or without its template is refused', () => {
  expect(() => new Deployment({ metadata: { name: 'x' }, spec: { replicas: 'two' } } as never).validate()).toThrow();
  expect(() => new Deployment({ metadata: { name: 'x' }, spec: { selector: { matchLabels: { a: 'b' } } } } as never).validate()).toThrow();
});

describe('production: what a city runs (issue 16, items 1 and 9)', () => {
  const objects = render('production');
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const deployments = of('Deployment');

  test('a Namespace that enforces the restricted Pod Security profile', () => {
    const [ns] = of('Namespace') as (K8sObject & { metadata: { labels: Record<string, string> } })[];
    expect(ns.metadata.name).toBe('gdx');
    expect(ns.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect({ name: o.metadata.name, ns: o.metadata.namespace }).toEqual({ name: o.metadata.name, ns: 'gdx' });
  });

  test('each workload runs under a ServiceAccount of its own that mounts no token', () => {
    const accounts = new Map(of('ServiceAccount').map((a) => [a.metadata.name, a as K8sObject & { automountServiceAccountToken?: boolean }]));
    const workloads = [...deployments, ...of('Job'), ...of('CronJob')];
    const names = workloads.map((w) => (podOf(w) as PodSpec & { serviceAccountName?: string }).serviceAccountName);
    expect(new Set(names).size).toBe(workloads.length);
    for (const n of names) expect(accounts.get(n!)?.automountServiceAccountToken).toBe(false);
  });

  test('every Deployment: an HPA owns its replica count (no fixed replicas), a PodDisruptionBudget keeps one up, replicas spread over zones and nodes', () => {
    expect(deployments).toHaveLength(5);
    const hpas = of('HorizontalPodAutoscaler') as (K8sObject & { spec: { scaleTargetRef: { name: string }; minReplicas: number } })[];
    const pdbs = of('PodDisruptionBudget') as (K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; minAvailable: number } })[];
    for (const d of deployments) {
      const name = d.metadata.name;
      expect({ name, replicas: d.spec?.replicas }).toEqual({ name, replicas: undefined });
      expect(hpas.find((h) => h.spec.scaleTargetRef.name === name)?.spec.minReplicas).toBeGreaterThanOrEqual(2);
      const labels = (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
      const pdb = pdbs.find((p) => Object.entries(p.spec.selector.matchLabels).every(([k, v]) => labels[k] === v));
      expect({ name, minAvailable: pdb?.spec.minAvailable }).toEqual({ name, minAvailable: 1 });
      const spread = (podOf(d) as PodSpec & { topologySpreadConstraints?: { topologyKey: string; matchLabelKeys?: string[] }[] }).topologySpreadConstraints ?? [];
      expect(spread.map((c) => c.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      for (const c of spread) expect(c.matchLabelKeys).toEqual(['app.kubernetes.io/name']);
    }
  });

  test('PostgreSQL on CloudNativePG: a same-city synchronous replica in another zone, WAL archived and nightly base backups off-site; every service and the migrate Job use its credentials', () => {
    const [cluster] = of('Cluster') as (K8sObject & { spec: Record<string, any> })[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(cluster.apiVersion).toBe('postgresql.cnpg.io/v1');
    expect(cluster.spec.instances).toBeGreaterThanOrEqual(2);
    expect(cluster.spec.minSyncReplicas).toBeGreaterThanOrEqual(1);
    expect(cluster.spec.affinity.topologyKey).toBe('topology.kubernetes.io/zone');
    expect(cluster.spec.imageName).toMatch(/:15\.\d+$/);
    expect(cluster.spec.backup.barmanObjectStore.destinationPath).toMatch(/^s3:\/\//);
    expect(cluster.spec.backup.barmanObjectStore.wal).toBeDefined();
    expect(cluster.spec.bootstrap.initdb.postInitApplicationSQL.join(';')).toContain('gdx_audit_writer');
    const [scheduled] = of('ScheduledBackup') as (K8sObject & { spec: { schedule: string; cluster: { name: string } } })[];
    expect(scheduled.spec.cluster.name).toBe(cluster.metadata.name);
    expect(scheduled.spec.schedule.split(' ')).toHaveLength(6);
    for (const w of [...deployments, ...of('Job'), ...of('CronJob')]) {
      const env = podOf(w)!.containers[0].env as { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
      expect({ name: w.metadata.name, db: env.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef }).toEqual({
        name: w.metadata.name,
        db: { name: `${cluster.metadata.name}-app`, key: 'uri' },
      });
    }
  });
});

/** A pod (namespace and labels) or an address outside the cluster. */
type Peer = { ns: string; labels: Record<string, string> } | { ip: string };
interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface PolicyPeer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: { protocol?: string; port: number }[];
}
interface Policy {
  metadata: { namespace: string };
  spec: { podSelector: Selector; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] };
}

function matches(sel: Selector, labels: Record<string, string>): boolean {
  return (
    Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    (sel.matchExpressions ?? []).every((e) => (e.operator === 'In' ? (e.values ?? []).includes(labels[e.key]) : e.operator === 'Exists' ? e.key in labels : false))
  );
}
const ipNumber = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipNumber(ip) / size) === Math.floor(ipNumber(base) / size);
}
function peerMatches(p: PolicyPeer, peer: Peer, policyNs: string): boolean {
  if ('ip' in peer) return !!p.ipBlock && inCidr(peer.ip, p.ipBlock.cidr) && !(p.ipBlock.except ?? []).some((c) => inCidr(peer.ip, c));
  if (p.ipBlock) return false;
  const nsOk = p.namespaceSelector ? matches(p.namespaceSelector, { 'kubernetes.io/metadata.name': peer.ns }) : peer.ns === policyNs;
  return nsOk && (!p.podSelector || matches(p.podSelector, peer.labels));
}

/** What the NetworkPolicy API says of one TCP/UDP connection: allowed out of the source and into the destination. */
function connects(policies: Policy[], from: Peer, to: Peer, port: number, protocol = 'TCP'): boolean {
  const side = (pod: Peer, other: Peer, type: 'Ingress' | 'Egress') => {
    if ('ip' in pod) return true;
    const selecting = policies.filter((p) => p.metadata.namespace === pod.ns && p.spec.policyTypes.includes(type) && matches(p.spec.podSelector, pod.labels));
    if (!selecting.length) return true;
    return selecting.some((p) =>
      ((type === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).some((r) => {
        const peers = type === 'Ingress' ? r.from : r.to;
        const peerOk = !peers || peers.some((x) => peerMatches(x, other, p.metadata.namespace));
        const portOk = !r.ports || r.ports.some((x) => x.port === port && (x.protocol ?? 'TCP') === protocol);
        return peerOk && portOk;
      }),
    );
  };
  return side(from, to, 'Egress') && side(to, from, 'Ingress');
}

describe('production network policies (issue 16, item 8)', () => {
  const objects = render('production');
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as Policy[];
  const pod = (name: string): Peer => ({ ns: 'gdx', labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'gdx' } });
  const PORTS: Record<string, number> = { gateway: 8080, catalogue: 8081, 'request-approval': 8082, 'data-query': 8083, audit: 8084 };
  const SERVICES = Object.keys(PORTS);
  const dns: Peer = { ns: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };

  test('every workload of the platform is isolated both ways (default deny)', () => {
    for (const name of [...SERVICES, 'gdx-migrate', 'gdx-audit-verify']) {
      const types = new Set(policies.filter((p) => matches(p.spec.podSelector, (pod(name) as { labels: Record<string, string> }).labels)).flatMap((p) => p.spec.policyTypes));
      expect({ name, types: [...types].sort() }).toEqual({ name, types: ['Egress', 'Ingress'] });
    }
    // A caller outside the platform reaches the gateway, and nothing else.
    const outsider: Peer = { ns: 'ingress-nginx', labels: { app: 'ingress' } };
    for (const name of SERVICES) expect({ name, ok: connects(policies, outsider, pod(name), PORTS[name]) }).toEqual({ name, ok: name === 'gateway' });
  });

  test('only the gateway reaches data-query; only the gateway and request-approval reach the catalogue; every service reaches the gateway', () => {
    for (const from of SERVICES) {
      expect({ from, ok: connects(policies, pod(from), pod('data-query'), 8083) }).toEqual({ from, ok: from === 'gateway' });
      expect({ from, ok: connects(policies, pod(from), pod('catalogue'), 8081) }).toEqual({ from, ok: from === 'gateway' || from === 'request-approval' });
      if (from !== 'gateway') expect({ from, ok: connects(policies, pod(from), pod('gateway'), 8080) }).toEqual({ from, ok: true });
    }
    expect(connects(policies, pod('gateway'), pod('audit'), 8084)).toBe(true);
    expect(connects(policies, pod('catalogue'), pod('audit'), 8084)).toBe(false);
    // The right pod on the wrong port is refused too.
    expect(connects(policies, pod('gateway'), pod('data-query'), 5432)).toBe(false);
  });

  test('out: DNS, PostgreSQL and Redis for all; the internet only for data-query’s webhooks, on https, never a private address', () => {
    const db: Peer = { ip: '203.0.113.10' };
    for (const name of [...SERVICES, 'gdx-migrate']) {
      expect({ name, dns: connects(policies, pod(name), dns, 53, 'UDP'), pg: connects(policies, pod(name), db, 5432), redis: connects(policies, pod(name), db, 6379) }).toEqual({
        name,
        dns: true,
        pg: true,
        redis: true,
      });
      expect({ name, web: connects(policies, pod(name), { ip: '198.51.100.7' }, 443) }).toEqual({ name, web: name === 'data-query' });
    }
    for (const ip of ['10.1.2.3', '192.168.1.1', '169.254.169.254', '172.20.0.1']) expect({ ip, ok: connects(policies, pod('data-query'), { ip }, 443) }).toEqual({ ip, ok: false });
    expect(connects(policies, pod('data-query'), { ip: '198.51.100.7' }, 80)).toBe(false);
  });

  test('the monitoring namespace may scrape every service; another namespace may not', () => {
    const prometheus: Peer = { ns: 'monitoring', labels: { app: 'prometheus' } };
    const stranger: Peer = { ns: 'team-x', labels: { app: 'prometheus' } };
    for (const name of SERVICES) {
      expect({ name, ok: connects(policies, prometheus, pod(name), PORTS[name]) }).toEqual({ name, ok: true });
      if (name !== 'gateway') expect({ name, ok: connects(policies, stranger, pod(name), PORTS[name]) }).toEqual({ name, ok: false });
    }
  });
});

describe('production: ingress, settings and the connection budget (issue 16, items 9 and 10)', () => {
  const objects = render('production');
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const configMap = objects.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
  const LOADERS: Record<string, (env: Record<string, string>) => Record<string, unknown>> = {
    gateway: loadGatewayConfig,
    catalogue: loadCatalogueConfig,
    'request-approval': loadRequestApprovalConfig,
    'data-query': loadDataQueryConfig,
    audit: loadAuditConfig,
  };
  /** What a service's configuration makes of its pod's environment (the ConfigMap, then its own values; secrets left out). */
  const configOf = (d: K8sObject) => {
    const env = Object.fromEntries((podOf(d)!.containers[0].env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    return LOADERS[d.metadata.name]({ ...configMap.data, ...env });
  };
  const byName = (name: string) => deployments.find((d) => d.metadata.name === name)!;

  test('one Ingress, with TLS, to the gateway only, for the API, the JWKS and the OpenAPI document; sized and timed for streaming', () => {
    const ingresses = objects.filter((o) => o.kind === 'Ingress') as unknown as {
      metadata: { annotations: Record<string, string> };
      spec: { tls: { secretName: string; hosts: string[] }[]; rules: { host: string; http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] };
    }[];
    expect(ingresses).toHaveLength(1);
    const [ing] = ingresses;
    expect(ing.spec.tls[0].hosts).toEqual(ing.spec.rules.map((r) => r.host));
    const paths = ing.spec.rules.flatMap((r) => r.http.paths);
    expect(new Set(paths.map((p) => p.backend.service.name))).toEqual(new Set(['gateway']));
    expect(paths.map((p) => p.path).sort()).toEqual(['/.well-known/', '/api/', '/openapi.json']);
    for (const hidden of ['/metrics', '/docs', '/health/ready']) expect(paths.some((p) => hidden.startsWith(p.path))).toBe(false);
    const size = ing.metadata.annotations['nginx.ingress.kubernetes.io/proxy-body-size'];
    expect(Number(size.replace(/m$/, '')) * 2 ** 20).toBeGreaterThanOrEqual(configOf(byName('gateway')).jobInputLimitBytes as number);
    expect(Number(ing.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(ing.metadata.annotations['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
  });

  test('settings as each service reads them: the real client address, keys from secrets only, a signing delay past secret propagation, the public address', () => {
    expect(configOf(byName('gateway'))).toMatchObject({ trustProxy: '10.0.0.0/8', generateKeys: false });
    expect(configOf(byName('gateway')).keysActivationDelayMs).toBeGreaterThanOrEqual(180_000);
    expect(configOf(byName('data-query'))).toMatchObject({ generateKeys: false });
    expect(configOf(byName('audit'))).toMatchObject({ generateAuditKey: false });
    expect(configOf(byName('catalogue')).publicBaseUrl).toMatch(/^https:\/\//);
  });

  test('the connection budget: every service at its HPA maximum plus rollout surge, the migrate Job and a reserve fit PostgreSQL’s max_connections', () => {
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler') as unknown as { spec: { scaleTargetRef: { name: string }; maxReplicas: number } }[];
    const cluster = objects.find((o) => o.kind === 'Cluster') as unknown as { spec: { postgresql: { parameters: Record<string, string> } } };
    const max = Number(cluster.spec.postgresql.parameters.max_connections);
    let budget = 10 + 20; // the migrate Job's connections, and the operator's, replication's and a superuser's
    for (const d of deployments) {
      const replicas = Math.ceil(hpas.find((h) => h.spec.scaleTargetRef.name === d.metadata.name)!.spec.maxReplicas * 1.25);
      budget += replicas * (configOf(d).databasePoolSize as number);
    }
    expect(budget).toBeLessThanOrEqual(max);
  });

  test('the migrate Job is one per release (named after the image tag) and cannot hang a release', () => {
    const jobs = objects.filter((o) => o.kind === 'Job') as unknown as { metadata: { name: string }; spec: { activeDeadlineSeconds?: number; template: { spec: PodSpec } } }[];
    expect(jobs).toHaveLength(1);
    const tag = jobs[0].spec.template.spec.containers[0].image.split(':').pop()!;
    expect(jobs[0].metadata.name).toBe(`gdx-migrate-${tag.replace(/\./g, '-')}`);
    expect(jobs[0].spec.activeDeadlineSeconds).toBeGreaterThan(0);
  });

  test('probes wait longer than the services’ own checks (2 s) take to answer', () => {
    for (const d of deployments) {
      const c = podOf(d)!.containers[0] as unknown as { readinessProbe: { timeoutSeconds?: number }; livenessProbe: { timeoutSeconds?: number } };
      expect({ name: d.metadata.name, ready: c.readinessProbe.timeoutSeconds, live: c.livenessProbe.timeoutSeconds }).toEqual({ name: d.metadata.name, ready: 3, live: 3 });
    }
  });
});

/** Every metric name the services register (prom-client `name: '…'` in the sources), and the histogram's derived series. */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/name: '([a-z][a-z0-9_]*)',\s*\n?\s*help:/g)) names.add(m[1]);
    }
  };
  for (const top of ['libs', 'services'])
    for (const pkg of readdirSync(join(__dirname, '..', '..', top))) {
      const src = join(__dirname, '..', '..', top, pkg, 'src');
      if (statSync(join(__dirname, '..', '..', top, pkg)).isDirectory() && readdirSync(join(__dirname, '..', '..', top, pkg)).includes('src')) walk(src);
    }
  for (const n of [...names]) for (const suffix of ['_count', '_sum', '_bucket']) names.add(`${n}${suffix}`);
  return names;
}

describe('production monitoring (issue 16, item 11)', () => {
  const objects = render('production');
  const exported = exportedMetrics();
  /** Series that other exporters provide (kube-state-metrics), not the platform. */
  const EXTERNAL = new Set(['kube_job_status_failed']);
  /** The series an expression reads: its identifiers once the grouping clauses and label matchers are taken out. */
  const metricsIn = (expr: string) =>
    [
      ...expr
        .replace(/\b(by|without)\s*\([^)]*\)/g, ' ')
        .replace(/\{[^}]*\}/g, ' ')
        .replace(/\[[^\]]*\]/g, ' ')
        .matchAll(/\b([a-z_][a-z0-9_]*)\b/g),
    ]
      .map((m) => m[1])
      .filter((n) => n.includes('_') && n !== 'histogram_quantile');

  test('a PodMonitor scrapes every service’s /metrics', () => {
    const [pm] = objects.filter((o) => o.kind === 'PodMonitor') as unknown as { spec: { selector: Selector; podMetricsEndpoints: { port: string; path: string }[] } }[];
    expect(pm.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    for (const name of ['gateway', 'catalogue', 'request-approval', 'data-query', 'audit']) expect(matches(pm.spec.selector, { 'app.kubernetes.io/name': name })).toBe(true);
  });

  test('the alerts the issue names exist, and every series they read is one the platform (or kube-state-metrics) exports', () => {
    const [rule] = objects.filter((o) => o.kind === 'PrometheusRule') as unknown as { spec: { groups: { rules: { alert: string; expr: string }[] }[] } }[];
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['GdxOutboxBacklog', 'GdxConsumerLag', 'GdxDeadLetters', 'GdxAuditVerificationFailed', 'GdxGrantCacheStale']));
    // The check is real: a misspelt series is caught.
    expect(metricsIn('max by (service) (gdx_outbox_oldest_pending_secs{a="b"}[5m]) > 60').filter((m) => !exported.has(m))).toEqual(['gdx_outbox_oldest_pending_secs']);
    for (const r of rules) {
      const unknown = metricsIn(r.expr).filter((m) => !exported.has(m) && !EXTERNAL.has(m));
      expect({ alert: r.alert, unknown }).toEqual({ alert: r.alert, unknown: [] });
    }
  });

  test('the audit trail is verified every night by a CronJob (the alert reads its failures)', () => {
    const [cron] = objects.filter((o) => o.kind === 'CronJob') as unknown as (K8sObject & { spec: { schedule: string; concurrencyPolicy: string } })[];
    expect(cron.metadata.name).toBe('gdx-audit-verify');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    expect(podOf(cron as unknown as K8sObject)!.containers[0]).toMatchObject({ command: ['node', 'services/audit/dist/verify-cli.js'] });
  });

  test('the Grafana dashboard is JSON Grafana takes (labelled for its sidecar), and its panels read exported series', () => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'gdx-grafana-dashboard') as unknown as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    const dash = JSON.parse(cm.data['gdx-dashboard.json']) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
    expect(dash.uid).toBe('gdx-platform');
    expect(dash.panels.length).toBeGreaterThanOrEqual(6);
    for (const p of dash.panels)
      for (const t of p.targets) {
        const unknown = metricsIn(t.expr).filter((m) => !exported.has(m));
        expect({ panel: p.title, unknown }).toEqual({ panel: p.title, unknown: [] });
      }
  });
});
