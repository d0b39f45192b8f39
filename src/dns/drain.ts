// Draining on SIGTERM: the server keeps reading its sockets until the queries
// sent before the signal (already in the kernel's receive queues) are answered.
import { setImmediate as nextCheck, setTimeout as sleep } from 'node:timers/promises';

/** Queries the listeners took in and answers they sent, counted while serving. */
export interface Traffic {
  received: number;
  answered: number;
}

export const newTraffic = (): Traffic => ({ received: 0, answered: 0 });

export interface DrainBounds {
  /** The drain ends once no query arrived for this long: the receive queues are empty. */
  quietMs: number;
  /** And at the latest after this long, so a flood cannot hold the shutdown forever. */
  maxMs: number;
}

export const DEFAULT_DRAIN: DrainBounds = { quietMs: 100, maxMs: 2000 };

/**
 * Resolves once `received()` stayed the same over a whole quiet period, or at `deadline`
 * (Date.now() milliseconds).
 */
export async function waitUntilQuiet(received: () => number, quietMs: number, deadline: number) {
  let seen = received();
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return;
    await sleep(Math.min(quietMs, left));
    // A timer can fire late with datagrams waiting (a busy machine): the I/O
    // phase between it and this check reads them before we call it quiet.
    await nextCheck();
    const now = received();
    if (now === seen) return;
    seen = now;
  }
}
