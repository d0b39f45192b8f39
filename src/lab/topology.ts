// Where every process of the lab listens, and the links between regions:
// each region runs its own edge, DNS server, origins and (with etcd) control
// instance and etcd member; a two-region lab adds an etcd witness site.
import type { LinkSpec } from '../chaos/link-host.js';
import type { MeridianConfig } from '../config/index.js';
import type { EtcdMemberPlan } from './etcd.js';
import type { NatsNodePlan } from './nats-node.js';
import { freePort } from './ports.js';

/** The tie-breaker site of a two-region lab's etcd cluster: in no region, so no kong kills it. */
export const WITNESS = 'witness';

export interface PlannedOrigin {
  region: string;
  id: string;
  port: number;
}

export interface NameServer {
  region: string;
  /** ns-<region>.<zone>: the zone's NS record and its glue. */
  name: string;
  address: string;
  /** UDP and TCP. */
  port: number;
}

export interface Topology {
  regions: string[];
  origins: PlannedOrigin[];
  edgePorts: Map<string, number>;
  nameservers: NameServer[];
  /** Region -> its control instance's port (etcd setup), or the single instance under '' (SQLite). */
  controlPorts: Map<string, number>;
  /** The etcd members (empty for SQLite); advertisedPeerUrl is known once the links run. */
  etcd: EtcdMemberPlan[];
  /** Region -> its Redis's port (the Redis+NATS data setup; empty on the memory path). */
  redisPorts: Map<string, number>;
  /** The NATS nodes (empty on the memory path); advertisedRouteUrl is known once the links run. */
  nats: NatsNodePlan[];
  links: LinkSpec[];
}

const rttKey = (a: string, b: string) => [a, b].sort().join('|');
const local = (port: number) => `http://127.0.0.1:${port}`;
/** Link names: `KIND:FROM>TO` for a link used by one region, `KIND:TO` for one shared by every region. */
export const linkName = (kind: string, to: string, from?: string) =>
  from ? `${kind}:${from}>${to}` : `${kind}:${to}`;

export function rttBetween(config: MeridianConfig, a: string, b: string): number {
  const table = new Map(config.lab.links.rtt.map((l) => [rttKey(...l.between), l.ms]));
  return table.get(rttKey(a, b)) ?? config.lab.links.defaultRttMs;
}

/**
 * Each DNS server listens on its own loopback address (127.0.1.N, the glue
 * address of its NS name) so name servers are told apart by address, as on the
 * internet; the port is not 53 (the lab runs without privileges).
 */
const nsAddress = (i: number) => `127.0.1.${i + 1}`;

/** Three members: one per region, the first three regions, or both regions and the witness. */
export function etcdSites(regions: readonly string[]): string[] {
  return regions.length >= 3 ? regions.slice(0, 3) : [...regions, WITNESS];
}

/** One NATS node per region, plus the witness for two regions (3 nodes: room for R3 streams). */
export function natsSites(regions: readonly string[]): string[] {
  return regions.length === 2 ? [...regions, WITNESS] : [...regions];
}

/** Stream replicas for a cluster of `nodes`: R3 once there are three nodes, one copy below. */
export const natsReplicas = (nodes: number): 1 | 3 => (nodes >= 3 ? 3 : 1);

export async function planTopology(
  config: MeridianConfig,
  withEtcd: boolean,
  withControl: boolean,
  /** The Redis+NATS data setup: a Redis per region and a NATS node per site (natsSites). */
  withData = false,
) {
  const regions = config.regions.map((r) => r.id);
  const origins: PlannedOrigin[] = [];
  const edgePorts = new Map<string, number>();
  const nameservers: NameServer[] = [];
  const controlPorts = new Map<string, number>();
  for (const [i, region] of regions.entries()) {
    const count = Math.max(
      ...config.services.map((s) => s.origins.find((o) => o.region === region)?.urls.length ?? 0),
      1,
    );
    for (let k = 0; k < count; k++) origins.push({ region, id: `${region}/${k}`, port: await freePort() });
    edgePorts.set(region, await freePort());
    nameservers.push({
      region,
      name: `ns-${region}.${config.zone.name}`,
      address: nsAddress(i),
      port: await freePort(),
    });
    if (withEtcd) controlPorts.set(region, await freePort());
  }
  if (withControl && !withEtcd) controlPorts.set('', await freePort());
  const etcd: EtcdMemberPlan[] = [];
  for (const site of withEtcd ? etcdSites(regions) : [])
    etcd.push({
      name: site,
      clientPort: await freePort(),
      peerPort: await freePort(),
      advertisedPeerUrl: '',
    });
  const redisPorts = new Map<string, number>();
  const nats: NatsNodePlan[] = [];
  if (withData) {
    for (const region of regions) redisPorts.set(region, await freePort());
    for (const site of natsSites(regions))
      nats.push({
        name: site,
        clientPort: await freePort(),
        clusterPort: await freePort(),
        monitorPort: await freePort(),
        advertisedRouteUrl: '',
      });
  }
  const topology: Topology = {
    regions,
    origins,
    edgePorts,
    nameservers,
    controlPorts,
    etcd,
    redisPorts,
    nats,
    links: [],
  };
  topology.links = linkSpecs(config, topology);
  return topology;
}

