// One node of a NATS JetStream cluster, run as its own process with its store
// under DIR/<name>, so a restarted node rejoins with what it had. The lab runs
// one node per region (plus a witness for two regions, so a 3-node cluster can
// hold R3 streams); tests and the replication benchmark use the same class.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { MeridianError } from '../errors.js';
import { findProgram } from './programs.js';
import { ServerProcess } from './server-process.js';

/** The nats-server on PATH (Debian `nats-server`), or null. */
export const findNatsServer = (): string | null => findProgram('nats-server');

export interface NatsNodePlan {
  /** Node name (server_name): the region (or `witness`) it runs in. */
  name: string;
  clientPort: number;
  /** Port of the cluster (route) listener. */
  clusterPort: number;
  /** Monitoring port (/healthz, /jsz). */
  monitorPort: number;
  /**
   * Route URL the other nodes reach this node at. In the lab, a link of the
   * links process, so a cut between regions cuts the cluster too; direct
   * (`nats-route://127.0.0.1:clusterPort`) when empty.
   */
  advertisedRouteUrl?: string;
}

export interface NatsNodeOptions {
  program: string;
  plan: NatsNodePlan;
  /** Every node of the cluster, this one included (one node: no cluster block). */
  cluster: readonly NatsNodePlan[];
  dataRoot: string;
  logDir: string;
  clusterName?: string;
  /**
   * fsync every write before the PubAck (`jetstream.sync_interval: always`).
   * Only NATS 2.10 and later know the option; older servers run with their
   * default flush and `syncAlways` reports false.
   */
  syncAlways?: boolean;
  /**
   * Ping every connection (routes included) this often and close it after 3 unanswered pings.
   * The server's default (2 min) keeps a route through a blackholed link "up" long after a cut,
   * and the cluster then needs about a minute after the heal; the lab uses 1 s.
   */
  pingIntervalS?: number;
}

