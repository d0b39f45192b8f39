// Apart from secret.ts (which needs zod for secretRef) so that the CLI reads a secret flag's file cheaply.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { MeridianError } from '../errors.js';

/** Where a reader may warn (a secret file others can read); stderr by default, as ssh does. */
export type Warn = (message: string) => void;
export const warnToStderr: Warn = (m) => process.stderr.write(`meridian: warning: ${m}\n`);

export interface SecretFileOptions {
  /** CONFIG_INVALID for a config option (default), BAD_ARGUMENT for a command-line flag. */
  code?: 'CONFIG_INVALID' | 'BAD_ARGUMENT';
  warn?: Warn;
}

const WHY: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied' };

/**
 * The one reader of secret files, for config options and flags alike: the
 * secret is the first line, its line ending (LF or CRLF) stripped. A file the
 * group or others may read is used with a warning. Errors name `what` (the
 * config path or flag) and the file, never the content.
 */
export function readSecretFile(path: string, what: string, options: SecretFileOptions = {}): string {
  const { code = 'CONFIG_INVALID', warn = warnToStderr } = options;
  let text: string;
  let mode: number;
  try {
    // One open for both, so the mode checked is the one of the file read.
    const fd = openSync(path, 'r');
    try {
      mode = fstatSync(fd).mode;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new MeridianError(code, `${what}: cannot read secret file ${path} (${WHY[errno] ?? errno})`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    warn(`secret file ${path} is readable by others (mode ${octal}); chmod 600 ${path}`);
  }
  const secret = text.split('\n', 1)[0].replace(/\r$/, '');
  if (secret.length === 0) throw new MeridianError(code, `${what}: secret file ${path} is empty`);
  return secret;
}
