import { Type } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '@gdx/config';

export const AuditConfigSchema = {
  ...CommonConfig,
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8084 }),
  gatewayUrl: Type.String({ default: 'http://127.0.0.1:8080', description: 'The gateway, for the unit directory and other synchronous reads.' }),
  auditKeysDir: Type.String({ default: '.gdx/audit-keys', description: 'Directory of the Ed25519 checkpoint signing keys (<name>.pem, PKCS#8). Mount a secret here in production; never commit it.' }),
  generateAuditKey: Type.Boolean({ default: true, description: 'Create a signing key on first start when auditKeysDir has none. Turn off in production.' }),
  auditChains: Type.Integer({
    minimum: 1,
    maximum: 256,
    default: 8,
    description:
      'Hash chains written in parallel; more chains, more concurrent writers. Never lower it below a value already used without keeping the old chains verifiable (checkpoints keep listing them).',
  }),
  auditConsumers: Type.Integer({ minimum: 1, maximum: 16, default: 2, description: 'Consumer-group readers per replica; each writes its batches on a free chain.' }),
  auditBatchSize: Type.Integer({ minimum: 1, maximum: 5000, default: 1000, description: 'Stream entries read (and written in one transaction) per batch.' }),
  claimIdleMs: Type.Integer({ minimum: 100, default: 30_000, description: 'How long an event may stay unacknowledged by a dead reader before this replica takes it over.' }),
  maxDeliveries: Type.Integer({ minimum: 1, default: 5, description: 'Failed deliveries after which an event goes to the dead-letter stream.' }),
  checkpointIntervalMs: Type.Integer({ minimum: 0, default: 60_000, description: 'How often a signed checkpoint is made when the trail grew; 0 turns periodic checkpoints off.' }),
  partitionCheckMs: Type.Integer({ minimum: 1000, default: 3_600_000, description: 'How often the next month’s partition is made sure of.' }),
  maxConsumerLag: Type.Integer({ minimum: 0, default: 100_000, description: 'Readiness fails when more events than this wait unread on the audited streams.' }),
  auditWriterRole: Type.String({
    default: 'gdx_audit_writer',
    pattern: '^([a-z_][a-z0-9_]{0,62})?$',
    description: 'Role the trail is written under (SET LOCAL ROLE): it may only read and insert. Empty: write as the connecting role.',
  }),
};

export type AuditConfig = ReturnType<typeof loadAuditConfig>;

export function loadAuditConfig(env: Record<string, string | undefined> = process.env, overrides = {}) {
  return loadConfig(AuditConfigSchema, env, overrides);
}
