import { Type } from '@sinclair/typebox';
import { CommonConfig, ConfigError, envName, loadConfig } from '@gdx/config';

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
  assessmentRollups: Type.Boolean({
    default: true,
    description: 'Keep the assessment rollups as records are written. Off only to measure what they cost (bench:assessment); a rebuild brings them back.',
  }),
  inspection: Type.Boolean({ default: true, description: 'Run the security inspection consumer group. Off only to measure what it costs.' }),
  assessmentUtcOffsetMinutes: Type.Integer({
    minimum: -720,
    maximum: 840,
    default: 480,
    description: 'Offset of the civil time assessment days and periods are counted in (480 = China Standard Time).',
  }),
  inspectVolumeFactor: Type.Number({
    minimum: 1,
    default: 5,
    description: 'Inspection, volume: an hour with more calls than this many times the median of the same hour of the week in the past weeks (per grant and per unit).',
  }),
  inspectVolumeMinCalls: Type.Integer({ minimum: 1, default: 100, description: 'Inspection, volume: hours with fewer calls are never flagged.' }),
  inspectVolumeWeeks: Type.Integer({ minimum: 1, maximum: 12, default: 4, description: 'Inspection, volume: weeks of the baseline (4: the 28-day median for that hour of the week).' }),
  inspectEnumerationWindowMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 10, description: 'Inspection, enumeration: the window distinct keys are counted in, per client.' }),
  inspectEnumerationMinKeys: Type.Integer({ minimum: 2, default: 200, description: 'Inspection, enumeration: distinct keys in a window from which the not-found share is judged.' }),
  inspectEnumerationNotFoundShare: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'Inspection, enumeration: share of keys not found that flags a window.' }),
  inspectSequentialRun: Type.Integer({ minimum: 2, default: 20, description: 'Inspection, enumeration: consecutive identity numbers (one region and birth date) in a window that flag it.' }),
  inspectWorkingHours: Type.String({
    default: '08:00-18:00',
    pattern: '^([01]\\d|2[0-3]):[0-5]\\d-([01]\\d|2[0-4]):[0-5]\\d$',
    description: 'Inspection, off-hours: working hours, Monday to Friday, in the assessment’s civil time.',
  }),
  inspectBulkRows: Type.Integer({ minimum: 1, default: 10_000, description: 'Inspection, off-hours: a data call delivering at least this many rows outside working hours is flagged.' }),
  inspectDenialWindowSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'Inspection, denials: the window refusals are counted in, per client.' }),
  inspectDenialBurst: Type.Integer({ minimum: 2, default: 20, description: 'Inspection, denials: refusals (NO_GRANT, ITEM_NOT_GRANTED, MODE_NOT_GRANTED) in a window that flag it.' }),
  assessmentWeights: Type.String({
    default: '',
    description:
      'JSON object overriding the assessment score’s weights: publication 20, timeliness 25, responsiveness 20, legality 10, usage 15, objections 10 (relative), rectificationPenalty 2 and circularPenalty 5 (points off per case). Empty: the defaults.',
  }),
};

export type AuditConfig = ReturnType<typeof loadAuditConfig>;

const WEIGHT_KEYS = ['publication', 'timeliness', 'responsiveness', 'legality', 'usage', 'objections', 'rectificationPenalty', 'circularPenalty'] as const;
export type AssessmentWeightsConfig = Record<(typeof WEIGHT_KEYS)[number], number>;
const DEFAULT_WEIGHTS: AssessmentWeightsConfig = { publication: 20, timeliness: 25, responsiveness: 20, legality: 10, usage: 15, objections: 10, rectificationPenalty: 2, circularPenalty: 5 };

export function loadAuditConfig(env: Record<string, string | undefined> = process.env, overrides = {}) {
  const config = loadConfig(AuditConfigSchema, env, overrides);
  return { ...config, weights: parseWeights(config.assessmentWeights) };
}

/** The score's weights, checked at boot: a typo in a key or a negative weight stops the service rather than skew every score. */
function parseWeights(text: string): AssessmentWeightsConfig {
  if (!text.trim()) return { ...DEFAULT_WEIGHTS };
  let given: unknown;
  try {
    given = JSON.parse(text);
  } catch {
    throw new ConfigError(envName('assessmentWeights'), 'is not JSON');
  }
  if (!given || typeof given !== 'object' || Array.isArray(given)) throw new ConfigError(envName('assessmentWeights'), 'is not a JSON object');
  const out = { ...DEFAULT_WEIGHTS };
  for (const [k, v] of Object.entries(given)) {
    if (!(WEIGHT_KEYS as readonly string[]).includes(k)) throw new ConfigError(envName('assessmentWeights'), `names ${k}, which is not one of ${WEIGHT_KEYS.join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(envName('assessmentWeights'), `gives ${k} a value that is not a number ≥ 0`);
    out[k as (typeof WEIGHT_KEYS)[number]] = v;
  }
  if (!['publication', 'timeliness', 'responsiveness', 'legality', 'usage', 'objections'].some((k) => out[k as keyof AssessmentWeightsConfig] > 0)) {
    throw new ConfigError(envName('assessmentWeights'), 'gives every component weight 0');
  }
  return out;
}
