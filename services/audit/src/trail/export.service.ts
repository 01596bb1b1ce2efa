import type { AuditRecordRepository } from './audit-record.repository';
import type { CheckpointRepository } from './checkpoint.repository';
import type { AuditKeyStore } from './audit-key.store';

export const EXPORT_FORMAT = 'gdx-audit-export';

/**
 * A self-contained, verifiable copy of the trail as NDJSON: a header, the public
 * keys, every checkpoint (oldest first), then every record chain by chain in
 * position order, which is the order the verifier needs, so the file can be
 * checked while it is read. Memory stays flat however long the trail is.
 */
export class ExportService {
  constructor(
    private readonly records: AuditRecordRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly keys: AuditKeyStore,
  ) {}

  async *ndjson(): AsyncGenerator<string> {
    const chains = await this.records.chains();
    yield line({ kind: 'header', format: EXPORT_FORMAT, version: 1, exportedAt: new Date().toISOString(), chains });
    for (const k of this.keys.publicKeys()) yield line({ kind: 'key', ...k });
    for await (const c of this.checkpoints.all()) yield line({ kind: 'checkpoint', ...c });
    for (const chain of chains) {
      let buffer = '';
      let n = 0;
      for await (const r of this.records.chainRecords(chain)) {
        // Batching lines keeps the number of stream writes (and their overhead) low.
        buffer += line({ kind: 'record', ...r });
        if (++n % 500 === 0) {
          yield buffer;
          buffer = '';
        }
      }
      if (buffer) yield buffer;
    }
  }
}

function line(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
