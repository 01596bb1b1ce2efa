import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Issue 16 (12): what the image promises, checked on the Dockerfile itself (no engine runs
 * here to build it): a supported Node, the dependency layer built from the manifests before the
 * sources, every workspace package in that layer, production mode, a health check, OCI labels,
 * a non-root user; and a .dockerignore that keeps nested node_modules and secrets out.
 */
const root = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(root, 'docker', 'Dockerfile'), 'utf8');
const lines = dockerfile.split('\n');
const workspaces = ['libs', 'services'].flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((p) => existsSync(join(root, dir, p, 'package.json')))
    .map((p) => `${dir}/${p}`),
);

test('the base is Node 22 LTS or newer, a release tag', () => {
  const base = /^ARG NODE_IMAGE=node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/m.exec(dockerfile);
  expect(base).not.toBeNull();
  expect(Number(base![1])).toBeGreaterThanOrEqual(22);
  expect(Number(base![1]) % 2).toBe(0);
});

test('dependencies are installed from the manifests of every workspace package before any source is copied', () => {
  const firstSource = lines.findIndex((l) => /^COPY (libs|services|scripts) /.test(l));
  const install = lines.findIndex((l) => l.startsWith('RUN npm ci'));
  expect(install).toBeGreaterThan(0);
  expect(install).toBeLessThan(firstSource);
  for (const ws of [...workspaces, 'scripts']) {
    const at = lines.findIndex((l) => l === `COPY ${ws}/package.json ${ws}/`);
    expect({ ws, before: at >= 0 && at < install }).toEqual({ ws, before: true });
  }
  expect(lines.findIndex((l) => l === 'COPY package.json package-lock.json ./')).toBeLessThan(install);
});

test('the runtime stage: production mode, OCI labels, a health check on /health/live, a non-root user', () => {
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
  expect(runtime).toMatch(/^ENV NODE_ENV=production$/m);
  for (const label of ['title', 'version', 'revision', 'description']) expect(runtime).toContain(`org.opencontainers.image.${label}=`);
  expect(runtime).toMatch(/^HEALTHCHECK .*\\\n.*\/health\/live/m);
  expect(runtime).toMatch(/^USER node$/m);
});

test('.dockerignore keeps nested node_modules, build output, local state and secrets out of the context', () => {
  const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
  for (const p of ['**/node_modules', '**/dist', '.git', '**/.gdx', '**/*.pem', '**/.env']) expect(ignore).toContain(p);
});