/** nats-server's version as [major, minor, patch], or null when it cannot be read. */
export function natsServerVersion(program: string): [number, number, number] | null {
  const out = spawnSync(program, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const m = /v(\d+)\.(\d+)\.(\d+)/.exec(out);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** `jetstream.sync_interval` exists from NATS 2.10 on. */
export function supportsSyncInterval(version: [number, number, number] | null): boolean {
  if (!version) return false;
  const [major, minor] = version;
  return major > 2 || (major === 2 && minor >= 10);
}

const routeUrl = (p: NatsNodePlan) => p.advertisedRouteUrl || `nats-route://127.0.0.1:${p.clusterPort}`;

/** The node's configuration file (nats-server's own format, JSON being a subset of it). */
export function natsNodeConfig(o: NatsNodeOptions, syncAlways: boolean): Record<string, unknown> {
  const p = o.plan;
  const config: Record<string, unknown> = {
    server_name: p.name,
    listen: `127.0.0.1:${p.clientPort}`,
    http: `127.0.0.1:${p.monitorPort}`,
    ...(o.pingIntervalS ? { ping_interval: `${o.pingIntervalS}s`, ping_max: 3 } : {}),
    jetstream: {
      store_dir: join(o.dataRoot, p.name),
      ...(syncAlways ? { sync_interval: 'always' } : {}),
    },
  };
  if (o.cluster.length > 1) {
    config.cluster = {
      name: o.clusterName ?? 'meridian',
      listen: `127.0.0.1:${p.clusterPort}`,
      // Advertise the link, not the listener: gossip would otherwise teach peers the direct port.
      advertise: routeUrl(p).replace(/^nats-route:\/\//, ''),
      no_advertise: true,
      routes: o.cluster.filter((n) => n.name !== p.name).map(routeUrl),
    };
  }
  return config;
}

export class NatsNode {
  private readonly server: ServerProcess;
  /** Whether this node fsyncs before acknowledging (see NatsNodeOptions.syncAlways). */
  readonly syncAlways: boolean;

  constructor(private readonly o: NatsNodeOptions) {
    this.syncAlways = !!o.syncAlways && supportsSyncInterval(natsServerVersion(o.program));
    this.server = new ServerProcess(join(o.logDir, `nats-${o.plan.name}.log`));
  }

  get name(): string {
    return this.o.plan.name;
  }

  get clientUrl(): string {
    return `nats://127.0.0.1:${this.o.plan.clientPort}`;
  }

  get pid(): number | undefined {
    return this.server.pid;
  }

  get running(): boolean {
    return this.server.running;
  }

  /** Starts the node (again, with its store when it ran before). Resolve healthy() to know it serves. */
  start(): void {
    const p = this.o.plan;
    mkdirSync(this.o.dataRoot, { recursive: true });
    const file = join(this.o.dataRoot, `${p.name}.conf`);
    writeFileSync(file, JSON.stringify(natsNodeConfig(this.o, this.syncAlways), null, 2));
    this.server.start(this.o.program, ['-c', file]);
  }

  /**
   * Resolves when the node answers /healthz with JetStream ready (in a cluster:
   * the meta group has a leader), or throws after timeoutMs.
   */
  async healthy(timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < end) {
      if (!this.running) throw new MeridianError('INTERNAL', `lab: nats node ${this.name} exited`);
      try {
        const res = await request(`http://127.0.0.1:${this.o.plan.monitorPort}/healthz`, {
          headersTimeout: 1000,
          bodyTimeout: 1000,
        });
        last = await res.body.text();
        if (res.statusCode === 200 && (await this.hasMetaLeader())) return;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new MeridianError('INTERNAL', `lab: nats node ${this.name} not healthy within ${timeoutMs} ms`, [
      last.slice(0, 200),
    ]);
  }

  private async hasMetaLeader(): Promise<boolean> {
    if (this.o.cluster.length < 2) return true;
    const res = await request(`http://127.0.0.1:${this.o.plan.monitorPort}/jsz`, {
      headersTimeout: 1000,
      bodyTimeout: 1000,
    });
    const body = (await res.body.json()) as { meta_cluster?: { leader?: string } };
    return !!body.meta_cluster?.leader;
  }

  /**
   * This node's view of its streams and their consumers (monitoring /jsz), one line each, for a
   * data check that found something lost: was it never stored, or stored and not taken?
   */
  async streamsView(): Promise<string[]> {
    const res = await request(
      `http://127.0.0.1:${this.o.plan.monitorPort}/jsz?accounts=true&streams=true&consumers=true`,
      { headersTimeout: 2000, bodyTimeout: 2000 },
    );
    const body = (await res.body.json()) as { account_details?: { stream_detail?: JszStream[] }[] };
    return (body.account_details ?? []).flatMap((a) =>
      (a.stream_detail ?? []).map((st) => {
        const consumers = (st.consumer_detail ?? []).map(
          (c) =>
            `${c.name} (leader ${c.cluster?.leader ?? 'none'}) delivered ${c.delivered?.stream_seq ?? '?'} acked ${c.ack_floor?.stream_seq ?? '?'} pending ${c.num_pending ?? '?'}+${c.num_ack_pending ?? '?'}`,
        );
        return `${this.name}: ${st.name} seq ${st.state?.first_seq ?? '?'}-${st.state?.last_seq ?? '?'} (${st.state?.messages ?? '?'} msgs, leader ${st.cluster?.leader ?? 'none'}); ${consumers.join('; ') || 'no consumer'}`;
      }),
    );
  }

  /** SIGKILL: the node dies with its region. */
  kill(): Promise<void> {
    return this.server.kill();
  }

  /** SIGTERM, SIGKILL after graceMs. */
  stop(graceMs = 5000): Promise<void> {
    return this.server.stop(graceMs);
  }
}

interface JszStream {
  name: string;
  cluster?: { leader?: string };
  state?: { messages?: number; first_seq?: number; last_seq?: number };
  consumer_detail?: {
    name: string;
    cluster?: { leader?: string };
    delivered?: { stream_seq?: number };
    ack_floor?: { stream_seq?: number };
    num_pending?: number;
    num_ack_pending?: number;
  }[];
}
