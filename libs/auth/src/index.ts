export * from './principal';
export * from './jwks-client';
export * from './auth.plugin';
export * from './service-token';
export * from './token-revocations';
export * from './key-store';
export * from './manifest-signer';
export * from './jwk.schema';
