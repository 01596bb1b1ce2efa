/**
 * @gdx/gateway, the package's public face: the app, its configuration, its database
 * and the demo identity seed. Everything else under src/ is internal; the "exports" map
 * in package.json seals it. Internals that this repository's tests exercise directly
 * are in ./testing.
 */
export * from './app';
export { gatewayDataSource } from './data-source';
export { migrations } from './migrations';
export { seedIdentity, type SeededCredentials } from './identity/identity.seed';
export { bootstrapOfficeAdmin, type BootstrapResult } from './identity/bootstrap';
export { Unit } from './entities/unit.entity';
export { PLATFORM_INFO, platformOpenapi } from './proxy/merged-openapi';
