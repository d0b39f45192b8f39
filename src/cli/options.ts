import { Option } from 'commander';
import { MeridianError } from '../errors.js';

export const DEFAULT_CONFIG = process.env.MERIDIAN_CONFIG ?? 'meridian.yaml';

export const configOption = () =>
  new Option('-c, --config <file>', 'meridian.yaml to use (env MERIDIAN_CONFIG)').default(DEFAULT_CONFIG);
export const jsonOption = () => new Option('--json', 'print one JSON object instead of text');

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** "us-east-1=25" -> ["us-east-1", 25]. */
export function parseDial(text: string): [string, number] {
  const m = /^(.+)=(\d{1,3}(?:\.\d+)?)%?$/.exec(text);
  const pct = m ? Number(m[2]) : Number.NaN;
  if (!m || pct > 100)
    throw new MeridianError('BAD_ARGUMENT', `--dial expects REGION=PERCENT (0-100), got "${text}"`);
  return [m[1], pct];
}

/** `--control URL[,URL...]` for a server that follows control: repeatable, env MERIDIAN_CONTROL. */
export const followControlOption = () =>
  new Option(
    '--control <urls>',
    'follow the control plane: one URL, or every instance, comma-separated or repeated (env MERIDIAN_CONTROL); default: follow the config file',
  ).argParser(collect);

/** The control instances from --control (repeated or comma-separated) or else MERIDIAN_CONTROL; none: undefined. */
export async function controlUrlsFrom(flag: string[] | undefined): Promise<string[] | undefined> {
  const given = flag ?? process.env.MERIDIAN_CONTROL;
  if (given === undefined || given === '') return undefined;
  const { parseControlUrls } = await import('../feed/control-instances.js');
  return parseControlUrls(given);
}
