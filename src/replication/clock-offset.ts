// How far this region's clock runs ahead of each peer's, from the lag probe's
// canaries. A canary carries its writer's wall time P; seen here at local time
// L, L - P = one-way delay + (our clock - theirs). The smallest L - P over a
// window is the sample with the least delay: an upper bound of how far we are
// ahead. Each canary also carries its writer's own bound for us (their clock -
// ours + their delay); with both, ahead = (mine - theirs) / 2, wrong by at most
// half the difference of the two one-way delays (NTP's estimate). Without the
// peer's bound the estimate is ours alone: too high by the one-way delay.

/** Canaries kept per peer: with the probe's 1 s interval, the last 20 s. */
const DEFAULT_WINDOW = 20;

export class ClockOffsetEstimator {
  private readonly samples = new Map<string, number[]>();
  private readonly theirs = new Map<string, number>();
  /** aheadOfPeersMs() is asked at every stamp: computed once per new sample. */
  private median: number | null | undefined;

  constructor(private readonly window = DEFAULT_WINDOW) {}

  /** A canary of `peer` stamped `peerWallMs` by its clock, seen at `localMs` by ours. */
  sample(peer: string, peerWallMs: number, localMs: number): void {
    if (!Number.isFinite(peerWallMs) || !Number.isFinite(localMs)) return;
    const list = this.samples.get(peer) ?? [];
    list.push(localMs - peerWallMs);
    if (list.length > this.window) list.shift();
    this.samples.set(peer, list);
    this.median = undefined;
  }

  /** The peer's own bound of how far it runs ahead of this region (carried in its canary). */
  peerReport(peer: string, boundMs: unknown): void {
    if (typeof boundMs === 'number' && Number.isFinite(boundMs)) this.theirs.set(peer, boundMs);
    else this.theirs.delete(peer);
    this.median = undefined;
  }

  /** This region's bound per peer, to carry in its own canary. */
  bounds(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [peer, list] of this.samples) if (list.length > 0) out[peer] = Math.min(...list);
    return out;
  }

  /** How far (ms) this region's clock runs ahead of `peer`'s (negative: behind); null before a canary. */
  aheadOfMs(peer: string): number | null {
    const list = this.samples.get(peer);
    if (!list || list.length === 0) return null;
    const mine = Math.min(...list);
    const theirs = this.theirs.get(peer);
    return theirs === undefined ? mine : (mine - theirs) / 2;
  }

  /** aheadOfMs when measured both ways (delay cancelled); null otherwise. */
  bothWaysAheadOfMs(peer: string): number | null {
    return this.theirs.has(peer) ? this.aheadOfMs(peer) : null;
  }

  /** How far this region's clock runs ahead of its peers' median; null before any canary. */
  aheadOfPeersMs(): number | null {
    if (this.median === undefined) this.median = this.computeMedian();
    return this.median;
  }

  private computeMedian(): number | null {
    const known = [...this.samples.keys()]
      .map((peer) => this.aheadOfMs(peer))
      .filter((a): a is number => a !== null)
      .sort((a, b) => a - b);
    if (known.length === 0) return null;
    const mid = Math.floor(known.length / 2);
    return known.length % 2 === 1 ? known[mid] : (known[mid - 1] + known[mid]) / 2;
  }

  /** Every peer's estimate, for health output. */
  peers(): Record<string, number | null> {
    return Object.fromEntries([...this.samples.keys()].map((p) => [p, this.aheadOfMs(p)]));
  }
}
