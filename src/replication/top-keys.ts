// The most frequent keys of a stream in bounded memory: the space-saving
// algorithm (Metwally et al.). A key not tracked takes the place of the least
// counted one and inherits its count (as its possible overcount, `error`), so
// a key with a true count above total / capacity is always tracked.

export interface TopKey {
  key: string;
  count: number;
  /** How much of count may belong to keys it replaced. */
  error: number;
}

export class TopKeys {
  private readonly counts = new Map<string, { count: number; error: number }>();

  constructor(private readonly capacity = 200) {}

  add(key: string): void {
    const known = this.counts.get(key);
    if (known) {
      known.count++;
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(key, { count: 1, error: 0 });
      return;
    }
    let minKey = '';
    let min = Number.POSITIVE_INFINITY;
    for (const [k, c] of this.counts) {
      if (c.count < min) {
        min = c.count;
        minKey = k;
      }
    }
    this.counts.delete(minKey);
    this.counts.set(key, { count: min + 1, error: min });
  }

  top(n: number): TopKey[] {
    return [...this.counts]
      .map(([key, c]) => ({ key, count: c.count, error: c.error }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
      .slice(0, n);
  }
}
