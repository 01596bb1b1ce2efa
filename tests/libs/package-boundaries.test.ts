import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { ROOT, readJson, sourceOf, workspacePackages, type WorkspacePackage } from '../helpers/packages';

/**
 * Package boundaries, checked on every .ts and .js file of libs/, services/, scripts/src,
 * tests/ and bench/: an `@gdx/x/<subpath>` import names an entry point x's package.json
 * "exports" has; no relative import leaves its own package for another package's folder;
 * a package imports only the `@gdx/*` packages its package.json lists in dependencies
 * (tests/ and bench/ belong to the root package.json). ESLint catches the obvious cases
 * as you type; this resolves the paths.
 */

const SCANNED = ['libs', 'services', 'scripts/src', 'tests', 'bench'];
const SKIPPED = new Set(['node_modules', 'dist', 'coverage', 'results']);

const packages = workspacePackages();
const rootJson = readJson(join(ROOT, 'package.json'));
const rootOwner: WorkspacePackage = { name: rootJson.name ?? 'root', dir: '', exports: {}, dependencies: { ...rootJson.dependencies, ...rootJson.devDependencies } };

/** The package a repository-relative path belongs to; tests/, bench/ and the rest belong to the root. */
function ownerOf(path: string): WorkspacePackage {
  return packages.find((p) => path === p.dir || path.startsWith(`${p.dir}/`)) ?? rootOwner;
}

const toPosix = (p: string) => p.split(sep).join('/');

