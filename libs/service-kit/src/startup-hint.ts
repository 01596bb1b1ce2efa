import { dependencyUnavailable } from '@gdx/errors';

/** A connection string fit to print: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

function hostPort(url: string, defaultPort: number): string {
  try {
    const u = new URL(url);
    return `${u.hostname || '127.0.0.1'}:${u.port || defaultPort}`;
  } catch {
    return url;
  }
}

/**
 * What an operator or a developer reads when a start fails because PostgreSQL or Redis is not
 * there: which address was tried, from which variable, and how to get one (not a bare
 * ECONNREFUSED and a stack trace). Anything else: the error's message.
 */
export function startupFailure(err: unknown, target: { databaseUrl: string; redisUrl?: string }): string {
  const message = err instanceof Error ? err.message : String(err);
  let away = dependencyUnavailable(err);
  // A socket error names the address it tried: that says which of the two it was.
  if (away && target.redisUrl && message.includes(hostPort(target.redisUrl, 6379))) away = 'redis';
  else if (away && message.includes(hostPort(target.databaseUrl, 5432))) away = 'postgres';
  if (away === 'postgres' || (!away && /password authentication failed|database ".*" does not exist/.test(message)))
    return [
      `cannot reach PostgreSQL at ${hostPort(target.databaseUrl, 5432)} (DATABASE_URL=${redactUrl(target.databaseUrl)}): ${message}`,
      '  Start it (Debian/Ubuntu: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start;',
      '  Docker: docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15) or set DATABASE_URL to a running server.',
    ].join('\n');
  if (away === 'redis' && target.redisUrl)
    return [
      `cannot reach Redis at ${hostPort(target.redisUrl, 6379)} (REDIS_URL=${redactUrl(target.redisUrl)}): ${message}`,
      '  Start it (redis-server --daemonize yes --bind 127.0.0.1 --port 6379; Docker: docker run -d -p 6379:6379 redis:7) or set REDIS_URL.',
    ].join('\n');
  return message;
}
