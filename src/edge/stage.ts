import type { EdgeContext } from './context.js';
import type { EdgeRuntime } from './runtime.js';

/** What a stage tells the runner: go on, the response is done, or it will call resume() later. */
export const CONTINUE = 0;
export const DONE = 1;
export const PAUSED = 2;

/** Runs the rest of the pipeline for a request a stage paused (given by the runner, so stages need not import it). */
export type Resume = (ctx: EdgeContext) => void;

export type Stage = (ctx: EdgeContext, rt: EdgeRuntime, resume: Resume) => number;
