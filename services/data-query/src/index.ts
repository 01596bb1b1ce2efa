/**
 * @gdx/data-query, the package's public face: the app, its configuration and its
 * database. Everything else under src/ is internal; the "exports" map in package.json
 * seals it. Internals that this repository's tests and benches exercise directly are in
 * ./testing.
 */
export * from './app';
export { dataQueryDataSource } from './data-source';
export { migrations } from './migrations';
