/** Priority classes of admission (limiter.ts): lower is more important. */
export const CRITICAL = 0;
export const NORMAL = 1;
export const BEST_EFFORT = 2;
export const PRIORITY_BY_NAME: ReadonlyMap<string, number> = new Map([
  ['critical', CRITICAL],
  ['normal', NORMAL],
  ['best-effort', BEST_EFFORT],
]);
