import { request } from 'undici';
import type { Logger } from '../log.js';
import { parseControlUrls } from './control-instances.js';
import type { EdgeReport } from './report.js';

export interface ReporterOptions {
  /** One control instance or several: any of them takes a report (a follower passes it to the leader). */
  controlUrl: string | readonly string[];
  token: string;
  collect: () => EdgeReport;
  log?: Logger;
  intervalMs?: number;
  timeoutMs?: number;
}

export interface Reporter {
  close(): Promise<void>;
  /** Reports sent and accepted / failed, for metrics and tests. */
  readonly stats: { sent: number; failed: number };
}

/**
 * POSTs collect() to {control}/v1/reports every interval. One report in
 * flight at a time: a slow control plane gets fewer reports, not a pile-up.
 * Failures are logged once per streak, not every second. With several
 * instances it stays with the one that takes its reports and moves on to the
 * next after a failure (a lost report is replaced by the next second's).
 */
export function startReporter(options: ReporterOptions): Reporter {
  const interval = options.intervalMs ?? 1000;
  const timeout = options.timeoutMs ?? Math.max(200, interval - 100);
  const urls = parseControlUrls(options.controlUrl).map((u) => new URL('/v1/reports', u).toString());
  let at = 0;
  const stats = { sent: 0, failed: 0 };
  let inFlight: Promise<void> | undefined;
  let failing = false;
  let closed = false;

  const sendOnce = async () => {
    const url = urls[at];
    try {
      const body = JSON.stringify(options.collect());
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
      stats.sent++;
      if (failing) options.log?.info({ url }, 'reports accepted again');
      failing = false;
    } catch (e) {
      stats.failed++;
      if (!failing && !closed) options.log?.warn({ url, err: (e as Error).message }, 'report failed');
      failing = true;
      at = (at + 1) % urls.length;
    }
  };

  const timer = setInterval(() => {
    if (inFlight || closed) return;
    inFlight = sendOnce().finally(() => {
      inFlight = undefined;
    });
  }, interval);
  timer.unref();

  return {
    stats,
    async close() {
      closed = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
