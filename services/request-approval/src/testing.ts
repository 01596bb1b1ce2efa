/**
 * @gdx/request-approval/testing: pure rules that unit tests exercise directly, for this
 * repository's tests and benches only. Not an API: names here may change with the
 * service's internals.
 */
export { WorkingCalendar } from './shared/working-calendar';
export { assertTransition } from './shared/state-machine';
export { effectiveSharing, type CatalogueResource } from './shared/catalogue.client';
export { validateRowFilter } from './grants/row-filter';
export { checkAcceptance, sha256Hex } from './requests/commitment';
