import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const base = join(__dirname, '..', '..', 'k8s', 'base');
const services = ['gateway', 'catalogue', 'request-approval', 'data-query', 'audit'];

interface Container {
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[] } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
  command: string[];
}

describe.each(services)('k8s/base/%s.yaml', (name) => {
  const docs = parseAllDocuments(readFileSync(join(base, `${name}.yaml`), 'utf8')).map((d) => d.toJSON());
  const deployment = docs.find((d) => d.kind === 'Deployment');
  const service = docs.find((d) => d.kind === 'Service');
  const pod = deployment.spec.template.spec;
  const container: Container = pod.containers[0];

  test('runs non-root on a read-only root filesystem with no privileges', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });

  test('has probes on the health routes, requests and limits, and runs its own server', () => {
    expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/health/live');
    expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(container.resources.limits).sort()).toEqual(['cpu', 'memory']);
    expect(container.command[0]).toBe('node');
    expect(container.command[container.command.length - 1]).toBe(`services/${name}/dist/server.js`);
    // Only V8 flags between the two, never a script of another service.
    for (const flag of container.command.slice(1, -1)) expect(flag).toMatch(/^--[a-z-]+(=\d+)?$/);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });
});

test('the kustomization lists every service', () => {
  const k = parseAllDocuments(readFileSync(join(base, 'kustomization.yaml'), 'utf8'))[0].toJSON();
  for (const s of services) expect(k.resources).toContain(`${s}.yaml`);
});
