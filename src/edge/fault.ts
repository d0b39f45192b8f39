import { MeridianError } from '../errors.js';

/** Drill faults, set through the admin port; all off by default. */
export interface FaultSettings {
  latencyMs: number;
  errorRate: number;
  blackhole: boolean;
}

export const NO_FAULT: FaultSettings = { latencyMs: 0, errorRate: 0, blackhole: false };

export function parseFault(body: unknown): FaultSettings {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new MeridianError('BAD_REQUEST', 'expected a JSON object {latencyMs?, errorRate?, blackhole?}');
  }
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(b)) {
    if (!['latencyMs', 'errorRate', 'blackhole'].includes(key)) problems.push(`unknown key "${key}"`);
  }
  const latencyMs = b.latencyMs ?? 0;
  const errorRate = b.errorRate ?? 0;
  const blackhole = b.blackhole ?? false;
  if (typeof latencyMs !== 'number' || latencyMs < 0 || latencyMs > 600_000)
    problems.push('latencyMs: expected a number of milliseconds 0-600000');
  if (typeof errorRate !== 'number' || errorRate < 0 || errorRate > 1)
    problems.push('errorRate: expected a share 0-1');
  if (typeof blackhole !== 'boolean') problems.push('blackhole: expected true or false');
  if (problems.length > 0) throw new MeridianError('BAD_REQUEST', 'invalid fault', problems);
  return { latencyMs: latencyMs as number, errorRate: errorRate as number, blackhole: blackhole as boolean };
}

export const isFaultActive = (f: FaultSettings) => f.latencyMs > 0 || f.errorRate > 0 || f.blackhole;
