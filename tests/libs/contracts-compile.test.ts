import { join } from 'node:path';
import ts from 'typescript';

/*
 * "A producer publishing an undeclared shape fails to compile" (issue 10), shown
 * with the compiler itself: small producer snippets are type-checked against the
 * contracts' real sources, with the repository's compiler options, in one program.
 */

const root = join(__dirname, '..', '..');
const dir = join(__dirname, '__contracts_compile__');

const header = `import { createEvent, type Actor } from '@gdx/contracts';
import type { Emit } from '@gdx/events';
declare const emit: Emit;
const actor: Actor = { kind: 'system' };
export {};
`;

const snippets = {
  correct: `createEvent('client.revoked', { actor: { kind: 'system' }, subject: 'x', data: { clientId: 'c' } });
emit(createEvent('client.revoked', { actor, subject: 'x', data: { clientId: 'c' } }));
emit(createEvent('grant.revoked', { actor, subject: 'g', data: { id: 'g', consumerUnitId: 'u', providerUnitId: 'p', resourceCode: 'r', items: [], rowFilter: null, modes: ['interface'], rateLimitPerSecond: 1, dailyQuota: 1, validFrom: '', validTo: '', purpose: '', requestId: 'q', status: 'revoked', statusReason: null, version: 2 } }));`,
  undeclaredType: `createEvent('grant.bogus', { actor, subject: 'x', data: {} });`,
  wrongFieldType: `createEvent('client.revoked', { actor, subject: 'x', data: { clientId: 1 } });`,
  missingField: `createEvent('client.revoked', { actor, subject: 'x', data: {} });`,
  notInEnum: `createEvent('auth.login_failed', { actor, subject: 'x', data: { username: 'u', reason: 'bored', ip: '', requestId: '' } });`,
  emitUndeclared: `emit({ id: 'i', type: 'grant.bogus', occurredAt: '', actor, subject: 'x', data: {}, traceparent: '' });`,
  emitWrongShape: `emit({ id: 'i', type: 'client.revoked', occurredAt: '', actor, subject: 'x', data: { client: 'c' }, traceparent: '' });`,
};
type Snippet = keyof typeof snippets;

const fileOf = (name: Snippet) => join(dir, `${name}.ts`);

let diagnostics: Record<Snippet, ts.Diagnostic[]>;
let contractsFiles: string[];

beforeAll(() => {
  const configFile = ts.readConfigFile(join(root, 'tsconfig.base.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    noEmit: true,
    composite: false,
    declaration: false,
    incremental: false,
    skipLibCheck: true,
    types: ['node'],
    // The sources, not what was last built: the check is against the contracts as they are.
    baseUrl: root,
    paths: { '@gdx/*': ['libs/*/src/index.ts'] },
  };
  const virtual = new Map<string, string>((Object.keys(snippets) as Snippet[]).map((n) => [fileOf(n), header + snippets[n]]));
  const host = ts.createCompilerHost(compilerOptions);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const text = virtual.get(fileName);
    return text !== undefined ? ts.createSourceFile(fileName, text, languageVersion) : getSourceFile(fileName, languageVersion, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => virtual.get(fileName) ?? readFile(fileName);

  const program = ts.createProgram([...virtual.keys()], compilerOptions, host);
  contractsFiles = program
    .getSourceFiles()
    .map((f) => f.fileName)
    .filter((f) => f.includes('/libs/contracts/'));
  diagnostics = Object.fromEntries(
    (Object.keys(snippets) as Snippet[]).map((n) => {
      const sf = program.getSourceFile(fileOf(n));
      if (!sf) throw new Error(`snippet ${n} is not in the program`);
      return [n, [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]];
    }),
  ) as Record<Snippet, ts.Diagnostic[]>;
}, 60_000);

/** Each error as `<the code it points at>: <message>`. */
const messages = (name: Snippet) =>
  diagnostics[name].map((d) => `${d.file && d.start !== undefined ? d.file.text.slice(d.start, d.start + (d.length ?? 0)) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);

test('a producer building a declared event with its declared data compiles', () => {
  expect(contractsFiles).toContain(join(root, 'libs/contracts/src/events/event-catalogue.ts'));
  expect(contractsFiles.filter((f) => f.includes('/dist/'))).toEqual([]);
  expect(messages('correct')).toEqual([]);
});

test.each<[Snippet, RegExp]>([
  ['undeclaredType', /"grant\.bogus"/],
  ['wrongFieldType', /clientId/],
  ['missingField', /clientId/],
  ['notInEnum', /"bored"/],
  ['emitUndeclared', /"grant\.bogus"/],
  ['emitWrongShape', /'client' does not exist/],
])('a producer publishing an undeclared type or shape does not compile: %s', (name, names) => {
  const found = messages(name);
  expect(found.length).toBeGreaterThan(0);
  // A type error about the event, not a module the program failed to find.
  expect(diagnostics[name].map((d) => d.code)).not.toContain(2307);
  expect(found.join('\n')).toMatch(names);
});
