import pino, { type Logger } from 'pino';

/** Structured JSON logs on stderr (stdout is for command output). */
export function createLogger(name: string, level = process.env.MERIDIAN_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { part: name } }, pino.destination({ fd: 2, sync: false }));
}

export type { Logger };
