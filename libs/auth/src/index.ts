export * from './principal';
export * from './jwks-client';
export * from './auth.plugin';
export * from './service-token';
export * from './token-revocations';
