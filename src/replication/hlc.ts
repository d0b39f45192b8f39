// Hybrid logical clock (Kulkarni et al.): wall-clock milliseconds plus a
// counter, so a clock never runs backwards and a write that has seen another
// is always stamped after it. The origin region breaks ties.
//
// Wire form: 15 decimal digits of wall ms, '-', 5 digits of counter, '-',
// origin. Digits only in the ordered part, so the Lua script in Redis can
// compare numerically and no server locale can change the order.

/** replication.maxClockOffset's default, ms. */
export const DEFAULT_MAX_CLOCK_OFFSET_MS = 500;

const WALL_DIGITS = 15;
const COUNTER_DIGITS = 5;
const COUNTER_MAX = 99_999;
export const HLC_PATTERN = /^(\d{15})-(\d{5})-([A-Za-z0-9_][A-Za-z0-9_.-]{0,62})$/;

export interface HlcParts {
  wall: number;
  counter: number;
  origin: string;
}

export function formatHlc({ wall, counter, origin }: HlcParts): string {
  return `${String(wall).padStart(WALL_DIGITS, '0')}-${String(counter).padStart(COUNTER_DIGITS, '0')}-${origin}`;
}

export function parseHlc(text: string): HlcParts | null {
  const m = HLC_PATTERN.exec(text);
  if (!m) return null;
  return { wall: Number(m[1]), counter: Number(m[2]), origin: m[3] };
}

/** The wall-clock ms of a stamp already checked against HLC_PATTERN (its first 15 digits). */
export const wallOfHlc = (stamp: string) => Number(stamp.slice(0, 15));

/** Negative when a is older than b; the same order the Lua apply script uses. */
export function compareHlc(a: string, b: string): number {
  // The first 21 characters are fixed-width digits, so string order is numeric order.
  const head = a.slice(0, 21) < b.slice(0, 21) ? -1 : a.slice(0, 21) > b.slice(0, 21) ? 1 : 0;
  if (head !== 0) return head;
  const oa = a.slice(22);
  const ob = b.slice(22);
  return oa < ob ? -1 : oa > ob ? 1 : 0;
}

export interface HybridClockOptions {
  /**
   * How far this clock may run ahead of its peers', in ms. Once the clock is
   * measured further ahead (followPeers), its physical reading is clamped to
   * peers' time + this, so a fast clock cannot win conflicts for long.
   */
  maxOffsetMs?: number;
  /** Called for every stamp made from a clamped reading. */
  onClamp?: () => void;
}

export class HybridClock {
  private wall = 0;
  private counter = 0;
  private wallText = { wall: -1, text: '' };
  private aheadOfPeers: () => number | null = () => null;
  private readonly maxOffsetMs: number;
  /** Stamps made from a clamped reading so far. */
  clamped = 0;

  constructor(
    readonly origin: string,
    private readonly now: () => number = Date.now,
    private readonly options: HybridClockOptions = {},
  ) {
    this.maxOffsetMs = options.maxOffsetMs ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Where the clock learns how far (ms) it runs ahead of its peers' median
   * (the lag probe's estimate; null while unknown).
   */
  followPeers(aheadOfPeersMs: () => number | null): void {
    this.aheadOfPeers = aheadOfPeersMs;
  }

  /** Forgets `aheadOfPeersMs` (a stopped probe) unless another one took its place. */
  unfollowPeers(aheadOfPeersMs: () => number | null): void {
    if (this.aheadOfPeers === aheadOfPeersMs) this.aheadOfPeers = () => null;
  }

  /** The physical reading a stamp starts from: now(), or peers' time + maxOffsetMs when ahead by more. */
  physical(): { ms: number; clamped: boolean } {
    const ms = this.now();
    const ahead = this.aheadOfPeers();
    if (ahead === null || !(ahead > this.maxOffsetMs)) return { ms, clamped: false };
    return { ms: Math.floor(ms - ahead + this.maxOffsetMs), clamped: true };
  }

  /**
   * A stamp for a local write, after every stamp this clock made or observed.
   * The clock never runs backwards, also when clamping starts: two writes of
   * one region must never share a stamp, so stamps made before the offset was
   * measured hold the wall until the clamped reading passes them.
   */
  tick(): string {
    const { ms: physical, clamped } = this.physical();
    if (clamped) {
      this.clamped++;
      this.options.onClamp?.();
    }
    if (physical > this.wall) {
      this.wall = physical;
      this.counter = 0;
    } else {
      this.bump();
    }
    // The padded wall changes once a millisecond at most; a write stamps once each.
    if (this.wallText.wall !== this.wall)
      this.wallText = { wall: this.wall, text: String(this.wall).padStart(WALL_DIGITS, '0') };
    return `${this.wallText.text}-${String(this.counter).padStart(COUNTER_DIGITS, '0')}-${this.origin}`;
  }

  /** Take in a stamp seen elsewhere, so the next tick() is after it. */
  observe(stamp: string): void {
    const seen = parseHlc(stamp);
    if (!seen) return;
    if (seen.wall > this.wall) {
      this.wall = seen.wall;
      this.counter = seen.counter;
    } else if (seen.wall === this.wall && seen.counter > this.counter) {
      this.counter = seen.counter;
    }
  }

  private bump(): void {
    if (this.counter < COUNTER_MAX) this.counter++;
    else {
      // Counter exhausted within one millisecond: borrow the next millisecond.
      this.wall++;
      this.counter = 0;
    }
  }
}
