import { OutboxEvent, OutboxStream } from './outbox.entity';
import { ProcessedEvent } from './processed-event.entity';

/** The tables every service with an outbox and consumers holds (each service's DataSource lists them). */
export const EVENT_ENTITIES = [OutboxEvent, OutboxStream, ProcessedEvent];
