import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { SnapshotJson } from '../../feed/codec.js';
import { EtcdClient, type EtcdConnection } from './etcd-client.js';
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
 * Values go through etcd's raft log, which 3.4 keeps in memory (its last 5000 entries past a
 * snapshot) on every member, so each commit is kept small: the snapshot is written once, gzipped,
 * at `snapshots/VERSION`, and `state` holds the rest. Older stores kept JSON, and `state` with its
 * snapshot inside; both still load.
 */
const packSnapshot = (snapshot: SnapshotJson) => gzipSync(JSON.stringify(snapshot)).toString('base64');
function unpackSnapshot(b64value: string): SnapshotJson {
  const bytes = Buffer.from(b64value, 'base64');
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  return JSON.parse((gzipped ? gunzipSync(bytes) : bytes).toString()) as SnapshotJson;
}
type StoredState = Omit<ControlState, 'snapshot'> & { snapshot?: SnapshotJson };

/**
 * State in etcd through its v3 HTTP/JSON gateway (no gRPC client needed; TLS
 * and auth in `etcd-client.ts`).
 * Commits are transactions comparing the version key; leadership is a key
 * bound to a lease, so a dead leader's claim runs out with its lease.
 */
export class EtcdStore implements StateStore {
  readonly kind = 'etcd';
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly leaderships = new Set<Leadership>();
  private readonly client: EtcdClient;
  /** Set by campaign(): from then on a commit needs the leader key to name this candidate. */
  private fencedAs: string | undefined;

  /** `connection`: the members' client URLs, or those plus TLS material and an etcd user. */
  constructor(
    connection: string[] | EtcdConnection,
    private readonly prefix = '/meridian/',
  ) {
    this.client = new EtcdClient(Array.isArray(connection) ? { endpoints: connection } : connection);
  }

  private key(name: string) {
    return this.prefix + name;
  }

  private call<T>(path: string, body: unknown): Promise<T> {
    return this.client.call<T>(path, body);
  }

  private async get(key: string): Promise<string | null> {
    const r = await this.call<{ kvs?: Kv[] }>('/v3/kv/range', { key: b64(key) });
    return r.kvs?.[0] ? unb64(r.kvs[0].value ?? '') : null;
  }

  private async range(key: string, revision?: string): Promise<{ kv?: Kv; revision?: string }> {
    const r = await this.call<{ kvs?: Kv[]; header?: { revision?: string } }>('/v3/kv/range', {
      key: b64(key),
      ...(revision ? { revision } : {}),
    });
    return { kv: r.kvs?.[0], revision: r.header?.revision };
  }

  async load(): Promise<ControlState | null> {
    const { kv, revision } = await this.range(this.key('state'));
    if (!kv) return null;
    const stored = JSON.parse(unb64(kv.value ?? '')) as StoredState;
    if (stored.snapshot) return stored as ControlState;
    // Read at the same revision: the snapshot the state was committed with, whatever came since.
    const snap = await this.range(this.key(`snapshots/${pad(stored.version)}`), revision);
    if (!snap.kv) throw new Error(`etcd holds state version ${stored.version} without its snapshot`);
    return { ...stored, snapshot: unpackSnapshot(snap.kv.value ?? '') };
  }

  async commit(expected: number, next: ControlState, audit: AuditEntry[] = []): Promise<boolean> {
    const versionKey = b64(this.key('version'));
    const compare =
      expected === 0
        ? { key: versionKey, target: 'CREATE', result: 'EQUAL', create_revision: '0' }
        : { key: versionKey, target: 'VALUE', result: 'EQUAL', value: b64(String(expected)) };
    // A deposed leader that has not noticed yet (its keepalive still pending) cannot write: etcd
    // checks in the same transaction that the leader key still names it.
    const fence =
      this.fencedAs !== undefined && expected !== 0
        ? [{ key: b64(this.key('leader')), target: 'VALUE', result: 'EQUAL', value: b64(this.fencedAs) }]
        : [];
    const put = (key: string, value: string) => ({ request_put: { key: b64(key), value: b64(value) } });
    const { snapshot, ...rest } = next;
    const success = [
      put(this.key('version'), String(next.version)),
      put(this.key('state'), JSON.stringify(rest)),
      {
        request_put: { key: b64(this.key(`snapshots/${pad(next.version)}`)), value: packSnapshot(snapshot) },
      },
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
    const r = await this.call<{ succeeded?: boolean }>('/v3/kv/txn', {
      compare: [compare, ...fence],
      success,
    });
    return r.succeeded === true;
  }

  async snapshot(version: number): Promise<SnapshotJson | null> {
    const { kv } = await this.range(this.key(`snapshots/${pad(version)}`));
    return kv ? unpackSnapshot(kv.value ?? '') : null;
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
    this.fencedAs = candidate;
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
        const holds = (kv: (Kv & { lease?: string }) | undefined) =>
          kv !== undefined && unb64(kv.value) === candidate && kv.lease === lease;
        // A read first: a transaction with a put is a raft proposal even when its compare fails, and
        // every candidate ticks every ttl/3, so proposing each time filled etcd's in-memory log
        // (70 % of the lab's proposals) while the key was held.
        const held = await this.call<{ kvs?: (Kv & { lease?: string })[] }>('/v3/kv/range', {
          key: leaderKey,
        });
        if (held.kvs?.[0] !== undefined) {
          if (!closed) flag.set(holds(held.kvs[0]));
          return;
        }
        const r = await this.call<{ succeeded?: boolean; responses?: { response_range?: { kvs?: Kv[] } }[] }>(
          '/v3/kv/txn',
          {
            compare: [{ key: leaderKey, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
            success: [{ request_put: { key: leaderKey, value: b64(candidate), lease } }],
            failure: [{ request_range: { key: leaderKey } }],
          },
        );
        if (closed) return;
        flag.set(r.succeeded === true || holds(r.responses?.[0]?.response_range?.kvs?.[0]));
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
    await this.client.close();
  }
}
