// The Jepsen-style replication setup: two regions, each with its own
// redis-server (AOF, fsync always), a 3-node NATS JetStream cluster (one node
// per region plus a witness) whose routes and client links all pass through
// fault proxies, and client processes (test/helpers/jepsen-client.ts) that
// can be SIGKILLed. Every op the writers print goes into one HistoryRecorder.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { FaultProxy } from '../../src/chaos/fault-proxy.js';
import type { FinalState } from '../../src/replication/history/checker.js';
import { HistoryRecorder } from '../../src/replication/history/recorder.js';
import { RegionStore } from '../../src/replication/store.js';
import { type RunningServer, startRedis } from '../replication-helpers.js';
import type { JepsenClientPlan } from './jepsen-client.js';
import { type NatsCluster, startNatsCluster } from './nats-cluster.js';
import { freePort } from './ports.js';
import { requireProgram } from './programs.js';

export const REGIONS = ['us-east-1', 'us-west-2'] as const;
export type Region = (typeof REGIONS)[number];
const NODES = [...REGIONS, 'witness'];
const KEY_PREFIX = 'jp:';
const STREAM = 'JEPSEN';

/** Helper A's outbox (CacheStore.write) is on this branch: writes survive a SIGKILLed writer. */
export const outboxAvailable = (): boolean => 'write' in RegionStore.prototype;

