// A test hook, not a setting: MERIDIAN_CLOCK_OFFSET_MS=N makes this process's
// clock (the one replication stamps and compares with) run N ms ahead (or
// behind, when negative), so a test or the lab can run a region with a fast
// clock on one machine. Read by `meridian replication` and the lab's origins.
import { MeridianError } from '../errors.js';

export const CLOCK_OFFSET_ENV = 'MERIDIAN_CLOCK_OFFSET_MS';

/** The offset MERIDIAN_CLOCK_OFFSET_MS asks for; undefined when unset or empty. */
export function clockOffsetFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[CLOCK_OFFSET_ENV]?.trim();
  if (!raw) return undefined;
  if (!/^-?\d{1,12}$/.test(raw)) {
    throw new MeridianError('BAD_ARGUMENT', `${CLOCK_OFFSET_ENV} expects an integer of ms, got "${raw}"`);
  }
  return Number(raw);
}

/** A clock running `offsetMs` ahead of this machine's; undefined (the real clock) for none. */
export function clockRunningAhead(offsetMs: number | undefined): (() => number) | undefined {
  if (!offsetMs) return undefined;
  return () => Date.now() + offsetMs;
}
