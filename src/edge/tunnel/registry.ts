import type { Socket } from 'node:net';
import type { MeridianConfig } from '../../config/index.js';
import type { Snapshot } from '../../core/model.js';
import type { Logger } from '../../log.js';
import { type RemoteTargetNeeds, remoteTarget } from '../inbound/remote-target.js';
import type { ClientLocator } from '../locate.js';
import { type CloseReason, TunnelStats } from './stats.js';
import { Tunnel, type TunnelInfo, type TunnelOwner } from './tunnel.js';

/**
 * What the registry reads from the runtime, which holds it as state
 * (runtime.tunnels): typed here so that the runtime's import of this file
 * makes no cycle (import-cycles.test.ts).
 */
export interface TunnelRegistryNeeds extends RemoteTargetNeeds {
  /** Swapped whole on reload: read it each time. */
  readonly config: MeridianConfig;
  readonly snapshot: Snapshot;
  readonly locator: ClientLocator;
  readonly accessLog: Logger | null;
}

/**
 * The open tunnels of one edge process, and the watch that keeps them in
 * the right region: a tunnel whose client decide() now sends elsewhere (the
 * home region's dial moved, the region was evacuated or went DOWN) is
 * closed `edge.tunnels.evacuationGrace` after the watch first sees it, so
 * the client reconnects and lands where new requests go. The watch uses the
 * route stage's own rule (remoteTarget), on the snapshot the edge serves.
 */
export class TunnelRegistry implements TunnelOwner {
  readonly stats = new TunnelStats();
  private readonly open = new Set<Tunnel>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly rt: TunnelRegistryNeeds) {}

  start(): void {
    const grace = this.rt.config.edge.tunnels.evacuationGrace;
    // A quarter of the grace: a tunnel closes at most that late.
    const tick = Math.max(50, Math.min(1000, Math.floor(grace / 4)));
    this.timer = setInterval(() => this.watch(performance.now()), tick);
    this.timer.unref();
  }

  get size(): number {
    return this.open.size;
  }

  add(client: Socket, upstream: Socket, info: TunnelInfo, clientHead: Buffer): Tunnel {
    const t = new Tunnel(client, upstream, info, this, this.rt.config.edge.tunnels.closeTimeout);
    this.open.add(t);
    this.stats.countOpened(info.service, info.region);
    t.start(clientHead);
    return t;
  }

  closed(t: Tunnel, reason: CloseReason): void {
    if (!this.open.delete(t)) return;
    this.stats.countClosed(t.info.service, reason);
    const { info } = t;
    this.rt.accessLog?.info({
      tunnel: info.protocol,
      service: info.service,
      region: info.region,
      client: info.clientIp,
      reason,
      seconds: Math.round(performance.now() - t.openedAt) / 1000,
      bytes: t.bytes,
    });
  }

  /** Where decide() sends this tunnel's client now; its own region when that is right. */
  placeOf(t: Tunnel): string {
    const snapshot = this.rt.snapshot;
    const info = this.rt.locator.connectionInfo(t.info);
    const decision = this.rt.locator.decisionFor(info, t.info.clientIp, snapshot);
    return remoteTarget(decision, this.rt, snapshot) ?? this.rt.region;
  }

  watch(now: number): void {
    if (this.open.size === 0) return;
    const grace = this.rt.config.edge.tunnels.evacuationGrace;
    for (const t of this.open) {
      if (t.closing || t.info.hop) continue;
      if (this.placeOf(t) === t.info.region) {
        t.misplacedAt = 0;
        continue;
      }
      if (t.misplacedAt === 0) t.misplacedAt = now;
      if (now - t.misplacedAt >= grace) t.close('evacuated');
    }
  }

  /** SIGTERM: every tunnel gets its close (1001) now; drain waits for them to go. */
  drain(): void {
    for (const t of this.open) t.close('drain');
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    for (const t of this.open) t.destroy();
  }
}
