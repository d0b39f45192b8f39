// The stream sequences a relay has applied, as a floor: every sequence at or
// below it was handled. Messages are handled concurrently and can finish out
// of order, so those above the floor wait in a set until the gap below closes.
export class SequenceFloor {
  private readonly above = new Set<number>();

  constructor(private current: number) {}

  get value(): number {
    return this.current;
  }

  /** A sequence handled (applied, or taken as malformed). */
  done(seq: number): void {
    if (seq <= this.current) return;
    this.above.add(seq);
    while (this.above.delete(this.current + 1)) this.current++;
  }

  /** Sequences the stream no longer keeps (aged out below its first) cannot be waited for. */
  raiseTo(seq: number): void {
    if (seq <= this.current) return;
    this.current = seq;
    for (const s of this.above) if (s <= seq) this.above.delete(s);
    while (this.above.delete(this.current + 1)) this.current++;
  }

  /** Sequences in (floor, upTo] not handled yet: what a consumer that ran ahead skipped. */
  missing(upTo: number, max: number): number[] {
    const out: number[] = [];
    for (let s = this.current + 1; s <= upTo && out.length < max; s++) if (!this.above.has(s)) out.push(s);
    return out;
  }
}
