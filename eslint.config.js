// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');
const { workspacePackages } = require('./tests/helpers/packages');

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Package boundaries: what may be imported of a workspace package is what its package.json
 * "exports" names, nothing under its src/ or dist/, and no relative path into another
 * package's folder. tests/libs/package-boundaries.test.ts checks the same (and the
 * dependencies lists) with the paths resolved.
 */
const boundaries = [
  { regex: '^@gdx/[^/]+/(src|dist)(/|$)', message: 'Import the package\'s public entry point (its package.json "exports"), not its src/ or dist/.' },
  { regex: '(^|/)(libs/[^/]+|services/[^/]+|scripts)/(src|dist)(/|$)', message: 'Do not reach into a package\'s folder: import @gdx/<name> or a sub-entry its package.json "exports" names.' },
  ...workspacePackages().map((p) => {
    const subpaths = Object.keys(p.exports)
      .filter((s) => s !== '.')
      .map((s) => escapeRegExp(s.slice(2)));
    return {
      // Any other subpath (src/ and dist/ are the first pattern's).
      regex: `^${escapeRegExp(p.name)}/(?!${subpaths.map((s) => `${s}$|`).join('')}(src|dist)(/|$))`,
      message: `${p.name} exports only ${Object.keys(p.exports)
        .map((s) => (s === '.' ? p.name : `${p.name}/${s.slice(2)}`))
        .join(', ')}.`,
    };
  }),
].map((b) => ({ ...b, matcher: new RegExp(b.regex) }));

/** no-restricted-imports sees import and export declarations; this sees require(), import() and import('…') types. */
const gdx = {
  rules: {
    'no-restricted-require': {
      meta: { type: 'problem', schema: [], docs: { description: 'require() and import() of what a package does not export' } },
      create(context) {
        const check = (node, source) => {
          const hit = typeof source === 'string' && boundaries.find((b) => b.matcher.test(source));
          if (hit) context.report({ node, message: `'${source}': ${hit.message}` });
        };
        const text = (arg) =>
          arg?.type === 'Literal' ? arg.value : arg?.type === 'TemplateLiteral' ? arg.quasis.map((q) => q.value.cooked).join('*') : arg?.type === 'TSLiteralType' ? arg.literal.value : undefined;
        return {
          CallExpression(node) {
            if (node.callee.type === 'Identifier' && node.callee.name === 'require') check(node, text(node.arguments[0]));
          },
          ImportExpression(node) {
            check(node, text(node.source));
          },
          TSImportType(node) {
            check(node, text(node.argument));
          },
        };
      },
    },
  },
};

const boundaryPatterns = boundaries.map(({ regex, message }) => ({ regex, message }));

module.exports = tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'coverage/**', 'openapi/**', 'bench/results/**'] },
  js.configs.recommended,
  // typescript-eslint's type-checked recommended rules, with the type information of each package's own tsconfig.
  ...tseslint.configs.recommendedTypeChecked,
  { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } } },
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      // fastify's plugins, hooks and handlers are async by contract (a plugin that neither
      // returns a promise nor calls done never loads), awaited or not.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    plugins: { gdx },
    rules: {
      'no-restricted-imports': ['error', { patterns: boundaryPatterns }],
      'gdx/no-restricted-require': 'error',
    },
  },
  {
    // Services build events with the typed createEvent: an undeclared shape must not compile.
    files: ['services/**/*.ts', 'libs/!(contracts)/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: boundaryPatterns,
          paths: [{ name: '@gdx/contracts', importNames: ['untypedEvent'], message: 'Services emit declared events only: use createEvent (add the type to the event catalogue).' }],
        },
      ],
    },
  },
  {
    // supertest's res.body is `any` by design: reading it is what the tests are for.
    files: ['tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node, sourceType: 'commonjs' },
  },
);
