import { type Command, Option } from 'commander';
import { readSecretFile, type Warn, warnToStderr } from '../config/secret-file.js';
import { MeridianError } from '../errors.js';

/**
 * One secret a command takes: `--X VALUE`, `--X-file PATH`, env `ENV` and env `ENV_FILE`.
 * A value on the command line is visible to every user of the machine (`ps`,
 * /proc/PID/cmdline); a file or the environment is not.
 */
export interface SecretSpec {
  /** The flag, e.g. `--token`; its file form is `--token-file`. */
  flag: string;
  /** Environment variable holding the value, e.g. MERIDIAN_TOKEN; `${env}_FILE` names a file. */
  env: string;
  /** What the secret is, for --help. */
  description: string;
  /** Placeholder in --help, e.g. `<token>`. */
  value?: string;
}

const camel = (flag: string) =>
  flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The key commander stores the flag under, and the one of its file form. */
export const secretKeys = (spec: SecretSpec) => ({
  value: camel(spec.flag),
  file: camel(`${spec.flag}-file`),
});

/** `--X <value>`: kept for scripts, but its value is visible in ps. */
export const secretFlag = (spec: SecretSpec) =>
  new Option(
    `${spec.flag} ${spec.value ?? '<secret>'}`,
    `${spec.description} (visible in ps: prefer ${spec.flag}-file or env ${spec.env})`,
  );

/** `--X-file <path>`: the secret is the file's first line. */
export const secretFileFlag = (spec: SecretSpec) =>
  new Option(`${spec.flag}-file <path>`, `read ${spec.flag} from a file (mode 0600; env ${spec.env}_FILE)`);

/** Adds `--X <value>` and `--X-file <path>`; --help names both environment variables. */
export function secretOption(cmd: Command, spec: SecretSpec): Command {
  return cmd.addOption(secretFlag(spec)).addOption(secretFileFlag(spec));
}

/**
 * The secret, first found wins: `--X VALUE`, `--X-file PATH`, env ENV, env ENV_FILE.
 * The command line beats the environment, so one command can override an exported value;
 * giving both `--X` and `--X-file` is an error.
 */
export function resolveSecret(
  spec: SecretSpec,
  opts: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  warn: Warn = warnToStderr,
): string | undefined {
  const keys = secretKeys(spec);
  const value = opts[keys.value] as string | undefined;
  const file = opts[keys.file] as string | undefined;
  if (value !== undefined && file !== undefined)
    throw new MeridianError('BAD_ARGUMENT', `give ${spec.flag} or ${spec.flag}-file, not both`);
  if (value !== undefined) return value;
  const flagError = { code: 'BAD_ARGUMENT', warn } as const;
  if (file !== undefined) return readSecretFile(file, `${spec.flag}-file`, flagError);
  if (env[spec.env]) return env[spec.env];
  const envFile = env[`${spec.env}_FILE`];
  if (envFile) return readSecretFile(envFile, `${spec.env}_FILE`, flagError);
  return undefined;
}

/** Where a missing secret can come from, for error messages. */
export const secretSources = (spec: SecretSpec) =>
  `${spec.flag}, ${spec.flag}-file, env ${spec.env} or env ${spec.env}_FILE`;

/** The bearer token for control (`meridian status|dial|evacuate|restore`, and dns/edge following control). */
export const controlToken = (description = 'bearer token for --control'): SecretSpec => ({
  flag: '--token',
  env: 'MERIDIAN_TOKEN',
  description,
  value: '<token>',
});
