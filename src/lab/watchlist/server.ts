import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { isMeridianError } from '../../errors.js';
import { createLogger, type Logger } from '../../log.js';
import { processMetrics } from '../../metrics-conventions.js';
import { createReplicatedCache, type ReplicatedCache } from '../../replication/cache.js';
import { MemoryStore } from '../../replication/memory-store.js';
import { type Relay, startRelay } from '../../replication/relay.js';
import { type Shipper, startShipper } from '../../replication/shipper.js';
import type { CacheStore } from '../../replication/store.js';
import { scanRecords } from './redis-data.js';
import { type Entry, entryOf, eventOf, itemKey, userPrefix } from './store.js';
import { createHttpTransport, type HttpTransport, type ReplicateBody } from './transport.js';
import { faultFor, type LabRoute, type LabVersion, originSeed, routeOf } from './versions.js';

export interface WatchServiceOptions {
  region: string;
  /** Name of this origin, unique in the lab (e.g. "us-east-1/0"). */
  id: string;
  host?: string;
  port?: number;
  /** Other origins to copy writes to (same region directly, other regions through the fault proxy). */
  peers?: string[];
  /** Fetch a full copy from the first peer that answers before serving (an origin coming back). */
  bootstrap?: boolean;
  /** The release this origin runs (versions.ts); every answer names it in `x-lab-version`. Default v1. */
  version?: LabVersion;
  /** Seed of a bad version's fault pattern (with the origin's id): the same seed, the same failed requests. */
  seed?: number;
  /**
   * The Redis+NATS data setup: the origin keeps its data in its region's Redis (shared with the
   * region's other origins), each write with its outgoing event in the region's outbox; the
   * region's `meridian replication` process ships the outbox through NATS JetStream and applies
   * the other regions' writes. Absent: the memory path.
   */
  data?: RegionData;
  log?: Logger;
  /** This origin's clock (test hook MERIDIAN_CLOCK_OFFSET_MS: a region whose clock runs ahead). */
  now?: () => number;
}

export interface RegionData {
  /** The region's Redis. */
  redis: string;
  /** replication.keyPrefix of the region's `meridian replication`. */
  keyPrefix: string;
}

export interface OriginFault {
  latencyMs: number;
  errorRate: number;
}

const ITEM = /^\/users\/([^/]+)\/items(?:\/([^/]+))?$/;

/** A replication source name (HLC origin) for an origin id: us-east-1/0 -> us-east-1_0. */
export const sourceName = (id: string) =>
  id
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/^[.-]/, '_')
    .slice(0, 63);

/**
 * The lab's sample service: a per-user watch list. GET /users/U/items,
 * PUT /users/U/items/I (body: the value), POST /users/U/items (body: the
 * value; the origin names the item), DELETE /users/U/items/I, GET /health.
 * /_lab/* is for the lab: replication, dumps, fault injection.
 *
 * Data goes through the replicated cache (src/replication): each origin is a
 * replica with an in-memory store; a write is applied locally, stamped with a
 * hybrid logical clock and put in the store's outbox, which this origin's own
 * shipper pushes to every other origin (see transport.ts),
 * whose relay applies it last-writer-wins; deletes leave tombstones.
 */
export class WatchService {
  /** The memory path's store (the Redis+NATS path keeps none in the process). */
  readonly store: MemoryStore;
  cache: ReplicatedCache;
  private readonly transport: HttpTransport;
  private redis: Redis | null = null;
  private readonly shipper: Shipper;
  private readonly relays = new Map<string, Promise<Relay>>();
  private readonly registry = new Registry();
  private readonly source: string;
  private readonly server: Server;
  private readonly log: Logger;
  private fault: OriginFault = { latencyMs: 0, errorRate: 0 };
  private boundPort = 0;
  readonly version: LabVersion;
  private readonly faultSeed: number;
  /** Requests per route so far: the position in the version's fault pattern. */
  private readonly served = new Map<LabRoute, number>();

