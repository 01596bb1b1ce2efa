/**
 * @gdx/catalogue, the package's public face: the app, its configuration, its database
 * and the demo seed. Everything else under src/ is internal; the "exports" map in
 * package.json seals it. Internals that this repository's tests and benches exercise
 * directly are in ./testing.
 */
export * from './app';
export { catalogueDataSource } from './data-source';
export { migrations } from './migrations';
