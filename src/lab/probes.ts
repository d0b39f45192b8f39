import type { Health } from '../core/model.js';
import { ControlSnapshotSource } from '../feed/control-source.js';
import { createLogger } from '../log.js';
import type { DnsClient } from './dns-client.js';

export interface DnsSample {
  t: number;
  probe: string;
  /** Region of the first answered address, '' when the query failed. */
  region: string;
}

/**
 * Asks DNS, several times a second, where a few users of each region would be
 * sent (their subnet in ECS, no caching): when answers stop naming a region,
 * and whether any answer ever flipped. Each query goes to the next name server
 * of the regions that are up.
 */
export class DnsProbe {
  readonly samples: DnsSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private turn = 0;

  constructor(
    /** The name servers of the regions that are up. */
    private readonly servers: () => readonly DnsClient[],
    private readonly hostname: string,
    /** Probe name (a region's home user) -> its /24. */
    private readonly probes: ReadonlyMap<string, string>,
    private readonly regionOf: (address: string) => string | undefined,
    private readonly clock: () => number,
  ) {}

  start(intervalMs = 250): void {
    this.timer = setInterval(() => {
      for (const [probe, subnet] of this.probes) {
        const t = this.clock();
        const live = this.servers();
        if (live.length === 0) continue;
        live[this.turn++ % live.length]
          .query(this.hostname, subnet, 1000)
          .then((a) => this.samples.push({ t, probe, region: this.regionOf(a.addresses[0] ?? '') ?? '' }))
          .catch(() => this.samples.push({ t, probe, region: '' }));
      }
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Times the answer for one probe changed region (failed queries are not answers). */
  flaps(): number {
    const last = new Map<string, string>();
    let flaps = 0;
    for (const s of [...this.samples].sort((a, b) => a.t - b.t)) {
      if (!s.region) continue;
      const before = last.get(s.probe);
      if (before !== undefined && before !== s.region) flaps++;
      last.set(s.probe, s.region);
    }
    return flaps;
  }

  /** ms after `from` until no probe was answered with `region` any more (up to `until`), null if never. */
  shiftAway(region: string, from: number, until: number): number | null {
    const window = this.samples
      .filter((s) => s.t >= from && s.t < until && s.region)
      .sort((a, b) => a.t - b.t);
    let lastBad = -1;
    for (const s of window) if (s.region === region) lastBad = s.t;
    const after = window.filter((s) => s.t > lastBad);
    if (after.length === 0) return null;
    return lastBad < 0 ? 0 : lastBad - from;
  }
}

export interface HealthChange {
  t: number;
  region: string;
  health: Health;
  dial: number;
}

/** Follows control's snapshot stream, as an edge does, and keeps every change of health and dial. */
export class ControlWatch {
  readonly changes: HealthChange[] = [];
  private source: ControlSnapshotSource;

  constructor(
    /** Every control instance: losing one does not blind the lab. */
    controlUrls: readonly string[],
    token: string,
    configFile: string,
    stateDir: string,
    private readonly clock: () => number,
  ) {
    this.source = new ControlSnapshotSource({
      controlUrl: controlUrls,
      token,
      configFile,
      stateDir,
      log: createLogger('lab-watch', 'error'),
    });
  }

  async start(): Promise<void> {
    await this.source.start();
    this.record();
    this.source.onChange(() => this.record());
  }

  private record() {
    const t = this.clock();
    for (const r of this.source.current().regions.values()) {
      const prev = this.latest(r.id);
      if (prev && prev.health === r.health && prev.dial === r.dial) continue;
      this.changes.push({ t, region: r.id, health: r.health, dial: r.dial });
    }
  }

  latest(region: string): HealthChange | undefined {
    for (let i = this.changes.length - 1; i >= 0; i--)
      if (this.changes[i].region === region) return this.changes[i];
    return undefined;
  }

  /** Resolves when the region's dial satisfies `ok`, or after timeoutMs (false). */
  async waitFor(region: string, ok: (c: HealthChange) => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const c = this.latest(region);
      if (c && ok(c)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
