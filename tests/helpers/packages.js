const { existsSync, readdirSync, readFileSync } = require('node:fs');
const { join, posix } = require('node:path');

/**
 * The workspace packages, read from the root package.json's "workspaces" and each
 * package's own package.json. Their "exports" maps are the one source of truth for
 * what a package offers others: jest.config.js maps each entry point to its source,
 * eslint.config.js forbids every other subpath and tests/libs/package-boundaries.test.ts
 * checks every import against them.
 */
const ROOT = join(__dirname, '..', '..');

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The folders (relative, posix) the root package.json's "workspaces" name: `dir` or `dir/*`. */
function workspaceDirs(root = ROOT) {
  const dirs = [];
  for (const pattern of readJson(join(root, 'package.json')).workspaces ?? []) {
    if (pattern.endsWith('/*')) {
      const parent = pattern.slice(0, -2);
      for (const d of readdirSync(join(root, parent), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (d.isDirectory() && existsSync(join(root, parent, d.name, 'package.json'))) dirs.push(posix.join(parent, d.name));
      }
    } else if (existsSync(join(root, pattern, 'package.json'))) dirs.push(pattern);
  }
  return dirs;
}

/**
 * The source file (relative to the package, without extension) an export target is
 * compiled from: `./dist/testing.js` → `src/testing`. Every package compiles src/ into dist/.
 */
function sourceOf(target) {
  const m = /^\.\/dist\/(.+)\.js$/.exec(target);
  if (!m) throw new Error(`export target ${target} is not a .js file under ./dist/`);
  return `src/${m[1]}`;
}

/**
 * @returns {{ name: string, dir: string, exports: Record<string, { types?: string, default: string }>, dependencies: Record<string, string> }[]}
 */
function workspacePackages(root = ROOT) {
  return workspaceDirs(root).map((dir) => {
    const pkg = readJson(join(root, dir, 'package.json'));
    const exports = {};
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) exports[subpath] = typeof target === 'string' ? { default: target } : target;
    return { name: pkg.name, dir, exports, dependencies: { ...pkg.dependencies } };
  });
}

/** `@gdx/x` or `@gdx/x/testing` for each entry point, with the source file it maps to. */
function entryPoints(root = ROOT) {
  return workspacePackages(root).flatMap((pkg) =>
    Object.entries(pkg.exports).map(([subpath, target]) => ({
      specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, '')}`,
      source: posix.join(pkg.dir, sourceOf(target.default)),
    })),
  );
}

module.exports = { ROOT, readJson, workspaceDirs, workspacePackages, entryPoints, sourceOf };
