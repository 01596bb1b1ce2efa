/**
 * @gdx/request-approval, the package's public face: the app, its configuration and
 * injectable collaborators, and its database. Everything else under src/ is internal;
 * the "exports" map in package.json seals it. Internals that this repository's tests
 * exercise directly are in ./testing.
 */
export * from './app';
export { requestApprovalDataSource } from './data-source';
export { migrations } from './migrations';
