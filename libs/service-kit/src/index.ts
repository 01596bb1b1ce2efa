export * from './base-app';
export * from './redis.plugin';
export * from './events.plugin';
export * from './metrics.plugin';
export * from './health.plugin';
export * from './server';
export * from './schemas';
export * from './openapi';
