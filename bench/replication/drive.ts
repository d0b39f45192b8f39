// Load shapes for the replication benchmark: as fast as a window of
// concurrent writers allows, and paced at a fixed rate. Both are bounded.
import { type ChildProcess, fork } from 'node:child_process';

/** Runs op(0..n-1) with `window` operations in flight; returns writes per second. */
export async function flatOut(
  n: number,
  window: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
  return n / ((performance.now() - started) / 1000);
}

/** Issues op(0..n-1) at `rate` per second without waiting for each; resolves when all are done. */
export async function paced(n: number, rate: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const inFlight: Promise<unknown>[] = [];
  let issued = 0;
  while (issued < n) {
    const due = Math.min(n, Math.floor(((performance.now() - started) / 1000) * rate));
    while (issued < due) inFlight.push(op(issued++));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  return n / ((performance.now() - started) / 1000);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export interface RelayStats {
  applied: number;
  appliedAfterDeadline: number;
  lastAppliedAt: number | null;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** The relay of region B (relay-child.ts), or region A's shipper (shipper-child.ts), in a child process. */
export class BenchChild {
  private constructor(readonly child: ChildProcess) {}

  /** execArgv: more node options for the child (e.g. --cpu-prof). */
  static async start(
    args: string[],
    script = './relay-child.ts',
    execArgv: string[] = [],
  ): Promise<BenchChild> {
    const child = fork(new URL(script, import.meta.url).pathname, args, {
      execArgv: ['--import', 'tsx', ...execArgv],
      env: { ...process.env, MERIDIAN_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    child.once('exit', () => process.off('exit', kill));
    const relay = new BenchChild(child);
    await relay.next();
    return relay;
  }

  private next<T>(): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`relay process exited with ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (m) => {
        this.child.off('exit', onExit);
        resolve(m as T);
      });
    });
  }

  async ask<T>(message: object): Promise<T> {
    const reply = this.next<T>();
    this.child.send(message);
    return reply;
  }

  /** peer: what the child saw of the Redis replica (keyspace notifications) instead of the relay. */
  stats(deadline?: number, peer = false) {
    return this.ask<RelayStats>({ ask: 'stats', deadline, peer });
  }

  /** Waits (bounded) until the relay (or the peer replica) applied `n` events since the last reset. */
  async waitApplied(n: number, peer = false, timeoutMs = 300_000): Promise<RelayStats> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.stats(undefined, peer);
      if (s.applied >= n || Date.now() > until) return s;
      await sleep(100);
    }
  }

  async close() {
    await this.ask({ ask: 'close' }).catch(() => undefined);
    if (this.child.exitCode === null) this.child.kill();
  }
}
