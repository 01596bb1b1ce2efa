/**
 * @gdx/gateway/testing: internals that unit tests exercise directly, for this
 * repository's tests and benches only. Not an API: names here may change with the
 * service's internals.
 */
export { Account } from './entities/account.entity';
export { hashPassword } from './identity/password';
export { writeNewKey } from '@gdx/auth';
export { QuotaCounter } from './grants/quota';
export { GrantCache, cachedGrant, type CachedGrant } from './grants/grant-cache';
export { QueryChannel } from './grants/query-channel';