export interface JepsenClient {
  name: string;
  mode: JepsenClientPlan['mode'];
  region: Region;
  /** The first JSON line it printed ({"ready":true,...}). */
  hello: Record<string, unknown>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export class JepsenCluster {
  readonly recorder = new HistoryRecorder();
  private readonly clients = new Set<ChildProcess>();
  private spawned = 0;

  private constructor(
    readonly redis: Map<Region, RunningServer>,
    readonly nats: NatsCluster,
    readonly routeProxies: FaultProxy[],
    /** clientProxies.get(region)[i]: that region's link to NATS node i. */
    readonly clientProxies: Map<Region, FaultProxy[]>,
  ) {}

  /** Starts everything, stopped after the test; null when a program is missing (test skipped). */
  static async start(t: TestContext): Promise<JepsenCluster | null> {
    const redisServer = requireProgram(t, 'redis-server');
    if (!redisServer || !requireProgram(t, 'nats-server')) return null;
    const redis = new Map<Region, RunningServer>();
    for (const region of REGIONS) {
      const server = await startRedis(redisServer, ['--appendonly', 'yes', '--appendfsync', 'always']);
      t.after(() => server.stop());
      redis.set(region, server);
    }
    const routePorts = await Promise.all(NODES.map(() => freePort()));
    const routeProxies: FaultProxy[] = [];
    t.after(() => Promise.all(routeProxies.map((p) => p.close())));
    const nats = await startNatsCluster(t, {
      names: NODES,
      routeUrl: (plan) => {
        const i = NODES.indexOf(plan.name);
        const proxy = new FaultProxy({
          target: { host: '127.0.0.1', port: plan.clusterPort },
          listen: { port: routePorts[i] },
        });
        // Listening starts now (synchronously); nodes retry routes until it does anyway.
        void proxy.start();
        routeProxies[i] = proxy;
        return `nats-route://127.0.0.1:${routePorts[i]}`;
      },
    });
    if (!nats) return null;
    const clientProxies = new Map<Region, FaultProxy[]>();
    for (const region of REGIONS) {
      const proxies = await Promise.all(
        nats.plans.map((p) => new FaultProxy({ target: { host: '127.0.0.1', port: p.clientPort } }).start()),
      );
      t.after(() => Promise.all(proxies.map((p) => p.close())));
      clientProxies.set(region, proxies);
    }
    const cluster = new JepsenCluster(redis, nats, routeProxies, clientProxies);
    t.after(() => cluster.killAll());
    return cluster;
  }

  /** Cuts the regions apart: every NATS route, and each region's link to the other region's node. */
  partition(): void {
    for (const p of this.routeProxies) p.set({ cut: 'reset' });
    REGIONS.forEach((region, i) => {
      this.clientProxies.get(region)![1 - i].set({ cut: 'reset' });
    });
  }

  heal(): void {
    for (const p of this.routeProxies) p.set({ cut: false });
    for (const proxies of this.clientProxies.values()) for (const p of proxies) p.set({ cut: false });
  }

  /** Cuts (or heals) one region's processes from every NATS node. */
  isolateClients(region: Region, cut: boolean): void {
    for (const p of this.clientProxies.get(region)!) p.set({ cut: cut ? 'reset' : false });
  }

  plan(
    mode: JepsenClientPlan['mode'],
    region: Region,
    more: Partial<JepsenClientPlan> = {},
  ): JepsenClientPlan {
    return {
      mode,
      region,
      regions: REGIONS.map((r) => ({ region: r, redis: this.redis.get(r)!.url })),
      natsUrls: this.clientProxies.get(region)!.map((p) => `nats://127.0.0.1:${p.port}`),
      stream: STREAM,
      keyPrefix: KEY_PREFIX,
      clockOffsetMs: 0,
      replicas: 3,
      ...more,
    };
  }

  /**
   * Starts a client process and waits for its ready line; its ops go to the
   * recorder. Tried again when it exits first (NATS may still be electing
   * leaders after a heal or a restart: a real supervisor restarts it too).
   */
  async spawn(plan: JepsenClientPlan, attempts = 3): Promise<JepsenClient> {
    for (let i = 1; ; i++) {
      try {
        return await this.spawnOnce(plan);
      } catch (err) {
        if (i >= attempts) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async spawnOnce(plan: JepsenClientPlan): Promise<JepsenClient> {
    const name = `${plan.mode}-${plan.region}-${this.spawned++}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/jepsen-client.ts'], {
      env: {
        ...process.env,
        MERIDIAN_JEPSEN: JSON.stringify(plan),
        MERIDIAN_CLOCK_OFFSET_MS: String(plan.clockOffsetMs),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.clients.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => this.clients.delete(child));
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    // A client that never gets ready is killed, so the wait below ends (and is retried).
    const notReady = setTimeout(() => child.kill('SIGKILL'), 60_000);
    notReady.unref();
    const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      let ready = false;
      lines.on('line', (line) => {
        if (this.recorder.ingestLine(line, name) || ready) return;
        try {
          const o = JSON.parse(line) as Record<string, unknown>;
          if (o.ready) {
            ready = true;
            resolve(o);
          }
        } catch {}
      });
      void exited.then(() => reject(new Error(`${name} exited before it was ready: ${stderr}`)));
    });
    clearTimeout(notReady);
    return {
      name,
      mode: plan.mode,
      region: plan.region as Region,
      hello,
      kill: async (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
      },
    };
  }

  private async killAll(): Promise<void> {
    const running = [...this.clients].filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      running.map((c) => {
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        c.kill('SIGKILL');
        return exited;
      }),
    );
  }

  /** Every region's cache records, key -> { value, stamp } (tombstones: value null). */
  async finalState(): Promise<FinalState> {
    const final: FinalState = {};
    for (const region of REGIONS) final[region] = await records(this.redis.get(region)!.url);
    return final;
  }

  /** Waits until the regions hold the same records for every recorded key, three polls in a row. */
  async settle(timeoutMs = 60_000): Promise<boolean> {
    const keys = new Set(this.recorder.history().map((h) => h.key));
    const deadline = Date.now() + timeoutMs;
    let same = 0;
    while (Date.now() < deadline) {
      const final = await this.finalState();
      const rows = REGIONS.map((r) => JSON.stringify([...keys].sort().map((k) => final[r].get(k) ?? null)));
      same = rows.every((row) => row === rows[0]) ? same + 1 : 0;
      if (same >= 3) return true;
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  }

  /** num_replicas of the replication streams, by stream name. */
  async streamReplicas(): Promise<Map<string, number>> {
    const nc = await connect({ servers: this.nats.urls });
    try {
      const jsm = await nc.jetstreamManager();
      const out = new Map<string, number>();
      for await (const s of jsm.streams.list()) {
        if (s.config.name.startsWith(STREAM)) out.set(s.config.name, s.config.num_replicas);
      }
      return out;
    } finally {
      await nc.close();
    }
  }
}

async function records(url: string): Promise<FinalState[string]> {
  const redis = new Redis(url);
  try {
    const out: FinalState[string] = new Map();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        // Other data under the prefix (the outbox stream, the shipper lease) is no cache record.
        const [stamp, value] = await redis.hmget(key, 'h', 'v').catch(() => [null, null]);
        if (stamp !== null) out.set(key.slice(KEY_PREFIX.length), { value, stamp });
      }
    } while (cursor !== '0');
    return out;
  } finally {
    redis.disconnect();
  }
}
