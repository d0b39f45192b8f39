// The sample service's data: per user, a watch list of items. Each origin
// keeps a full copy; copies converge by last-writer-wins on (ts, writer).

export interface Entry {
  user: string;
  item: string;
  /** null: the item was deleted (a tombstone, kept so a late copy cannot revive it). */
  value: string | null;
  ts: number;
  writer: string;
}

const newer = (a: Entry, b: Entry) => a.ts > b.ts || (a.ts === b.ts && a.writer > b.writer);

export class WatchStore {
  private readonly users = new Map<string, Map<string, Entry>>();
  private clock = 0;

  constructor(private readonly writer: string) {}

  /** A hybrid clock: wall time, but never behind anything this copy has seen. */
  private tick(): number {
    this.clock = Math.max(Date.now(), this.clock + 1);
    return this.clock;
  }

  put(user: string, item: string, value: string): Entry {
    const e = { user, item, value, ts: this.tick(), writer: this.writer };
    this.apply(e);
    return e;
  }

  delete(user: string, item: string): Entry {
    const e = { user, item, value: null, ts: this.tick(), writer: this.writer };
    this.apply(e);
    return e;
  }

  /** Keeps the entry when it is newer than what this copy has; true when it was. */
  apply(e: Entry): boolean {
    this.clock = Math.max(this.clock, e.ts);
    let items = this.users.get(e.user);
    if (!items) {
      items = new Map();
      this.users.set(e.user, items);
    }
    const had = items.get(e.item);
    if (had && !newer(e, had)) return false;
    items.set(e.item, e);
    return true;
  }

  list(user: string): { id: string; value: string }[] {
    const out: { id: string; value: string }[] = [];
    for (const e of this.users.get(user)?.values() ?? [])
      if (e.value !== null) out.push({ id: e.item, value: e.value });
    return out;
  }

  *entries(): Generator<Entry> {
    for (const items of this.users.values()) yield* items.values();
  }

  get size(): number {
    let n = 0;
    for (const items of this.users.values()) n += items.size;
    return n;
  }
}

/** Keys whose final state differs between copies (missing in one counts). */
export function divergentKeys(copies: Entry[][]): string[] {
  const states = copies.map((c) => new Map(c.map((e) => [`${e.user}/${e.item}`, e.value])));
  const keys = new Set(states.flatMap((s) => [...s.keys()]));
  return [...keys].filter((k) => {
    const first = states[0].get(k) ?? null;
    return states.some((s) => (s.get(k) ?? null) !== first);
  });
}
