import { Counter } from 'prom-client';
import type { App } from '@gdx/service-kit';
import type { StreamConsumer } from '@gdx/events';
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
