import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { MeridianError } from '../../errors.js';
import type { SnapshotJson } from '../../feed/codec.js';
import {
  type AuditEntry,
  type ControlState,
  HISTORY_KEPT,
  LeaderFlag,
  type Leadership,
  type StateStore,
} from './store.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();
const pad = (n: number) => String(n).padStart(16, '0');
/** The key just past every key that starts with `prefix` (etcd range_end). */
function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix);
  bytes[bytes.length - 1]++;
  return bytes.toString();
}

interface Kv {
  key: string;
  value: string;
}

/**
 * State in etcd through its v3 HTTP/JSON gateway (no gRPC client needed).
 * Commits are transactions comparing the version key; leadership is a key
 * bound to a lease, so a dead leader's claim runs out with its lease.
 */
export class EtcdStore implements StateStore {
  readonly kind = 'etcd';
  private current = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly leaderships = new Set<Leadership>();

  constructor(
    private readonly endpoints: string[],
    private readonly prefix = '/meridian/',
  ) {}

  private key(name: string) {
    return this.prefix + name;
  }

  /** POSTs to one member; a member that does not answer is skipped for the next. */
  private async call<T>(path: string, body: unknown): Promise<T> {
    let last: unknown;
    for (let i = 0; i < this.endpoints.length; i++) {
      const endpoint = this.endpoints[(this.current + i) % this.endpoints.length];
      try {
        const res = await request(new URL(path, endpoint), {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
          headersTimeout: 2000,
          bodyTimeout: 2000,
        });
        const text = await res.body.text();
        if (res.statusCode >= 500 || res.statusCode === 404)
          throw new Error(`HTTP ${res.statusCode}: ${text}`);
        const json = JSON.parse(text || '{}');
        if (res.statusCode >= 300) throw new Error(`etcd ${path}: ${json.message ?? text}`);
        this.current = (this.current + i) % this.endpoints.length;
        return json as T;
      } catch (e) {
        last = e;
      }
    }
    throw new MeridianError('CONTROL_UNREACHABLE', `no etcd member answered: ${(last as Error)?.message}`);
  }

  private async get(key: string): Promise<string | null> {
    const r = await this.call<{ kvs?: Kv[] }>('/v3/kv/range', { key: b64(key) });
    return r.kvs?.[0] ? unb64(r.kvs[0].value ?? '') : null;
  }

  async load(): Promise<ControlState | null> {
    const text = await this.get(this.key('state'));
    return text ? (JSON.parse(text) as ControlState) : null;
  }

  async commit(expected: number, next: ControlState, audit: AuditEntry[] = []): Promise<boolean> {
    const versionKey = b64(this.key('version'));
    const compare =
      expected === 0
        ? { key: versionKey, target: 'CREATE', result: 'EQUAL', create_revision: '0' }
        : { key: versionKey, target: 'VALUE', result: 'EQUAL', value: b64(String(expected)) };
    const put = (key: string, value: string) => ({ request_put: { key: b64(key), value: b64(value) } });
    const success = [
      put(this.key('version'), String(next.version)),
      put(this.key('state'), JSON.stringify(next)),
      put(this.key(`snapshots/${pad(next.version)}`), JSON.stringify(next.snapshot)),
      ...audit.map((a, i) =>
        put(this.key(`audit/${pad(a.at)}-${pad(next.version)}-${i}`), JSON.stringify(a)),
      ),
    ];
    if (next.version > HISTORY_KEPT) {
      success.push({
        request_delete_range: {
          key: b64(this.key('snapshots/')),
          range_end: b64(this.key(`snapshots/${pad(next.version - HISTORY_KEPT + 1)}`)),
        },
      } as never);
    }
    const r = await this.call<{ succeeded?: boolean }>('/v3/kv/txn', { compare: [compare], success });
    return r.succeeded === true;
  }

  async snapshot(version: number): Promise<SnapshotJson | null> {
    const text = await this.get(this.key(`snapshots/${pad(version)}`));
    return text ? (JSON.parse(text) as SnapshotJson) : null;
  }

  async record(entry: AuditEntry): Promise<void> {
    // Sorted by time with the committed entries; the random tail keeps two at one millisecond apart.
    const key = this.key(`audit/${pad(entry.at)}-refused-${randomBytes(4).toString('hex')}`);
    await this.call('/v3/kv/put', { key: b64(key), value: b64(JSON.stringify(entry)) });
  }

  async audit(limit: number): Promise<AuditEntry[]> {
    const from = this.key('audit/');
    const r = await this.call<{ kvs?: Kv[] }>('/v3/kv/range', {
      key: b64(from),
      range_end: b64(prefixEnd(from)),
      sort_order: 'DESCEND',
      sort_target: 'KEY',
      limit: String(limit),
    });
    return (r.kvs ?? []).map((kv) => JSON.parse(unb64(kv.value)) as AuditEntry);
  }

  watch(listener: (state: ControlState) => void): () => void {
    let seen = '';
    let busy = false;
    const poll = async () => {
      if (busy) return;
      busy = true;
      try {
        const version = await this.get(this.key('version'));
        if (version !== null && version !== seen) {
          const state = await this.load();
          seen = version;
          if (state) listener(state);
        }
      } catch {
        // A member is down or the cluster has no quorum: try again next tick.
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void poll(), 250);
    timer.unref();
    this.timers.add(timer);
    void poll();
    return () => {
      clearInterval(timer);
      this.timers.delete(timer);
    };
  }

  campaign(candidate: string, ttlMs: number): Leadership {
    const flag = new LeaderFlag();
    const leaderKey = b64(this.key('leader'));
    let lease: string | null = null;
    let closed = false;
    let busy = false;
    const tick = async () => {
      if (closed || busy) return;
      busy = true;
      try {
        if (lease) {
          const k = await this.call<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: lease });
          if (!k.result?.TTL || k.result.TTL === '0') lease = null;
        }
        if (!lease) {
          const g = await this.call<{ ID: string }>('/v3/lease/grant', {
            TTL: String(Math.max(1, Math.ceil(ttlMs / 1000))),
          });
          lease = g.ID;
        }
        const r = await this.call<{ succeeded?: boolean; responses?: { response_range?: { kvs?: Kv[] } }[] }>(
          '/v3/kv/txn',
          {
            compare: [{ key: leaderKey, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
            success: [{ request_put: { key: leaderKey, value: b64(candidate), lease } }],
            failure: [{ request_range: { key: leaderKey } }],
          },
        );
        const kv = r.responses?.[0]?.response_range?.kvs?.[0] as (Kv & { lease?: string }) | undefined;
        if (closed) return;
        flag.set(
          r.succeeded === true || (kv !== undefined && unb64(kv.value) === candidate && kv.lease === lease),
        );
      } catch {
        // Without etcd we cannot know we still lead: step down.
        flag.set(false);
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), Math.max(100, ttlMs / 3));
    timer.unref();
    this.timers.add(timer);
    void tick();
    const leadership: Leadership = {
      get isLeader() {
        return flag.isLeader;
      },
      onChange: (l) => flag.onChange(l),
      leader: async () => this.get(this.key('leader')),
      close: async () => {
        closed = true;
        clearInterval(timer);
        this.timers.delete(timer);
        this.leaderships.delete(leadership);
        // Revoking the lease deletes the leader key: a follower takes over at its next tick.
        if (lease) await this.call('/v3/lease/revoke', { ID: lease }).catch(() => {});
        flag.set(false);
      },
    };
    this.leaderships.add(leadership);
    return leadership;
  }

  async close(): Promise<void> {
    for (const l of [...this.leaderships]) await l.close();
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
  }
}
