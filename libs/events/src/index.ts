export * from './envelope';
export * from './outbox.entity';
export * from './processed-event.entity';
export * from './event-publisher';
export * from './outbox-relay';
export * from './stream-consumer';
export * from './streams';
export * from './direct-publisher';
