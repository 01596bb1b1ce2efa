import pino, { type LoggerOptions, type Logger } from 'pino';

/**
 * Paths pino removes from every log line: credentials and the personal items the
 * platform carries (identity numbers, names). Logs leave the platform's trust
 * boundary (shipped to log stores), so they must never hold either.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.secret',
  '*.clientSecret',
  '*.client_secret',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.privateKey',
  '*.idNumber',
  '*.residentId',
  '*.personName',
  '*.legalRepresentative',
  '*.contactPhone',
];

export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

export function createLogger(service: string, level = 'info'): Logger {
  return pino(loggerOptions(service, level));
}

export type { Logger };