/** Module specifiers on one line: import/export … from, side-effect import, require(), import(), jest.mock(). */
const SPECIFIERS = [
  /\bfrom\s*(['"])([^'"\n]+)\1/g,
  /^\s*import\s*(['"])([^'"\n]+)\1/g,
  /\b(?:require|import)\s*\(\s*(['"`])([^'"`\n]+)\1/g,
  /\bjest\.(?:mock|doMock|requireActual|requireMock)\s*\(\s*(['"`])([^'"`\n]+)\1/g,
];

/** What a specifier built at run time (`${ROOT}/services/x/dist/y`) must not look like. */
const DEEP_PATH = /(^|\/)(libs\/[^/]+|services\/[^/]+|scripts)\/(src|dist)(\/|$)|^@gdx\/[^/]+\/(src|dist)(\/|$)/;

/** Violations in one file's text, as `file:line: why`. `file` is relative to the repository root. */
export function scanSource(file: string, text: string): string[] {
  const owner = ownerOf(file);
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    const trimmed = line.trimStart();
    if (trimmed.startsWith('//') || trimmed.startsWith('*') || trimmed.startsWith('/*')) return;
    const at = `${file}:${i + 1}`;
    for (const pattern of SPECIFIERS) {
      for (const m of line.matchAll(pattern)) {
        const spec = m[2];
        if (spec.includes('${')) {
          if (DEEP_PATH.test(spec)) found.push(`${at}: '${spec}' reaches into a package's src/ or dist/; import its public entry point`);
          continue;
        }
        if (spec.startsWith('@gdx/')) {
          const [, scope, name, ...rest] = /^(@gdx)\/([^/]+)(?:\/(.+))?$/.exec(spec) ?? [];
          const pkgName = `${scope}/${name}`;
          const target = packages.find((p) => p.name === pkgName);
          if (!target) {
            found.push(`${at}: '${spec}': no workspace package ${pkgName}`);
            continue;
          }
          const subpath = rest[0] ? `./${rest[0]}` : '.';
          if (!(subpath in target.exports)) found.push(`${at}: '${spec}': ${pkgName} does not export '${subpath}' (it exports ${Object.keys(target.exports).join(', ')})`);
          if (target !== owner && !(pkgName in owner.dependencies)) {
            found.push(`${at}: '${spec}': ${pkgName} is not in the dependencies of ${owner.dir ? `${owner.dir}/package.json` : 'the root package.json'}`);
          }
        } else if (spec.startsWith('.')) {
          const path = toPosix(relative(ROOT, resolve(ROOT, dirname(file), spec)));
          if (path.startsWith('..')) {
            found.push(`${at}: '${spec}' leaves the repository`);
            continue;
          }
          const target = ownerOf(path);
          if (target !== owner) {
            const where = target.dir ? `package ${target.name} (${target.dir})` : `${path.split('/')[0]}/, outside any package`;
            found.push(
              `${at}: '${spec}' leaves ${owner.dir ? `package ${owner.name}` : 'the root'} for ${where}; import ${target.dir ? `${target.name} or an entry point it exports` : 'nothing there'}`,
            );
          }
        }
      }
    }
  });
  return found;
}

function* sourceFiles(dir: string): Generator<string> {
  if (!existsSync(join(ROOT, dir))) return;
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (SKIPPED.has(entry.name) || entry.name.startsWith('.')) continue;
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|js|cjs|mjs)$/.test(entry.name)) yield path;
  }
}

describe('package boundaries', () => {
  it('the scanner catches deep imports, reaching relative paths and undeclared dependencies (self-check)', () => {
    // The deep paths are put together at run time, so this file itself holds none to trip the scan.
    const [dist, src] = ['dist', 'src'];
    const text = [
      `import { gatewayDataSource } from '@gdx/gateway/${dist}/data-source';`,
      `import { verifyExportFile } from '../../services/audit/${src}/verify-cli';`,
      `const { personOf } = require('@gdx/data-query/${dist}/synthetic/synthetic-data');`,
      `const { migrate } = require(\`\${ROOT}/libs/database/${dist}\`);`,
      "import { buildApp } from '@gdx/gateway';",
      "import { personOf } from '@gdx/data-query/testing';",
      "import { db } from '../helpers/db';",
      `// a comment that mentions a deep import: from "@gdx/gateway/${dist}/app"`,
    ].join('\n');
    expect(scanSource('tests/audit/probe.test.ts', text)).toEqual([
      expect.stringMatching(/^tests\/audit\/probe\.test\.ts:1: '@gdx\/gateway\/dist\/data-source': @gdx\/gateway does not export '\.\/dist\/data-source'/),
      expect.stringMatching(/^tests\/audit\/probe\.test\.ts:2: '\.\.\/\.\.\/services\/audit\/src\/verify-cli' leaves the root for package @gdx\/audit/),
      expect.stringMatching(/^tests\/audit\/probe\.test\.ts:3: .*does not export/),
      expect.stringMatching(/^tests\/audit\/probe\.test\.ts:4: .*reaches into a package's src\/ or dist\//),
    ]);
    // A lib importing a package it does not list, and a service reaching into a lib's folder.
    expect(scanSource('libs/codes/src/probe.ts', "import { uuidv7 } from '@gdx/database';")).toEqual([
      expect.stringMatching(/^libs\/codes\/src\/probe\.ts:1: .*not in the dependencies of libs\/codes\/package\.json/),
    ]);
    expect(scanSource('services/gateway/src/probe.ts', `export * from '../../../libs/auth/${src}/principal';`)).toEqual([expect.stringMatching(/leaves package @gdx\/gateway for package @gdx\/auth/)]);
    expect(scanSource('services/gateway/src/grants/probe.ts', "import { x } from '../identity/password';\nimport { y } from '@gdx/auth';")).toEqual([]);
  });

  it('every import in libs/, services/, scripts/src, tests/ and bench/ stays within the boundaries', () => {
    const files = SCANNED.flatMap((dir) => [...sourceFiles(dir)]);
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((file) => scanSource(file, readFileSync(join(ROOT, file), 'utf8')))).toEqual([]);
  });

  it('every workspace package exports typed entry points from dist/, each with a source file, and lists only workspace packages it can build against', () => {
    const problems: string[] = [];
    for (const p of packages) {
      const json = readJson(join(ROOT, p.dir, 'package.json'));
      if (!('.' in p.exports)) problems.push(`${p.dir}: no "." in exports`);
      for (const [subpath, target] of Object.entries(p.exports)) {
        if (!target.types || !/^\.\/dist\/.+\.d\.ts$/.test(target.types)) problems.push(`${p.dir}: exports['${subpath}'] has no types in ./dist/`);
        if (!/^\.\/dist\/.+\.js$/.test(target.default)) problems.push(`${p.dir}: exports['${subpath}'].default is not in ./dist/`);
        else if (!existsSync(join(ROOT, p.dir, `${sourceOf(target.default)}.ts`)) && existsSync(join(ROOT, p.dir, 'src'))) {
          problems.push(`${p.dir}: exports['${subpath}'] has no source ${sourceOf(target.default)}.ts`);
        }
      }
      if (p.exports['.'] && (json.main !== p.exports['.'].default.slice(2) || json.types !== p.exports['.'].types?.slice(2))) problems.push(`${p.dir}: main/types differ from exports['.']`);
      for (const dep of Object.keys(p.dependencies)) if (dep.startsWith('@gdx/') && !packages.some((q) => q.name === dep)) problems.push(`${p.dir}: depends on ${dep}, which is no workspace package`);
    }
    expect(problems).toEqual([]);
  });
});
