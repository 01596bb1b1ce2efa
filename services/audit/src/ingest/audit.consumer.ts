import { Counter, Gauge } from 'prom-client';
import { ReadinessFailure, type App } from '@gdx/service-kit';
import { deadLetterCountKey, type StreamConsumer } from '@gdx/events';
import { AUDITED_DOMAINS } from '../trail/audit-record.model';
import type { AuditRecordService } from '../trail/audit-record.service';
import type { AuditConfig } from '../config';

export const AUDIT_GROUP = 'audit';

/**
 * The audit consumer group on every stream of the platform. Several readers per
 * replica: while one waits on PostgreSQL the next batch is already being read, and
 * each writes on a free chain, so they do not queue behind one another.
 */
export function registerAuditConsumers(app: App, records: AuditRecordService, config: AuditConfig): StreamConsumer[] {
  const written = new Counter({ name: 'audit_records_written_total', help: 'Audit records written', registers: [app.metrics] });
  const duplicates = new Counter({ name: 'audit_events_duplicate_total', help: 'Redelivered events that already had their record', registers: [app.metrics] });
  const consumers: StreamConsumer[] = [];
  for (let i = 0; i < config.auditConsumers; i++) {
    consumers.push(
      app.addConsumer({
        domains: [...AUDITED_DOMAINS],
        group: AUDIT_GROUP,
        consumer: config.consumerName ? `${config.consumerName}-${i}` : undefined,
        batchSize: config.auditBatchSize,
        claimIdleMs: config.claimIdleMs,
        maxDeliveries: config.maxDeliveries,
        // The trail is the record of everything that happened (issue 11): an event the
        // catalogue does not declare, or whose data has another shape, is kept as it
        // came rather than dead-lettered. The mapper reads only what it recognises and
        // stores the full data, so an unexpected shape loses nothing.
        validate: false,
        handleBatch: async (events) => {
          const r = await records.ingest(events);
          written.inc(r.written);
          if (r.duplicates) duplicates.inc(r.duplicates);
        },
      }),
    );
  }
  return consumers;
}

/**
 * A dead-lettered audit event is a call missing from the record: an alarm, never
 * silence. The count (kept in Redis by every replica's consumers, so it survives
 * restarts) is a gauge on /metrics and fails readiness with the count in its detail
 * until an operator has dealt with the dead letters and reset it
 * (`HDEL <prefix>events:dead-lettered audit`). The service kit's
 * gdx_events_dead_lettered_total{group="audit"} counts this process's as well.
 */
export function registerDeadLetterAlarm(app: App): void {
  const key = deadLetterCountKey(app.streamPrefix);
  const count = async () => Number((await app.redis.hget(key, AUDIT_GROUP)) ?? 0);
  new Gauge({
    name: 'audit_events_dead_lettered',
    help: 'Audit events moved to the dead-letter stream and not yet dealt with (all replicas): each one is a call missing from the trail',
    registers: [app.metrics],
    async collect() {
      this.set(await count());
    },
  });
  app.readinessChecks.set('audit-dead-letters', async () => {
    const n = await count();
    if (n > 0) throw new ReadinessFailure(`${n} audit event${n === 1 ? '' : 's'} dead-lettered`);
  });
}
