import { Type } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '@gdx/config';

export const GatewayConfigSchema = {
  ...CommonConfig,
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  keysDir: Type.String({ default: '.gdx/keys', description: 'Directory of Ed25519 signing keys (<kid>.pem, PKCS#8). Mount a secret here in production.' }),
  generateKeys: Type.Boolean({ default: true, description: 'Create a signing key when keysDir has none (development). Turn off in production.' }),
  keysReloadMs: Type.Integer({ minimum: 100, default: 30_000, description: 'How often keysDir is re-read, so rotated keys are picked up without a restart.' }),
  keysActivationDelayMs: Type.Integer({
    minimum: 0,
    default: 10_000,
    description: 'A newly added key is published at once and signs only after this delay (longer than the services’ 5 s JWKS refetch throttle).',
  }),
  jobInputLimitBytes: Type.Integer({
    minimum: 1024,
    default: 268_435_456,
    description: 'Largest customization job input (`PUT /api/v1/jobs/{id}/input`) the gateway forwards; data-query’s jobMaxInputBytes is the job’s own limit.',
  }),
  tokenTtlSeconds: Type.Integer({ minimum: 60, maximum: 86_400, default: 3600 }),
  lockoutThreshold: Type.Integer({ minimum: 1, default: 5, description: 'Failed logins in a row that lock an account.' }),
  lockoutMinutes: Type.Integer({ minimum: 1, default: 15 }),
  catalogueUrl: Type.String({ default: 'http://127.0.0.1:8081' }),
  requestApprovalUrl: Type.String({ default: 'http://127.0.0.1:8082' }),
  dataQueryUrl: Type.String({ default: 'http://127.0.0.1:8083' }),
  queryBatchesInFlight: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 8,
    description: 'Interface-query batches to data-query outstanding at once (one connection each); queries arriving meanwhile leave together in the next batch.',
  }),
  queryBatchMaxCalls: Type.Integer({ minimum: 1, maximum: 256, default: 64, description: 'Most interface queries in one batch to data-query.' }),
  upstreamConnectionTtlMs: Type.Integer({
    minimum: 1_000,
    default: 30_000,
    description:
      'How long a connection to a service is kept before it is closed (once idle) and opened again: a Kubernetes Service balances connections, not requests, so replicas the autoscaler adds get their share within this time.',
  }),
  auditUrl: Type.String({ default: 'http://127.0.0.1:8084' }),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env, overrides = {}) {
  return loadConfig(GatewayConfigSchema, env, overrides);
}