/**
 * Every link between regions: one per direction and pair, except etcd's peer
 * links and NATS's route links (one URL per member or node, shared by all).
 */
export function linkSpecs(config: MeridianConfig, t: Topology): LinkSpec[] {
  const specs: LinkSpec[] = [];
  const rtt = (a: string, b: string) =>
    a === WITNESS || b === WITNESS ? config.lab.links.defaultRttMs : rttBetween(config, a, b);
  for (const from of t.regions)
    for (const to of t.regions) {
      if (from === to) continue;
      const ms = rtt(from, to);
      specs.push({ name: linkName('edge', to, from), from, to, targetPort: t.edgePorts.get(to)!, rttMs: ms });
      // The memory path: origins push writes to each other; on Redis+NATS the data crosses through NATS.
      if (t.nats.length === 0)
        for (const o of t.origins.filter((o) => o.region === to))
          specs.push({ name: linkName('replication', o.id, from), from, to, targetPort: o.port, rttMs: ms });
      const control = t.controlPorts.get(to);
      if (control !== undefined)
        specs.push({ name: linkName('control', to, from), from, to, targetPort: control, rttMs: ms });
    }
  for (const m of t.etcd) {
    for (const from of t.regions.filter((r) => r !== m.name))
      specs.push({
        name: linkName('etcd-client', m.name, from),
        from,
        to: m.name,
        targetPort: m.clientPort,
        rttMs: rtt(from, m.name),
      });
    // Members reach a member at the one peer URL it advertises: a link every site shares.
    const others = t.etcd.filter((o) => o.name !== m.name);
    const ms = others.reduce((s, o) => s + rtt(o.name, m.name), 0) / Math.max(1, others.length);
    specs.push({
      name: linkName('etcd-peer', m.name),
      from: '*',
      to: m.name,
      targetPort: m.peerPort,
      rttMs: ms,
    });
  }
  specs.push(...natsLinks(t, rtt));
  return specs;
}

/**
 * A region's processes reach other sites' NATS nodes through `nats-client:FROM>TO`; nodes reach a
 * node's cluster port at the one route URL it advertises, `nats-route:TO` (shared, like etcd's peers).
 */
function natsLinks(t: Topology, rtt: (a: string, b: string) => number): LinkSpec[] {
  const specs: LinkSpec[] = [];
  for (const n of t.nats) {
    for (const from of t.regions.filter((r) => r !== n.name))
      specs.push({
        name: linkName('nats-client', n.name, from),
        from,
        to: n.name,
        targetPort: n.clientPort,
        rttMs: rtt(from, n.name),
      });
    const others = t.nats.filter((o) => o.name !== n.name);
    const ms = others.reduce((s, o) => s + rtt(o.name, n.name), 0) / Math.max(1, others.length);
    specs.push({
      name: linkName('nats-route', n.name),
      from: '*',
      to: n.name,
      targetPort: n.clusterPort,
      rttMs: ms,
    });
  }
  return specs;
}

/** URLs of the links process, by link name, once it runs. */
export class LinkUrls {
  constructor(private readonly ports: Readonly<Record<string, number>>) {}

  url(kind: string, to: string, from?: string): string {
    const port = this.ports[linkName(kind, to, from)];
    if (port === undefined) throw new Error(`lab: no link ${linkName(kind, to, from)}`);
    return local(port);
  }

  /** The same link as a NATS route URL (what a node advertises to the others). */
  natsRoute(to: string): string {
    return this.url('nats-route', to).replace(/^http:/, 'nats-route:');
  }

  /** A NATS client URL: the site's own node directly, another site's node through the link. */
  natsClient(from: string, to: string, directPort: number): string {
    return this.reach('nats-client', from, to, directPort).replace(/^http:/, 'nats:');
  }

  /** A region's processes reach `to`'s port directly inside their region, through the link from outside. */
  reach(kind: string, from: string, to: string, directPort: number): string {
    return from === to ? local(directPort) : this.url(kind, to, from);
  }
}
