import type { MeridianConfig } from '../config/index.js';

/**
 * The recovery-point objective control checks moves against: `control.rpo`
 * when set, else `replication.rpo` when the deployment replicates data
 * (`replication.regions` is not empty), else none: lag is not checked.
 */
export function controlRpo(config: MeridianConfig): number | undefined {
  if (config.control.rpo !== undefined) return config.control.rpo;
  return config.replication.regions.length > 0 ? config.replication.rpo : undefined;
}
