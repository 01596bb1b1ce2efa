import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { starterResources, writeNdjson } from './synthetic/synthetic-data';

/**
 * Writes synthetic NDJSON for the starter catalogue, one file per resource:
 *   node services/data-query/dist/generate-data.js [--out DIR] [--population N] [--rows N] [--only CODE] [--seed S]
 * The population file (101001/0001) has 1,000,000 rows by default, the others
 * 1,000. Files are named after the code (`101001_0001.ndjson`) and can be
 * submitted as batches or loaded with the COPY loader.
 */
function args(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    out[m[1]] = m[2] ?? argv[++i] ?? '';
  }
  return out;
}

export const POPULATION_CODE = '101001/0001';

export function fileNameOf(code: string): string {
  return `${code.replace('/', '_')}.ndjson`;
}

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  const dir = resolve(a.out ?? 'data/generated');
  const population = Number(a.population ?? 1_000_000);
  const rows = Number(a.rows ?? 1000);
  const seed = Number(a.seed ?? 1);
  if (![population, rows, seed].every((n) => Number.isInteger(n) && n >= 0)) throw new Error('--population, --rows and --seed take whole numbers');
  mkdirSync(dir, { recursive: true });
  for (const resource of starterResources()) {
    if (a.only && a.only !== resource.code) continue;
    const count = resource.code === POPULATION_CODE ? population : rows;
    const file = join(dir, fileNameOf(resource.code));
    const started = Date.now();
    await writeNdjson(file, resource, count, seed);
    console.log(`${resource.code} ${resource.name}: ${count} rows → ${file} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
