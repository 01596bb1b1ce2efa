import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable} ${message}`);
    this.name = 'ConfigError';
  }
}

/**
 * The settings every service shares. Each maps to an environment variable of the
 * same name in SCREAMING_SNAKE_CASE (see `envName`); defaults suit a developer laptop.
 */
export const CommonConfig = {
  host: Type.String({ default: '0.0.0.0', description: 'Interface to listen on.' }),
  logLevel: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  databaseUrl: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/gdx', description: 'PostgreSQL connection string.' }),
  databasePoolSize: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  migrateOnStart: Type.Boolean({ default: true, description: 'Apply pending migrations at boot (turn off when a Kubernetes job runs them).' }),
  redisUrl: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis connection string (with Sentinel: only its password and database number are used).' }),
  redisSentinels: Type.String({
    default: '',
    pattern: '^$|^[^,:\\s]+:\\d{1,5}(,[^,:\\s]+:\\d{1,5})*$',
    description: 'Redis Sentinel addresses, `host:port,host:port`: when given, the master is found through them (and again after a failover) instead of at redisUrl.',
  }),
  redisSentinelName: Type.String({ default: 'mymaster', minLength: 1, description: 'The master group name the Sentinels monitor.' }),
  streamPrefix: Type.String({ default: 'gdx:', description: 'Prefix of every Redis key and stream this service touches.' }),
  bodyLimitBytes: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  jwtIssuer: Type.String({ default: 'gdx' }),
  jwtAudience: Type.String({ default: 'gdx-api' }),
  jwksUrl: Type.String({ default: 'http://127.0.0.1:8080/.well-known/jwks.json', description: 'Where services fetch the token verification keys.' }),
  consumerName: Type.String({ default: '', description: 'Stream consumer name; defaults to host name and pid.' }),
  shutdownGraceMs: Type.Integer({ minimum: 0, default: 10_000 }),
  trustProxy: Type.String({
    default: '',
    pattern: '^$|^[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*$',
    description:
      'Addresses or CIDRs (comma-separated) of the reverse proxies in front (the ingress controller): their X-Forwarded-For gives the caller’s address on the record. Empty: the peer’s address.',
  }),
  redisReadinessGraceMs: Type.Integer({
    minimum: 0,
    default: 30_000,
    description: 'How long Redis may be unreachable before readiness fails: a blip leaves the pods in service (calls that need Redis answer 503 meanwhile).',
  }),
  outboxRetentionHours: Type.Number({
    minimum: 0,
    default: 24,
    description: 'How long a published outbox row stays after every consumer group acknowledged it (what can be published again if Redis is restored from an older state).',
  }),
  outboxCheckMs: Type.Integer({ minimum: 100, default: 5_000, description: 'How often the outbox relay checks that Redis still holds what it published (and replays what it lost).' }),
};

export function envName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/**
 * Reads `env` once, converts strings to the declared types, applies defaults and
 * fails with the name of the first bad variable. Handlers receive the typed result
 * and never look at process.env.
 */
export function loadConfig<P extends TProperties>(properties: P, env: Record<string, string | undefined> = process.env, overrides: Partial<Static<TObject<P>>> = {}): Static<TObject<P>> {
  const schema = Type.Object(properties, { additionalProperties: false });
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(properties)) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  Object.assign(raw, overrides);
  const converted = Value.Default(schema, Value.Convert(schema, raw));
  const first = Value.Errors(schema, converted).First();
  if (first) {
    const key = first.path.replace(/^\//, '').split('/')[0];
    throw new ConfigError(envName(key), `${first.message} (got ${JSON.stringify(raw[key])})`);
  }
  return converted as Static<TObject<P>>;
}

export type Config<P extends TProperties> = Static<TObject<P>>;
export type CommonConfigType = Static<TObject<typeof CommonConfig>>;