  constructor(private readonly options: WatchServiceOptions) {
    this.log = options.log ?? createLogger('lab-origin');
    this.source = sourceName(options.id);
    this.version = options.version ?? 'v1';
    this.faultSeed = originSeed(options.seed ?? 1, options.id);
    this.store = new MemoryStore();
    this.transport = createHttpTransport({ self: this.source, peers: options.peers ?? [], log: this.log });
    this.cache = createReplicatedCache({
      region: this.source,
      store: this.store,
      registry: this.registry,
      log: this.log,
      now: options.now,
    });
    this.shipper = startShipper({
      region: this.source,
      store: this.store,
      transport: this.transport,
      registry: this.registry,
      log: this.log,
    });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => this.send(res, 500, { error: (e as Error).message }));
    });
    this.server.keepAliveTimeout = 5000;
  }

  async start(): Promise<this> {
    // On Redis the data outlives the origin: a restarted one has nothing to copy.
    if (this.options.data) await this.connectData(this.options.data);
    else if (this.options.bootstrap) await this.bootstrap();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.boundPort = (this.server.address() as { port: number }).port;
    return this;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The cache on the region's Redis: a write is acknowledged once it and its event are in the outbox there. */
  private async connectData(data: RegionData) {
    const redis = new Redis(data.redis, { maxRetriesPerRequest: 3 });
    redis.on('error', () => {}); // a killed region's Redis: requests fail (500), the edge retries elsewhere
    this.redis = redis;
    this.cache = createReplicatedCache({
      region: this.options.region,
      redis,
      keyPrefix: data.keyPrefix,
      registry: this.registry,
      log: this.log,
    });
  }

  /** The cache's store: the region's Redis, or this process's memory. */
  private get cacheStore(): CacheStore {
    return this.cache.store;
  }

  /** Records of keys under `prefix`, with their stamps, from wherever the data lives. */
  private async records(prefix: string): Promise<Map<string, { value: string | null; stamp: string }>> {
    if (this.redis && this.options.data) return scanRecords(this.redis, this.options.data.keyPrefix, prefix);
    return new Map([...this.store.scan(prefix)].map(([k, r]) => [k, { value: r.value, stamp: r.stamp }]));
  }

  private async bootstrap() {
    for (const peer of this.options.peers ?? []) {
      try {
        const res = await fetch(`${peer}/_lab/dump`, { signal: AbortSignal.timeout(2000) });
        if (!res.ok) continue;
        for (const e of (await res.json()) as Entry[]) {
          const event = eventOf(e);
          if (event) this.store.applySync(event);
        }
        this.log.info({ peer, entries: this.store.size }, 'bootstrapped from peer');
        return;
      } catch {
        // try the next peer
      }
    }
  }

  private send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
    if (res.headersSent) return res.destroy();
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.setHeader('x-lab-region', this.options.region);
    res.setHeader('x-lab-origin', this.options.id);
    res.setHeader('x-lab-version', this.version);
    if (body === undefined) return res.writeHead(status).end();
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://origin');
    const body = await readBody(req);
    if (url.pathname.startsWith('/_lab/'))
      return this.handleLab(req.method ?? 'GET', url.pathname, body, res);
    if (this.fault.latencyMs > 0) await new Promise((r) => setTimeout(r, this.fault.latencyMs));
    if (url.pathname === '/health')
      return this.send(res, 200, {
        status: 'ok',
        region: this.options.region,
        origin: this.options.id,
        version: this.version,
      });
    // A bad version: health checks pass, one route fails some requests, another is slow.
    const route = routeOf(url.pathname);
    const n = this.served.get(route) ?? 0;
    this.served.set(route, n + 1);
    const release = faultFor(this.version, route, n, this.faultSeed);
    if (release.delayMs > 0) await new Promise((r) => setTimeout(r, release.delayMs));
    if (release.fail) return this.send(res, 500, { error: `broken release ${this.version}` });
    // A bad deploy: health checks pass, some real requests fail.
    if (this.fault.errorRate > 0 && Math.random() < this.fault.errorRate)
      return this.send(res, 500, { error: 'injected fault' });
    const m = ITEM.exec(url.pathname);
    if (!m) return this.send(res, 404, { error: 'not found' });
    const user = decodeURIComponent(m[1]);
    const item = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (req.method === 'GET' && item === undefined)
      return this.send(res, 200, { user, items: await this.listWithStamps(user) });
    try {
      // x-lab-stamp: the write's HLC stamp, for the lab's history check.
      if (req.method === 'PUT' && item !== undefined) {
        const stamp = await this.cache.set(itemKey(user, item), body || item);
        return this.send(res, 200, { user, item, stored: true }, { 'x-lab-stamp': stamp });
      }
      if (req.method === 'POST' && item === undefined) return await this.create(user, body, req, res);
      if (req.method === 'DELETE' && item !== undefined) {
        const stamp = await this.cache.delete(itemKey(user, item));
        return this.send(res, 200, { user, item, deleted: true }, { 'x-lab-stamp': stamp });
      }
    } catch (e) {
      if (isMeridianError(e) && e.code === 'BAD_ARGUMENT') return this.send(res, 400, { error: e.message });
      throw e;
    }
    return this.send(res, 405, { error: 'method not allowed' });
  }

  /**
   * POST /users/U/items. With an Idempotency-Key the item is named after the
   * key (per user), so the key's record is the item itself, in the replicated
   * store: a repeat at any origin that holds the copy (set or since deleted)
   * answers the first result without writing; a repeat that arrives before the
   * copy writes the same item with the same value, so the copies still agree.
   */
  private async create(user: string, body: string, req: IncomingMessage, res: ServerResponse) {
    const key = req.headers['idempotency-key'];
    if (Array.isArray(key)) return this.send(res, 400, { error: 'one Idempotency-Key, not several' });
    const item = key ? idempotentItemId(user, key) : `p-${randomBytes(8).toString('hex')}`;
    const result = { user, item, stored: true };
    const first = key ? await this.cacheStore.stamp(itemKey(user, item)) : null;
    if (first !== null)
      return this.send(res, 201, result, { 'idempotent-replayed': 'true', 'x-lab-stamp': first });
    const stamp = await this.cache.set(itemKey(user, item), body || item);
    return this.send(res, 201, result, { 'x-lab-stamp': stamp });
  }

  /** The user's items with their stamps (GET /users/U/items), from wherever the data lives. */
  async listWithStamps(user: string): Promise<{ id: string; value: string; stamp: string }[]> {
    const prefix = userPrefix(user);
    const out: { id: string; value: string; stamp: string }[] = [];
    for (const [key, r] of await this.records(prefix))
      if (r.value !== null)
        out.push({ id: decodeURIComponent(key.slice(prefix.length)), value: r.value, stamp: r.stamp });
    return out;
  }

  /** The user's items, as GET /users/U/items lists them. */
  list(user: string): { id: string; value: string }[] {
    const out: { id: string; value: string }[] = [];
    const prefix = userPrefix(user);
    for (const [key, record] of this.store.scan(prefix)) {
      if (record.value !== null)
        out.push({ id: decodeURIComponent(key.slice(prefix.length)), value: record.value });
    }
    return out;
  }

  /** Every item this origin holds, tombstones included (what /_lab/dump returns). */
  *entries(): Generator<Entry> {
    for (const [key, record] of this.store.scan()) {
      const e = entryOf(key, record);
      if (e) yield e;
    }
  }

  /** Every item the origin's store holds, tombstones included. */
  private async dump(): Promise<Entry[]> {
    if (!this.redis) return [...this.entries()];
    const out: Entry[] = [];
    for (const [key, r] of await this.records('')) {
      const e = entryOf(key, { ...r, expireAt: null });
      if (e) out.push(e);
    }
    return out;
  }

  /** The relay that applies `source`'s writes here, started when its first message arrives. */
  private relayFor(source: string): Promise<Relay> {
    let relay = this.relays.get(source);
    if (!relay) {
      relay = startRelay({
        region: this.source,
        sources: [source],
        store: this.store,
        transport: this.transport,
        registry: this.registry,
        log: this.log,
        now: this.options.now,
      });
      this.relays.set(source, relay);
    }
    return relay;
  }

  private async replicate(body: string, res: ServerResponse) {
    let parsed: ReplicateBody;
    try {
      parsed = JSON.parse(body) as ReplicateBody;
    } catch {
      return this.send(res, 400, { error: 'not JSON' });
    }
    const { source, messages } = parsed ?? {};
    if (
      typeof source !== 'string' ||
      source === this.source ||
      !Array.isArray(messages) ||
      !messages.every((m) => typeof m === 'string')
    )
      return this.send(res, 400, { error: 'expected {source, messages: string[]} from another origin' });
    await this.transport.receive({ source, messages }, async (s) => void (await this.relayFor(s)));
    return this.send(res, 204);
  }

  private async handleLab(method: string, path: string, body: string, res: ServerResponse) {
    if (path === '/_lab/replicate' && method === 'POST') return this.replicate(body, res);
    if (path === '/_lab/dump') return this.send(res, 200, await this.dump());
    // The process's memory and descriptors, heap after GC included, for the soak.
    if (path === '/_lab/metrics') {
      const registry = processMetrics();
      return res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
    }
    if (path === '/_lab/status') {
      const relays = await Promise.all(this.relays.values());
      const sum = (k: 'applied' | 'duplicates' | 'conflicts' | 'malformed' | 'clockAhead') =>
        relays.reduce((n, r) => n + r.stats()[k], 0);
      return this.send(res, 200, {
        entries: this.redis ? null : this.store.size,
        data: this.redis ? 'redis+nats' : 'memory',
        version: this.version,
        // Writes still in the outbox, and messages some peer has not taken.
        pending: (await this.store.outboxDepth()) + this.transport.pending(),
        fault: this.fault,
        replication: {
          applied: sum('applied'),
          duplicates: sum('duplicates'),
          conflicts: sum('conflicts'),
          malformed: sum('malformed'),
          clockAhead: sum('clockAhead'),
        },
      });
    }
    if (path === '/_lab/fault' && method === 'POST') {
      const f = JSON.parse(body || '{}') as Partial<OriginFault>;
      this.fault = { latencyMs: Number(f.latencyMs ?? 0), errorRate: Number(f.errorRate ?? 0) };
      this.log.info({ fault: this.fault }, 'fault set');
      return this.send(res, 200, this.fault);
    }
    if (path === '/_lab/fault' && method === 'DELETE') {
      this.fault = { latencyMs: 0, errorRate: 0 };
      return this.send(res, 200, this.fault);
    }
    return this.send(res, 404, { error: 'not found' });
  }

  /**
   * Stops taking connections, lets requests in flight finish (up to `drainMs`: a deploy restarts
   * origins one by one and should not cut what they were answering), then closes the rest.
   */
  async close(drainMs = 0): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (drainMs > 0) {
      const timer = setTimeout(() => this.server.closeAllConnections(), drainMs);
      await closed;
      clearTimeout(timer);
    } else this.server.closeAllConnections();
    await closed;
    const relays = await Promise.allSettled(this.relays.values());
    await Promise.all(relays.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    await this.shipper.close();
    await this.transport.close();
    this.redis?.disconnect();
  }
}

/** The item a POST with this Idempotency-Key creates: the same for every repeat, at every origin. */
export const idempotentItemId = (user: string, key: string) =>
  `k-${createHash('sha256').update(`${user}\n${key}`).digest('hex').slice(0, 20)}`;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 8 * 1024 * 1024) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
