// The request mix of the virtual users: mostly reads of their watch list, and
// writes that add an item (PUT with an id the client picked, or POST where the
// origin picks it, half of the POSTs with an Idempotency-Key) or remove one.
import type { RequestKind } from '../../chaos/drills/types.js';
import { requestKind } from './tries.js';

export interface Operation {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  body?: string;
  /** Sent as Idempotency-Key; the same on every try of this request. */
  idempotencyKey?: string;
  kind: RequestKind;
  /** The item a PUT or DELETE names (a POST learns its item from the answer). */
  item?: string;
}

export interface MixOptions {
  /** Share of requests that write. */
  writeShare: number;
  /** Of the writes that add an item, the share sent as POST (the rest as PUT). */
  postShare?: number;
  /** Of the POSTs, the share carrying an Idempotency-Key. */
  keyedPostShare?: number;
  /** Of the writes by a user who has items, the share that removes one. */
  deleteShare?: number;
}

export class RequestMix {
  private readonly owned = new Map<string, string[]>();
  private seq = 0;

  constructor(
    private readonly o: MixOptions,
    private readonly random: () => number,
  ) {}

  pick(user: string): Operation {
    const base = `/users/${encodeURIComponent(user)}/items`;
    if (this.random() >= this.o.writeShare) return { method: 'GET', path: base, kind: 'idempotent' };
    const items = this.owned.get(user) ?? [];
    if (items.length > 0 && this.random() < (this.o.deleteShare ?? 0.3)) {
      const item = items.splice(Math.floor(this.random() * items.length), 1)[0];
      return { method: 'DELETE', path: `${base}/${item}`, item, kind: 'idempotent' };
    }
    const n = ++this.seq;
    if (this.random() < (this.o.postShare ?? 0.5)) {
      const keyed = this.random() < (this.o.keyedPostShare ?? 0.5);
      const idempotencyKey = keyed
        ? `${user}-${n}-${Math.floor(this.random() * 2 ** 32).toString(36)}`
        : undefined;
      return {
        method: 'POST',
        path: base,
        body: `title ${n}`,
        idempotencyKey,
        kind: requestKind('POST', idempotencyKey),
      };
    }
    const item = `i${n}`;
    return { method: 'PUT', path: `${base}/${item}`, body: `title ${n}`, item, kind: 'idempotent' };
  }

  /** An item the user's write created: a later request may remove it. */
  created(user: string, item: string): void {
    const items = this.owned.get(user) ?? [];
    items.push(item);
    this.owned.set(user, items);
  }
}
