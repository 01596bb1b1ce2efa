/**
 * @gdx/catalogue/testing: internals that tests and benches exercise directly, for this
 * repository's tests and benches only. Not an API: names here may change with the
 * service's internals.
 */
export { Resource } from './entities/resource.entity';
export { ResourceSearchService } from './resources/resource-search.service';
