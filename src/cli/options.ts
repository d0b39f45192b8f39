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
