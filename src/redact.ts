// Apart from log.ts so that the CLI can redact an error message without loading pino.

/** userinfo of any URL (`redis://:pw@host`, `nats://token@host`, `https://u:p@host`). */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** The text with every URL's credentials replaced by `***`: for logs and error messages. */
export function redactUrl(text: string): string {
  return text.includes('@') ? text.replace(URL_CREDENTIALS, '$1***@') : text;
}
