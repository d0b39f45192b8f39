// Two regions (A = us-east-1, B = us-west-2) and a witness site (W) on
// loopback, each region with its own `meridian control` on a shared 3-member
// etcd (one member per site), its own edge, `meridian dns` and origins. Every
// path that crosses sites goes through a relay that the Partition can cut:
// etcd peer traffic, etcd client calls to another site's member, edge<->edge
// peer links, data planes to the other region's control, and a follower's
// forwarding to the leader. Control's witness probe of each edge does not: it
// stands outside every region, as Route 53's health checkers do.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { closeServer, origin, stop } from './control-deployment.js';
import { api, TOKENS } from './control-fixtures.js';
import { waitFor } from './control-helpers.js';
import { type Proc, startMeridian } from './helpers/cli.js';
import { configWithFreePorts, freePort } from './helpers/ports.js';

export type Site = 'A' | 'B' | 'W';
export const REGION_OF = { A: 'us-east-1', B: 'us-west-2' } as const;

/** Which site is cut off from the others (null: none). Relays ask it about every connection. */
export class Partition {
  isolated: Site | null = null;
  private readonly open = new Set<{ from: Site | undefined; to: Site; socket: Socket }>();

  blocked(from: Site | undefined, to: Site): boolean {
    if (this.isolated === null) return false;
    // A connection whose origin is unknown (etcd's version and probing calls, never raft messages) is cut too.
    if (from === undefined) return true;
    return from !== to && (from === this.isolated || to === this.isolated);
  }

  track(from: Site | undefined, to: Site, socket: Socket) {
    const entry = { from, to, socket };
    this.open.add(entry);
    socket.on('close', () => this.open.delete(entry));
  }

  /** Drops connections of unknown origin (made before etcd's member ids were known): they come back identified. */
  dropUnknown() {
    for (const e of this.open) if (e.from === undefined) e.socket.destroy();
  }

  /** Cuts `site` off: every connection that crosses the cut is dropped, new ones refused. */
  isolate(site: Site | null) {
    this.isolated = site;
    for (const e of this.open) if (this.blocked(e.from, e.to)) e.socket.destroy();
  }
}

type Relay = { port: number; url: string; close(): Promise<void> };

/**
 * A TCP relay into `to` at `target`. The connection's site of origin is
 * `from`, or, when `from` is a function, read from the first request's head
 * (etcd peers send `X-Server-From: <member id>` on every raft request).
 */
