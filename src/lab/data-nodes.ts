// The lab's replicated data on real servers (the Redis+NATS data setup):
// one Redis per region and a NATS JetStream cluster of one node per region
// (plus a witness for two regions), routes and cross-region clients through
// the links. Each region's `meridian replication` and origins use them; kong
// kills a region's Redis and NATS node with it and restarts them with their data.
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { FinalState } from '../replication/history/checker.js';
import { DEPTH_LUA, outboxCountKey, outboxKey } from '../replication/outbox-script.js';
import { findNatsServer, NatsNode } from './nats-node.js';
import { findRedisServer, RedisNode } from './redis.js';
import { searchStreams } from './stream-search.js';
import { type LinkUrls, natsReplicas, type Topology } from './topology.js';
import { scanRecords } from './watchlist/redis-data.js';
import type { RegionData } from './watchlist/server.js';
import { KEY_PREFIX } from './watchlist/store.js';

/** Where the lab's sample service keeps its data: real Redis and NATS, or each origin's memory. */
export type DataSetup = 'redis+nats' | 'memory';

/** The replication settings every region of the lab shares (config defaults). */
export const LAB_DATA = { keyPrefix: 'mc:', stream: 'MERIDIAN_REPL' } as const;

/** The programs of the Redis+NATS setup, or null when one is missing (then: the memory path). */
export function findDataPrograms(): { redis: string; nats: string } | null {
  const redis = findRedisServer();
  const nats = findNatsServer();
  return redis && nats ? { redis, nats } : null;
}

export class LabData {
  readonly redis = new Map<string, RedisNode>();
  readonly nats: NatsNode[] = [];
  readonly replicas: number;

  constructor(
    programs: { redis: string; nats: string },
    private readonly t: Topology,
    private readonly links: LinkUrls,
    stateDir: string,
    logDir: string,
    private readonly streamMaxAgeMs: number,
  ) {
    for (const n of t.nats) n.advertisedRouteUrl = links.natsRoute(n.name);
    for (const plan of t.nats)
      this.nats.push(
        new NatsNode({
          program: programs.nats,
          plan,
          cluster: t.nats,
          dataRoot: join(stateDir, 'nats'),
          logDir,
          syncAlways: true,
          pingIntervalS: 1,
        }),
      );
    for (const [region, port] of t.redisPorts)
      this.redis.set(
        region,
        new RedisNode({
          program: programs.redis,
          name: region,
          port,
          dataRoot: join(stateDir, 'redis'),
          logDir,
        }),
      );
    this.replicas = natsReplicas(t.nats.length);
  }

  /** Every Redis and NATS node; resolves once all serve (the NATS cluster has a meta leader). */
  async start(): Promise<void> {
    for (const n of this.nats) n.start();
    await Promise.all([
      ...[...this.redis.values()].map((r) => r.start()),
      ...this.nats.map((n) => n.healthy()),
    ]);
  }

  /** NATS servers as a process of `region` reaches them: its own node first, the others through the links. */
  natsServers(region: string): string[] {
    const own = this.t.nats.filter((n) => n.name === region);
    const others = this.t.nats.filter((n) => n.name !== region);
    return [...own, ...others].map((n) => this.links.natsClient(region, n.name, n.clientPort));
  }

  /** What a region's origins get (--data). */
  regionData(region: string): RegionData {
    return { redis: this.redis.get(region)!.url, keyPrefix: LAB_DATA.keyPrefix };
  }

  /** The `replication` section of the region's `meridian replication` config. */
  replicationSection(region: string): Record<string, unknown> {
    return {
      transport: 'nats',
      nats: {
        servers: this.natsServers(region),
        stream: LAB_DATA.stream,
        replicas: this.replicas,
        maxAge: this.streamMaxAgeMs,
      },
      regions: [...this.redis].map(([r, node]) => ({ region: r, redis: node.url })),
      keyPrefix: LAB_DATA.keyPrefix,
    };
  }

  /** SIGKILL of the region's Redis and NATS node. */
  async kill(region: string): Promise<void> {
    await Promise.all([
      this.redis.get(region)?.kill(),
      ...this.nats.filter((n) => n.name === region).map((n) => n.kill()),
    ]);
  }

  /**
   * The region's Redis and NATS node again, with their data; resolves once Redis serves. The NATS
   * node catches up on its own (seconds): the relay and shipper reach the other nodes through the
   * links meanwhile, and waiting would hold the region's edge back.
   */
  async restart(region: string): Promise<void> {
    for (const n of this.nats.filter((x) => x.name === region)) n.start();
    await this.redis.get(region)?.start();
  }

  /** Once the region's NATS node serves JetStream again (a relay connecting before gets 503s). */
  async natsHealthy(region: string): Promise<void> {
    await Promise.all(this.nats.filter((n) => n.name === region).map((n) => n.healthy()));
  }

  async stop(): Promise<void> {
    await Promise.all([...[...this.redis.values()].map((r) => r.stop()), ...this.nats.map((n) => n.stop())]);
  }

  /**
   * Where the replicated events stand: each region's outbox (written, not yet acknowledged by
   * JetStream) and each NATS node's view of the streams and consumers. Shown when a data check
   * finds something lost, so a failure says which hop kept it.
   */
  async replicationView(): Promise<string[]> {
    const lines: string[] = [];
    for (const [region, node] of this.redis) {
      const client = new Redis(node.url, { maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      try {
        const depth = await client.eval(
          DEPTH_LUA,
          2,
          outboxKey(LAB_DATA.keyPrefix),
          outboxCountKey(LAB_DATA.keyPrefix),
        );
        lines.push(`${region} outbox: ${depth} events waiting`);
      } catch (e) {
        lines.push(`${region} outbox: unreadable (${(e as Error).message})`);
      } finally {
        client.disconnect();
      }
    }
    for (const n of this.nats)
      lines.push(
        ...(await n.streamsView().catch((e: Error) => [`${n.name}: /jsz unreadable (${e.message})`])),
      );
    return lines;
  }

  /** Where the events of these keys sit in the streams, read from the first node that answers. */
  async eventsOf(keys: readonly string[]): Promise<string[]> {
    let last = 'no NATS node';
    for (const n of this.nats) {
      try {
        return await searchStreams(n.clientUrl, LAB_DATA.stream, [...this.redis.keys()], new Set(keys));
      } catch (e) {
        last = `${n.name}: ${(e as Error).message}`;
      }
    }
    return [`streams unreadable (${last})`];
  }

  /** Every region's watch-list records, read from its Redis. */
  async finalState(): Promise<FinalState> {
    const final: FinalState = {};
    for (const [region, node] of this.redis) {
      const client = new Redis(node.url, { maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      try {
        final[region] = await scanRecords(client, LAB_DATA.keyPrefix, KEY_PREFIX);
      } finally {
        client.disconnect();
      }
    }
    return final;
  }

  /** Processes for GET /status. */
  processes(): { name: string; region: string; pid: number | undefined; metrics?: string }[] {
    return [
      ...[...this.redis].map(([region, r]) => ({ name: `redis-${region}`, region, pid: r.pid })),
      ...this.nats.map((n) => ({ name: `nats-${n.name}`, region: n.name, pid: n.pid })),
    ];
  }
}
