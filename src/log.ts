import pino, { type Logger } from 'pino';

import { redactUrl } from './redact.js';

export { redactUrl };

/** Fields that hold a secret wherever they appear (top level or one object down): pino writes [Redacted]. */
const SECRET_FIELDS = [
  'token',
  'password',
  'secret',
  'apiKey',
  'tsigSecret',
  'authorization',
  'cookie',
  '["x-api-key"]',
  '["proxy-authorization"]',
];
const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*${f.startsWith('[') ? '' : '.'}${f}`),
  ...SECRET_FIELDS.map((f) => `*.headers${f.startsWith('[') ? '' : '.'}${f}`),
];

/** Strings anywhere in a log object, URL credentials removed; objects are copied only when something changed. */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (depth > 3 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const message = redactUrl(value.message);
    const stack = value.stack && redactUrl(value.stack);
    if (message === value.message && stack === value.stack) return value;
    const copy = new Error(message);
    copy.name = value.name;
    copy.stack = stack;
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  let copy: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(value)) {
    const s = scrub(v, depth + 1);
    if (s !== v) {
      copy ??= { ...value };
      copy[k] = s;
    }
  }
  return copy ?? value;
}

/** Every Meridian logger's options: secret fields redacted, URL credentials removed from every string. */
export function loggerOptions(name: string, level: string): pino.LoggerOptions {
  return {
    name,
    level,
    base: { part: name },
    redact: REDACT_PATHS,
    formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? redactUrl(a) : a)) as Parameters<typeof method>,
        );
      },
    },
  };
}

/** Structured JSON logs on stderr (stdout is for command output). */
export function createLogger(name: string, level = process.env.MERIDIAN_LOG_LEVEL ?? 'info'): Logger {
  return pino(loggerOptions(name, level), pino.destination({ fd: 2, sync: false }));
}

/**
 * For work retried every tick: logs a failure once per distinct message (not
 * every tick) and its end once, so a broken dependency cannot flood the log.
 */
export function repeatedFailure(
  log: Logger | undefined,
  messages: { failed: string; recovered: string },
  fields: Record<string, unknown> = {},
) {
  let failing: string | null = null;
  return {
    failed(e: unknown) {
      const err = e instanceof Error ? e.message : String(e);
      if (err !== failing) log?.warn({ ...fields, err }, messages.failed);
      failing = err;
    },
    ok() {
      if (failing !== null) log?.info(fields, messages.recovered);
      failing = null;
    },
  };
}

export type { Logger };
