export * from './enums';
export * from './envelope';
export * from './views/resource.view';
export * from './views/grant.view';
export * from './events/event-catalogue';
export * from './events/event';
export * from './grant-decision';
export * from './query-batch';
