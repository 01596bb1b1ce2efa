import type { DataSource, EntityManager } from 'typeorm';
import { withTransaction } from '@gdx/database';
import type { DeclaredEvent } from '@gdx/contracts';
import type { EventEnvelope } from './envelope';
import { OutboxEvent } from './outbox.entity';

/** Emits a declared event (built with the contracts' `createEvent`): an undeclared shape does not compile. */
export type Emit = (event: DeclaredEvent) => void;

/** Anything that wants to hear that new outbox rows were committed (the relay). */
export interface OutboxListener {
  kick(): void;
}

/**
 * A transaction whose events land in the outbox with the change itself: either
 * both are committed or neither is. The relay is woken after the commit.
 */
export class EventPublisher {
  private listener?: OutboxListener;

  constructor(private readonly dataSource: DataSource) {}

  setListener(listener: OutboxListener): void {
    this.listener = listener;
  }

  async transaction<T>(work: (manager: EntityManager, emit: Emit) => Promise<T>): Promise<T> {
    let emitted = 0;
    const result = await withTransaction(this.dataSource, async (manager) => {
      const events: EventEnvelope[] = [];
      const value = await work(manager, (e) => events.push(e));
      await appendToOutbox(manager, events);
      emitted = events.length;
      return value;
    });
    if (emitted) this.listener?.kick();
    return result;
  }
}

export async function appendToOutbox(manager: EntityManager, events: EventEnvelope[]): Promise<void> {
  if (!events.length) return;
  const rows = events.map((e) => manager.create(OutboxEvent, { id: e.id, type: e.type, envelope: JSON.stringify(e), publishedAt: null }));
  await manager.insert(OutboxEvent, rows);
}
