/** Why a tunnel closed (the `reason` label of meridian_edge_tunnels_closed_total). */
export type CloseReason = 'client' | 'upstream' | 'evacuated' | 'drain' | 'error';

/** Tunnel counts of one edge process; snapshots of several workers add up. */
export interface TunnelStatsSnapshot {
  /** service -> tunnels open now. */
  open: Record<string, number>;
  /** "service|region" (the region that serves it) -> tunnels opened since start. */
  opened: Record<string, number>;
  /** "service|reason" -> tunnels closed since start. */
  closed: Record<string, number>;
}

export class TunnelStats {
  private readonly open = new Map<string, number>();
  private readonly opened = new Map<string, number>();
  private readonly closed = new Map<string, number>();

  countOpened(service: string, region: string): void {
    bump(this.open, service, 1);
    bump(this.opened, `${service}|${region}`, 1);
  }

  countClosed(service: string, reason: CloseReason): void {
    bump(this.open, service, -1);
    bump(this.closed, `${service}|${reason}`, 1);
  }

  snapshot(): TunnelStatsSnapshot {
    return {
      open: Object.fromEntries(this.open),
      opened: Object.fromEntries(this.opened),
      closed: Object.fromEntries(this.closed),
    };
  }
}

function bump(m: Map<string, number>, key: string, by: number): void {
  m.set(key, (m.get(key) ?? 0) + by);
}

const add = (a: Record<string, number>, b: Record<string, number>) => {
  const out: Record<string, number> = Object.create(null);
  for (const [k, v] of Object.entries(a)) out[k] = v;
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
};

export function mergeTunnelStats(
  a: TunnelStatsSnapshot | undefined,
  b: TunnelStatsSnapshot | undefined,
): TunnelStatsSnapshot | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return { open: add(a.open, b.open), opened: add(a.opened, b.opened), closed: add(a.closed, b.closed) };
}
