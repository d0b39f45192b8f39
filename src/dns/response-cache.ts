// Whole responses kept by the bytes of the query that asked (all but its ID),
// for answers that depend on nothing else: static ones, and steered ones
// located by a believed client subnet (which is in those bytes). A repeated
// query is then answered by one copy and the ID patched in: no parse, no
// lookup, no allocation. A fixed table of slots indexed by a hash: a flood of
// distinct queries overwrites slots and cannot grow memory.
import type { ResponseKind } from './rate-limit.js';

export interface CachedResponse {
  /** The query's bytes after its ID (offset 2 to the end). */
  readonly key: Buffer;
  /** The response as built for that query; never changed once cached (copies are patched). */
  readonly response: Buffer;
  readonly qtype: number;
  /** The RCODE counted in metrics (extended ones included). */
  readonly rcode: number;
  /** The response-rate-limiting class. */
  readonly kind: ResponseKind;
  readonly rrlName: string;
  /** Region counted in meridian_dns_answers_total, or null. */
  readonly region: string | null;
  /** The query's ECS option shaped the response: only a source trusted with ECS may get it. */
  readonly ecsBelieved: boolean;
}

/** Slots (a power of two); two are probed per query. */
const SLOTS = 4096;

export class ResponseCache {
  private readonly slots: (CachedResponse | null)[] = new Array(SLOTS).fill(null);
  private readonly mask = SLOTS - 1;
  /** Which of the two probed slots the next insert at a full pair replaces. */
  private turn = 0;

  /** The cached response for the query in `buf[start, end)`, or null. */
  find(buf: Uint8Array, start: number, end: number): CachedResponse | null {
    const i = hashOf(buf, start + 2, end) & this.mask;
    const a = this.slots[i];
    if (a !== null && sameBytes(a.key, buf, start + 2, end)) return a;
    const b = this.slots[(i + 1) & this.mask];
    if (b !== null && sameBytes(b.key, buf, start + 2, end)) return b;
    return null;
  }

  /** Keeps `entry` for the query in `buf[start, end)` (entry.key must be those bytes after the ID). */
  store(buf: Uint8Array, start: number, end: number, entry: CachedResponse) {
    const i = hashOf(buf, start + 2, end) & this.mask;
    const j = (i + 1) & this.mask;
    if (this.slots[i] === null) this.slots[i] = entry;
    else if (this.slots[j] === null) this.slots[j] = entry;
    else {
      this.slots[this.turn === 0 ? i : j] = entry;
      this.turn ^= 1;
    }
  }

  clear() {
    this.slots.fill(null);
  }
}

/** FNV-1a over the bytes and their count. */
function hashOf(buf: Uint8Array, start: number, end: number): number {
  let h = Math.imul(0x811c9dc5 ^ (end - start), 0x01000193);
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

function sameBytes(key: Buffer, buf: Uint8Array, start: number, end: number): boolean {
  if (key.length !== end - start) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== buf[start + i]) return false;
  return true;
}
