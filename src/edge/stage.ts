import type { EdgeContext } from './context.js';
import type { EdgeRuntime } from './runtime.js';

/** What a stage tells the runner: go on, the response is done, or it will call run() again later. */
export const CONTINUE = 0;
export const DONE = 1;
export const PAUSED = 2;
export type Stage = (ctx: EdgeContext, rt: EdgeRuntime) => number;
