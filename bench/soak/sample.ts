// One look at one process: RSS and open descriptors from /proc (any process, Node or not),
// heap from its /metrics when it has one.
import { readdirSync, readFileSync } from 'node:fs';
import { HEAP_AFTER_GC } from '../../src/metrics-conventions.js';

export interface ProcessLook {
  rssBytes: number | null;
  fds: number | null;
  heapBytes: number | null;
}

/** VmRSS (kB) of /proc/PID/status, in bytes; null when the process is gone. */
export function parseRss(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Heap from a Prometheus text page, as what the last GC left where the process says so: heap in
 * use counts garbage, and a quiet process's full GCs can be minutes apart, so it climbs between
 * them like a leak would.
 * - Meridian's daemons: `meridian_nodejs_heap_used_after_major_gc_bytes`.
 * - Go programs (etcd): half of `go_memstats_next_gc_bytes`, the live heap at the last GC (Go sets
 *   the next GC at twice it with the default GOGC=100, a little more for its roots).
 * - Otherwise: prom-client's `nodejs_heap_size_used_bytes`, or Go's `go_memstats_heap_alloc_bytes`.
 * null when none is there.
 */
export function parseHeap(metrics: string): number | null {
  const value = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)`, 'm').exec(metrics);
    return m ? Number(m[1]) : null;
  };
  const afterGc = value(HEAP_AFTER_GC);
  if (afterGc !== null) return afterGc;
  const nextGc = value('go_memstats_next_gc_bytes');
  if (nextGc !== null) return nextGc / 2;
  return value('nodejs_heap_size_used_bytes') ?? value('go_memstats_heap_alloc_bytes');
}

export function readProc(pid: number): { rssBytes: number | null; fds: number | null } {
  try {
    const rssBytes = parseRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return { rssBytes, fds };
  } catch {
    return { rssBytes: null, fds: null };
  }
}

/**
 * `work`'s value, or null once ms passed. The timer is a referenced one: a 20-minute soak once
 * stalled for good on a fetch whose only deadline was AbortSignal.timeout's unreferenced timer,
 * and exited silently with the lab, without a verdict.
 */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([work.catch(() => null), deadline]).finally(() => clearTimeout(timer));
}

export async function readHeap(metricsUrl: string | undefined): Promise<number | null> {
  if (!metricsUrl) return null;
  const read = async () => {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    return res.ok ? parseHeap(text) : null;
  };
  return withDeadline(read(), 2500);
}

export async function look(pid: number, metricsUrl?: string): Promise<ProcessLook> {
  const [heapBytes, proc] = await Promise.all([readHeap(metricsUrl), Promise.resolve(readProc(pid))]);
  return { ...proc, heapBytes };
}