async function relay(
  partition: Partition,
  target: number,
  to: Site,
  from: Site | ((head: string) => Site | undefined),
): Promise<Relay> {
  const sockets = new Set<Socket>();
  const pipeTo = (client: Socket, source: Site | undefined, first?: Buffer) => {
    if (partition.blocked(source, to)) return client.destroy();
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => {});
      partition.track(source, to, s);
    }
    if (first) upstream.write(first);
    client.pipe(upstream).pipe(client);
  };
  const server = createServer((client) => {
    client.on('error', () => {});
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (typeof from === 'string') return pipeTo(client, from);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (!head.includes('\r\n\r\n') && head.length < 16_384) return;
      client.off('data', onData);
      client.pause();
      pipeTo(client, from(head.toString('latin1')), head);
      client.resume();
    };
    client.on('data', onData);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

export interface SiteEtcd {
  /** Client URL of each site's member as seen from `site`: its own directly, the others through relays. */
  endpointsFrom(site: Site): string[];
  members: ChildProcess[];
  stop(): Promise<void>;
}

/** Three etcd members, one per site, whose peer traffic crosses the partition's relays. */
export async function startSiteEtcd(etcd: string, partition: Partition, dir: string): Promise<SiteEtcd> {
  const sites: Site[] = ['A', 'B', 'W'];
  const memberSite = new Map<string, Site>();
  const fromHead = (head: string) => {
    const id = /^x-server-from:\s*([0-9a-f]+)/im.exec(head)?.[1];
    return id ? memberSite.get(id) : undefined;
  };
  const ports = new Map<Site, { client: number; peer: number; peerRelay: Relay }>();
  for (const s of sites) {
    const client = await freePort();
    const peer = await freePort();
    ports.set(s, { client, peer, peerRelay: await relay(partition, peer, s, fromHead) });
  }
  const clientRelays = new Map<string, Relay>();
  for (const from of sites)
    for (const to of sites)
      if (from !== to) clientRelays.set(from + to, await relay(partition, ports.get(to)!.client, to, from));
  const cluster = sites.map((s) => `m${s}=${ports.get(s)!.peerRelay.url}`).join(',');
  const clusterToken = `meridian-partition-${process.pid}-${ports.get('A')!.client}`;
  const members = sites.map((s) => {
    const p = ports.get(s)!;
    return spawn(
      etcd,
      [
        `--name=m${s}`,
        `--data-dir=${join(dir, `etcd-${s}`)}`,
        `--listen-client-urls=http://127.0.0.1:${p.client}`,
        `--advertise-client-urls=http://127.0.0.1:${p.client}`,
        `--listen-peer-urls=http://127.0.0.1:${p.peer}`,
        `--initial-advertise-peer-urls=${p.peerRelay.url}`,
        `--initial-cluster=${cluster}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=${clusterToken}`,
        '--heartbeat-interval=50',
        '--election-timeout=500',
        '--log-level=error',
      ],
      { stdio: ['ignore', 'ignore', openSync(join(dir, `etcd-${s}.log`), 'a')] },
    );
  });
  const stopAll = async () => {
    await Promise.all(members.map((m) => stop(m, 'SIGKILL')));
    for (const p of ports.values()) await p.peerRelay.close();
    for (const r of clientRelays.values()) await r.close();
  };
  try {
    const first = `http://127.0.0.1:${ports.get('A')!.client}`;
    const list = await waitFor(
      async () => {
        const res = await fetch(`${first}/v3/cluster/member/list`, { method: 'POST', body: '{}' });
        const body = (await res.json()) as {
          members?: { ID: string; name: string; clientURLs?: string[] }[];
        };
        const ready = body.members?.filter((m) => m.name && m.clientURLs?.length) ?? [];
        return ready.length === 3 ? ready : null;
      },
      20_000,
      200,
    );
    for (const m of list ?? []) memberSite.set(BigInt(m.ID).toString(16), m.name.slice(1) as Site);
    partition.dropUnknown();
    for (const s of sites)
      await waitFor(
        async () => {
          const h = await fetch(`http://127.0.0.1:${ports.get(s)!.client}/health`);
          return ((await h.json()) as { health?: string }).health === 'true';
        },
        20_000,
        200,
      );
  } catch (e) {
    await stopAll();
    throw e;
  }
  return {
    endpointsFrom: (site) =>
      [site, ...sites.filter((s) => s !== site)].map((s) =>
        s === site ? `http://127.0.0.1:${ports.get(s)!.client}` : clientRelays.get(site + s)!.url,
      ),
    members,
    stop: stopAll,
  };
}

export interface HealthSettings {
  fallAfterMs: number;
  staleAfterMs: number;
  leaseTtlMs: number;
}

export const SETTINGS: HealthSettings = { fallAfterMs: 500, staleAfterMs: 1500, leaseTtlMs: 2000 };

/** The whole two-region deployment; `leaderSite`'s control starts first and so leads. */
export async function startPartitionedDeployment(etcdPath: string, leaderSite: 'A' | 'B') {
  const partition = new Partition();
  const cfg = await configWithFreePorts('examples/two-regions.yaml');
  const logDir = join(cfg.dir, 'logs');
  mkdirSync(logDir);
  const etcd = await startSiteEtcd(etcdPath, partition, cfg.dir);
  const procs: Proc[] = [];
  const origins: Server[] = [];
  const relays: Relay[] = [];
  const cross = async (target: number, from: Site, to: Site) => {
    const r = await relay(partition, target, to, from);
    relays.push(r);
    return r.url;
  };
  const close = async () => {
    await Promise.all(procs.map((p) => stop(p.child)));
    await Promise.all(origins.map(closeServer));
    for (const r of relays) await r.close();
    await etcd.stop();
  };
  try {
    const base = parse(readFileSync(cfg.file, 'utf8'));
    const edgePort = { A: cfg.port(8101), B: cfg.port(8201) };
    for (const [old, port] of cfg.ports)
      if (old >= 9100) origins.push(await origin(port, old < 9200 ? REGION_OF.A : REGION_OF.B));
    const controlPort = { A: await freePort(), B: await freePort() };
    // How the other region reaches each control instance (its advertised URL: the leader key names it).
    const controlFromOther = {
      A: await cross(controlPort.A, 'B', 'A'),
      B: await cross(controlPort.B, 'A', 'B'),
    };
    const edgeFromOther = { A: await cross(edgePort.A, 'B', 'A'), B: await cross(edgePort.B, 'A', 'B') };
    const other = (s: 'A' | 'B') => (s === 'A' ? 'B' : 'A');
    const controlList = (s: 'A' | 'B') => `http://127.0.0.1:${controlPort[s]},${controlFromOther[other(s)]}`;
    const write = (name: string, doc: unknown) => {
      const file = join(cfg.dir, name);
      writeFileSync(file, stringify(doc));
      return file;
    };
    const controlFile = (s: 'A' | 'B') => {
      const doc = structuredClone(base);
      doc.control = {
        url: controlFromOther[s],
        tokens: [
          { name: 'ops', role: 'operator', token: TOKENS.operator },
          { name: 'watcher', role: 'viewer', token: TOKENS.viewer },
          { name: 'edges', role: 'agent', token: TOKENS.agent, regions: ['*'] },
        ],
        store: {
          type: 'etcd',
          endpoints: etcd.endpointsFrom(s),
          prefix: '/meridian-partition/',
          leaseTtl: `${SETTINGS.leaseTtlMs}ms`,
        },
        health: {
          fallAfter: `${SETTINGS.fallAfterMs}ms`,
          riseAfter: '2s',
          reportStaleAfter: `${SETTINGS.staleAfterMs}ms`,
          probeInterval: '250ms',
          probeTimeout: '800ms',
        },
        autoRestore: { stepInterval: '1s' },
      };
      return write(`control-${s}.yaml`, doc);
    };
    // An edge reaches the other region's edge through the cut.
    const edgeFile = (s: 'A' | 'B') => {
      const doc = structuredClone(base);
      for (const r of doc.regions as { id: string; edge: string }[])
        if (r.id === REGION_OF[other(s)]) r.edge = edgeFromOther[other(s)];
      return write(`edge-${s}.yaml`, doc);
    };
    const controlFiles = { A: controlFile('A'), B: controlFile('B') };
    const startControl = (s: 'A' | 'B') =>
      startMeridian(
        `control-${s}`,
        ['control', '--config', controlFiles[s], '--listen', `127.0.0.1:${controlPort[s]}`],
        logDir,
      );
    const controlUrl = { A: `http://127.0.0.1:${controlPort.A}`, B: `http://127.0.0.1:${controlPort.B}` };
    const leads = async (s: 'A' | 'B') =>
      (await api(controlUrl[s], 'GET', '/v1/health').catch(() => null))?.json.isLeader === true;
    const controls = { [leaderSite]: await startControl(leaderSite) } as Record<'A' | 'B', Proc>;
    procs.push(controls[leaderSite]);
    await waitFor(() => leads(leaderSite), 20_000, 100);
    controls[other(leaderSite)] = await startControl(other(leaderSite));
    procs.push(controls[other(leaderSite)]);

    const dnsPort: Record<'A' | 'B', number> = { A: 0, B: 0 };
    for (const s of ['A', 'B'] as const) {
      const dns = await startMeridian(
        `dns-${s}`,
        [
          ...['dns', '--config', cfg.file, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
          ...['--workers', '1', '--control', controlList(s), '--token', TOKENS.agent],
          ...['--state-dir', join(cfg.dir, `dns-${s}-state`)],
        ],
        logDir,
      );
      procs.push(dns);
      dnsPort[s] = Number(
        String((dns.ready.udp as string[])[0])
          .split(':')
          .pop(),
      );
      const edge = await startMeridian(
        `edge-${s}`,
        [
          ...['edge', '--config', edgeFile(s), '--region', REGION_OF[s], '--admin', '127.0.0.1:0'],
          ...['--workers', '1', '--control', controlList(s), '--token', TOKENS.agent],
          ...['--state-dir', join(cfg.dir, `edge-${s}-state`)],
        ],
        logDir,
      );
      procs.push(edge);
    }
    return {
      partition,
      etcd,
      controls,
      controlUrl,
      leads,
      dnsPort,
      logDir,
      edgeUrl: { A: `http://127.0.0.1:${edgePort.A}/`, B: `http://127.0.0.1:${edgePort.B}/` },
      close,
    };
  } catch (e) {
    await close().catch(() => {});
    throw e;
  }
}
