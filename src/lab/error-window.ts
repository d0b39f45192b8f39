import { type ErrorWindow, REQUEST_KINDS } from '../chaos/drills/types.js';
import type { FailedRequest } from './recorder.js';

/**
 * How long users saw errors: from the first to the last failed request at or
 * after `from` (ms since start), per kind and for all; null for a kind that
 * did not fail. One failure is a window of 0 ms.
 */
export function errorWindow(failed: readonly FailedRequest[], from: number): ErrorWindow {
  const span = (list: readonly FailedRequest[]) => {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const f of list) {
      if (f.at < from) continue;
      first = Math.min(first, f.at);
      last = Math.max(last, f.at);
    }
    return last < first ? null : Math.round(last - first);
  };
  const window = { all: span(failed) } as ErrorWindow;
  for (const kind of REQUEST_KINDS) window[kind] = span(failed.filter((f) => f.kind === kind));
  return window;
}
