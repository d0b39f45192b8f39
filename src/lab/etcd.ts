import { join } from 'node:path';
import { request } from 'undici';
import { MeridianError } from '../errors.js';
import { findProgram } from './programs.js';
import { ServerProcess } from './server-process.js';

/** The etcd server on PATH (Debian `etcd-server`), or null: the lab then runs control on SQLite. */
export const findEtcd = (): string | null => findProgram('etcd');

export interface EtcdMemberPlan {
  /** Member name: the region (or `witness`) it runs in. */
  name: string;
  clientPort: number;
  peerPort: number;
  /** Peer URL the other members reach it at: a link of the links process, so a cut between regions cuts raft too. */
  advertisedPeerUrl: string;
}

/** etcd's raft timers for the lab: a dead member's leadership moves within about a second. */
const TIMERS = ['--heartbeat-interval=100', '--election-timeout=1000'];

/**
 * Without compaction etcd keeps every revision of every key for as long as it
 * runs. Control reads by polling, never from an old revision, so five minutes
 * of history is plenty.
 */
const COMPACTION = ['--auto-compaction-mode=periodic', '--auto-compaction-retention=5m'];

/**
 * etcd keeps its raft log in memory until a snapshot, then all but the last
 * 5000 entries (fixed in etcd 3.4). Its default, a snapshot every 100000
 * entries, is about 14 hours of the lab's writes (about 2 proposals a second:
 * each control candidate's leader-key transaction every second, and a commit
 * of state plus snapshot, about 4 KB, every 2 s or so): the members' memory
 * grew all that time (measured: bench/README.md). Every 1000 caps the log at
 * 6000 entries, reached in under an hour; a snapshot of this small store is cheap.
 */
const SNAPSHOTS = ['--snapshot-count=1000'];

/**
 * One member of the lab's etcd cluster, run as its own process with its data
 * under DIR/<name>, so a restarted member rejoins with what it had.
 */
export class EtcdMember {
  private readonly server: ServerProcess;

  constructor(
    private readonly program: string,
    readonly plan: EtcdMemberPlan,
    private readonly cluster: readonly EtcdMemberPlan[],
    private readonly dataRoot: string,
    logDir: string,
    private readonly clusterToken: string,
  ) {
    this.server = new ServerProcess(join(logDir, `etcd-${plan.name}.log`));
  }

  get name(): string {
    return this.plan.name;
  }

  /** The running member's process id (undefined when it is not running). */
  get pid(): number | undefined {
    return this.server.pid;
  }

  get clientUrl(): string {
    return `http://127.0.0.1:${this.plan.clientPort}`;
  }

  /** Starts the member; `existing` when it restarts with its data dir. Resolves once it answers /health. */
  async start(state: 'new' | 'existing' = 'new'): Promise<void> {
    const p = this.plan;
    this.server.start(
      this.program,
      [
        `--name=${p.name}`,
        `--data-dir=${join(this.dataRoot, p.name)}`,
        `--listen-client-urls=${this.clientUrl}`,
        `--advertise-client-urls=${this.clientUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${p.peerPort}`,
        `--initial-advertise-peer-urls=${p.advertisedPeerUrl}`,
        `--initial-cluster=${this.cluster.map((m) => `${m.name}=${m.advertisedPeerUrl}`).join(',')}`,
        `--initial-cluster-state=${state}`,
        ...TIMERS,
        ...COMPACTION,
        ...SNAPSHOTS,
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=warn',
      ],
      // The cluster token is no secret, but a `--*-token` flag reads like one to whoever checks argv.
      { ...process.env, ETCD_INITIAL_CLUSTER_TOKEN: this.clusterToken },
    );
  }

  /** Resolves when the member answers /health with a leader (the cluster has quorum), or throws after timeoutMs. */
  async healthy(timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < end) {
      if (!this.running) throw new MeridianError('INTERNAL', `lab: etcd member ${this.name} exited`);
      try {
        const res = await request(`${this.clientUrl}/health`, { headersTimeout: 1000, bodyTimeout: 1000 });
        last = await res.body.text();
        if (res.statusCode === 200 && /"health":"true"/.test(last)) return;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new MeridianError('INTERNAL', `lab: etcd member ${this.name} not healthy within ${timeoutMs} ms`, [
      last.slice(0, 200),
    ]);
  }

  get running(): boolean {
    return this.server.running;
  }

  /** SIGKILL: the member dies with its region. */
  kill(): Promise<void> {
    return this.server.kill();
  }

  /** SIGTERM (etcd exits cleanly on it), SIGKILL after graceMs. */
  stop(graceMs = 5000): Promise<void> {
    return this.server.stop(graceMs);
  }
}
