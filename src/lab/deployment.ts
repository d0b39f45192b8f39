import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { LinkFault } from '../chaos/fault-proxy.js';
import type { LinkSite, LinkSpec } from '../chaos/link-host.js';
import { loadConfig, type MeridianConfig } from '../config/index.js';
import { MeridianError } from '../errors.js';
import type { FinalState } from '../replication/history/checker.js';
import { type LabAdmin, startLabAdmin } from './admin.js';
import type { Cohort } from './cohorts.js';
import { type DataSetup, findDataPrograms, LabData } from './data-nodes.js';
import { EtcdMember, findEtcd } from './etcd.js';
import {
  type LabTokens,
  type LabWiring,
  labCapacities,
  labConfigDocument,
  labSecretFiles,
  labTokenEnv,
  newToken,
} from './lab-config.js';
import { LabNetwork, type LinkCutChoice, type LinkCutMode, probeNetns, relayRoutes } from './netns.js';
import { CliPart } from './parts.js';
import { LabProcess, originCommand, type ReadyLine } from './processes.js';
import type { UsersWindow } from './recorder.js';
import { dnsArgs, edgeArgs, labClocks } from './region-args.js';
import { privateDir, writeSecretFile } from './secrets.js';
import { LinkUrls, type NameServer, planTopology, type Topology } from './topology.js';
import { type Entry, finalStateOf } from './watchlist/store.js';
import type { LabVersion } from './watchlist/versions.js';

export interface DeploymentOptions {
  configFile: string;
  dir: string;
  /** Name of the run: its logs go to DIR/logs/NAME/. */
  name: string;
  rate: number;
  durationS: number;
  /** Run control and have dns and edges follow it; without it they follow the config file. */
  withControl: boolean;
  /** Run control on the lab's etcd cluster when etcd is installed (default); false: the SQLite single instance. */
  etcd?: boolean;
  /** Answer-policy cohorts: each one not the config's own is served as a service of its own (lab-config.ts). */
  cohorts?: readonly Cohort[];
  /** How split-brain cuts the links: a packet filter between network namespaces, the proxies, or the first when possible (default). */
  linkCut?: LinkCutChoice;
  /** Keep the sample service's data on Redis and NATS when both are installed (default); false: in memory. */
  realData?: boolean;
}

export interface LabOrigin {
  region: string;
  id: string;
  port: number;
  part: CliPart;
  /** The version it runs (or last ran): v1 at the start, then what the last deploy put there. */
  version: LabVersion;
}

/** A deploy of a region's origins: asked by a drill or by control's rollout (webhook). */
export interface DeployEvent {
  region: string;
  version: LabVersion;
  by: 'drill' | 'webhook';
  phase: 'start' | 'done' | 'failed';
  error?: string;
}

/** One process of the deployment, for a soak: its pid, and its Prometheus /metrics when it has one. */
export interface LabProcessInfo {
  name: string;
  /** Region it runs in ('' for the links and the SQLite control). */
  region: string;
  pid: number;
  metrics?: string;
}

/** What GET /status on the lab's admin adds once the scenario runs (scenario.ts). */
export interface LabStatusSource {
  /** The users' resolver (Unbound) when it runs as a process of its own. */
  resolverPid?: number;
  /** What the users saw from a second on (Recorder.window). */
  users?: (fromSecond: number) => UsersWindow;
}

/** Where a `meridian` server's ready line says its /metrics answers. */
export function metricsUrl(ready: ReadyLine | null): string | undefined {
  if (!ready) return undefined;
  if (ready.part === 'control' && typeof ready.url === 'string') return `${ready.url}/metrics`;
  if (
    (ready.part === 'dns' || ready.part === 'edge' || ready.part === 'replication') &&
    typeof ready.admin === 'string'
  )
    return `http://${ready.admin}/metrics`;
  if (ready.part === 'origin' && typeof ready.listen === 'string')
    return `http://${ready.listen}/_lab/metrics`;
  return undefined;
}

/** Which control setup ran: `etcd` (one instance per region on a 3-member cluster) or `sqlite` (one, outside). */
export type ControlSetup = 'etcd' | 'sqlite' | 'none';

/** Deployments started and not yet stopped: stopped by stopAllDeployments() on Ctrl-C. */
const running = new Set<Deployment>();

export async function stopAllDeployments(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
}

/**
 * The whole deployment, each server its own process: per region an edge, a
 * DNS server, origins and (etcd setup) a control instance and an etcd member;
 * the links process carries all traffic between regions.
 */
export class Deployment {
  readonly origins: LabOrigin[] = [];
  /** Every `meridian` server but the origins, with the region it runs in. */
  readonly parts: CliPart[] = [];
  readonly etcdMembers: EtcdMember[] = [];
  /** The process running the inter-region fault proxies, and its admin URL. */
  private links: LabProcess | null = null;
  private linksAdmin = '';
  /** With the packet filter: each site's namespace, and the relay process inside each. */
  network: LabNetwork | null = null;
  private readonly relays: LabProcess[] = [];
  /** What cuts the links between regions (known after start). */
  linkCut: LinkCutMode = 'proxy';
  /** The notes' line saying so, and why. */
  linkCutNote = '';
  /** Region -> URL users reach its edge at (directly, no proxy). */
  readonly edgeUrls = new Map<string, string>();
  readonly tokens: LabTokens = {
    operator: newToken(),
    agent: newToken(),
    viewer: newToken(),
    edges: new Map(),
  };
  /** Operator token of every edge's admin port (POST/DELETE /fault), for drills. */
  readonly edgeAdminToken = newToken();
  /** Bearer token of the lab's POST /deploy (admin.ts), for control's rollout webhooks. */
  readonly deployToken = newToken();
  private admin: LabAdmin | null = null;
  /** The lab's admin server (POST /deploy), '' before start. */
  adminUrl = '';
  /** Told of every deploy's start and end (the drills' controls record them with their clock). */
  onDeploy: ((e: DeployEvent) => void) | null = null;
  /** The deploy running in each region: the next one waits for it. */
  private readonly deploying = new Map<string, Promise<void>>();
  controlSetup: ControlSetup = 'none';
  /** Where the sample service's data lives: each region's Redis and a NATS cluster, or the origins' memory. */
  dataSetup: DataSetup = 'memory';
  /** The Redis and NATS nodes (Redis+NATS setup only). */
  data: LabData | null = null;
  /** Every control instance, directly (as the lab, standing outside every region, reaches them). */
  controlUrls: string[] = [];
  /** Region of each control instance's URL ('' for the SQLite one, which runs in no region). */
  readonly controlRegions = new Map<string, string>();
  /** The first control instance (compatibility: one URL). */
  controlUrl = '';
  /** Each region's DNS server: the zone's name servers. */
  nameservers: NameServer[] = [];
  /** The first name server (compatibility: one address). */
  dnsAddress = { address: '127.0.0.1', port: 0 };
  /** Set by the scenario once it runs: GET /status tells it. */
  statusSource: LabStatusSource = {};
  /** Regions killed and not restarted. */
  readonly deadRegions = new Set<string>();
  config!: MeridianConfig;
  /** The config as seen from outside every region (direct edge URLs): the lab's own view. */
  labConfigFile = '';
  /** The operator token for other programs (endpoints.json's tokenFile): DIR/secrets/operator.token, 0600. */
  operatorTokenFile = '';

  constructor(
    readonly user: MeridianConfig,
    private readonly o: DeploymentOptions,
  ) {
    for (const r of user.regions) this.tokens.edges.set(r.id, newToken());
  }

  private get logDir() {
    return join(this.o.dir, 'logs', this.o.name);
  }

  private writeConfig(
    name: string,
    wiring: LabWiring,
    header: string,
    extra: Record<string, unknown> = {},
  ): string {
    const file = join(this.o.dir, name);
    const doc = {
      ...labConfigDocument(this.o.configFile, this.user, { ...wiring, cohorts: this.o.cohorts }),
      ...extra,
    };
    writeFileSync(
      file,
      `# Generated by meridian lab from ${this.o.configFile}: ${header}\n${stringify(doc)}`,
    );
    loadConfig(file);
    return file;
  }

  async start(): Promise<void> {
    running.add(this);
    const { dir } = this.o;
    const stateDir = join(dir, 'state');
    const logDir = this.logDir;
    // Every run starts from nothing: no control state or snapshot left by the one before.
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
    privateDir(stateDir);
    const secretsDir = privateDir(join(dir, 'secrets'));
    const secretFiles = labSecretFiles(secretsDir);
    writeSecretFile(secretFiles.peerKey, newToken());
    writeSecretFile(secretFiles.edgeAdminToken, this.edgeAdminToken);
    this.operatorTokenFile = writeSecretFile(secretFiles.operatorToken, this.tokens.operator);
    writeSecretFile(secretFiles.deployToken, this.deployToken);
    // Before the configs are written: control's rollout plan names its URL.
    this.admin = await startLabAdmin({
      token: this.deployToken,
      regions: this.user.regions.map((r) => r.id),
      deploy: (region, version, by) => this.deploy(region, version, by),
      status: (q) => this.status(Number(q.get('from') ?? 0)),
    });
    this.adminUrl = this.admin.url;

    const etcdProgram = this.o.withControl && this.o.etcd !== false ? findEtcd() : null;
    const withEtcd = etcdProgram !== null && this.user.regions.length >= 2;
    this.controlSetup = !this.o.withControl ? 'none' : withEtcd ? 'etcd' : 'sqlite';
    const dataPrograms = this.o.realData === false ? null : findDataPrograms();
    this.dataSetup = dataPrograms ? 'redis+nats' : 'memory';
    const t = await planTopology(this.user, withEtcd, this.o.withControl, dataPrograms !== null);
    this.nameservers = t.nameservers;
    this.dnsAddress = { address: t.nameservers[0].address, port: t.nameservers[0].port };
    for (const [region, port] of t.edgePorts) this.edgeUrls.set(region, `http://127.0.0.1:${port}`);
    // The inter-region links run in their own process: their delay must not
    // depend on how busy the traffic generator is.
    this.network = this.setUpNetwork(t.links);
    const sites: Record<string, LinkSite> = {};
    for (const [name, s] of this.network?.sites ?? [])
      sites[name] = { address: s.address, gateway: s.gateway };
    this.links = new LabProcess(
      'links',
      ['lab-links', '--spec', JSON.stringify(t.links), '--sites', JSON.stringify(sites)],
      logDir,
    );
    const linksReady = await this.links.start();
    this.linksAdmin = `http://${linksReady.admin}`;
    const linkPorts = linksReady.ports as Record<string, number>;
    const links = new LinkUrls(linkPorts);
    if (this.network) await this.startRelays(this.network, t.links, linkPorts);
    for (const m of t.etcd) m.advertisedPeerUrl = links.url('etcd-peer', m.name);
    if (dataPrograms)
      this.data = new LabData(dataPrograms, t, links, stateDir, logDir, this.user.lab.streamMaxAge);

    const clocks = labClocks(this.user, this.o.durationS);
    const base = {
      capacities: labCapacities(this.user, this.o.rate),
      tokens: this.tokens,
      stateDir,
      secretsDir,
      nameservers: t.nameservers.map((n) => ({ name: n.name, ipv4: [n.address] })),
      ...clocks,
      store: { type: 'sqlite' as const, file: join(stateDir, 'control.db') },
      release: {
        deployUrl: this.adminUrl,
        deployTokenFile: secretFiles.deployToken,
        regions: this.user.regions.map((r) => r.id),
        durationS: this.o.durationS,
        rate: this.o.rate,
      },
    };
    /** What a process in `from` reaches (edges and origins of other regions through the links); '' = outside. */
    const seenFrom = (from: string) => ({
      edgeUrls: new Map(
        t.regions.map((r) => [
          r,
          from ? links.reach('edge', from, r, t.edgePorts.get(r)!) : this.edgeUrls.get(r)!,
        ]),
      ),
      originUrls: new Map(
        t.regions.map((r) => [
          r,
          t.origins.filter((o) => o.region === r).map((o) => `http://127.0.0.1:${o.port}`),
        ]),
      ),
    });
    this.labConfigFile = this.writeConfig(
      'lab-config.yaml',
      { ...base, ...seenFrom('') },
      'the view from outside every region',
    );
    this.config = loadConfig(this.labConfigFile);
    const regionConfig = new Map(
      t.regions.map((r) => [
        r,
        this.writeConfig(`lab-config-${r}.yaml`, { ...base, ...seenFrom(r) }, `the view from ${r}`),
      ]),
    );

    // The data first: origins and the relays connect to it as they start.
    await this.data?.start();
    if (this.data) this.replicationParts(t, base, seenFrom);
    this.startOrigins(t, links);
    const etcdStarts = t.etcd.map((m) => {
      const member = new EtcdMember(
        etcdProgram!,
        m,
        t.etcd,
        join(stateDir, 'etcd'),
        logDir,
        `meridian-lab-${process.pid}-${this.o.name}`,
      );
      this.etcdMembers.push(member);
      return member.start();
    });
    await Promise.all([
      ...this.origins.map((o) => o.part.start()),
      ...this.parts.filter((p) => p.name.startsWith('replication-')).map((p) => p.start()),
      ...etcdStarts,
    ]);
    await Promise.all(this.etcdMembers.map((m) => m.healthy()));

    // Control's witness stands outside every region: each instance probes the edges directly, not across the links.
    const controls = this.controlParts(t, links, base);
    await Promise.all(controls.map((c) => c.start()));
    this.controlUrl = this.controlUrls[0] ?? '';

    const follows = (region: string): string[] => {
      if (this.controlSetup === 'none') return [];
      if (this.controlSetup === 'sqlite') return ['--control', this.controlUrls[0]];
      // Their own region's instance first; the others through the links, so a partition is real.
      const order = [region, ...t.regions.filter((r) => r !== region)];
      return [
        '--control',
        order.map((r) => links.reach('control', region, r, t.controlPorts.get(r)!)).join(','),
      ];
    };
    // dns and the edges follow control with an agent token read from their environment (never argv).
    const followEnv = (token: string): Record<string, string> =>
      this.o.withControl ? { MERIDIAN_TOKEN: token } : {};
    for (const ns of t.nameservers) {
      const r = ns.region;
      const server = { configFile: regionConfig.get(r)!, stateDir, follow: follows(r) };
      this.parts.push(new CliPart(`dns-${r}`, r, dnsArgs(ns, server), logDir, followEnv(this.tokens.agent)));
      // Each edge's token may report for its own region only.
      const edge = edgeArgs(r, t.edgePorts.get(r)!, server);
      this.parts.push(new CliPart(`edge-${r}`, r, edge, logDir, followEnv(this.tokens.edges.get(r)!)));
    }
    await Promise.all(this.parts.filter((p) => !p.running).map((p) => p.start()));
  }

  /** Namespaces per site when the packet filter is chosen (or `auto` and possible); null: the proxies cut. */
  private setUpNetwork(links: readonly LinkSpec[]): LabNetwork | null {
    const choice = this.o.linkCut ?? 'auto';
    const proxies = (why: string) => {
      this.linkCut = 'proxy';
      this.linkCutNote = `links: cut by their user-space proxies (${why})`;
      return null;
    };
    if (choice === 'proxy') return proxies('--link-cut proxy, or auto in a drill that cuts no link');
    const probe = probeNetns();
    if (!probe.ok) {
      if (choice === 'packet-filter')
        throw new MeridianError(
          'BAD_ARGUMENT',
          `--link-cut packet-filter needs network namespaces: ${probe.reason}`,
        );
      return proxies(`no packet filter: ${probe.reason}`);
    }
    const sites = [...new Set(links.flatMap((l) => [l.from, l.to]))].filter((s) => s !== '*');
    try {
      const network = LabNetwork.create(sites, probe.filter);
      this.linkCut = 'packet-filter';
      this.linkCutNote =
        `links: cut by a packet filter (${probe.filter}, forward chain) between network namespaces ` +
        `mrd-${process.pid}-{${sites.join(',')}}; links every site shares (etcd peers) by their proxy`;
      return network;
    } catch (e) {
      if (choice === 'packet-filter') throw e;
      return proxies(`no packet filter: ${(e as Error).message}`);
    }
  }

  /** One relay per site, inside its namespace: the links' hops between namespaces (netns.ts). */
  private async startRelays(network: LabNetwork, specs: readonly LinkSpec[], ports: Record<string, number>) {
    const routes = relayRoutes(specs, ports, network.sites);
    await Promise.all(
      [...routes].map(([site, r]) => {
        const relay = new LabProcess(
          `relay-${site}`,
          ['--routes', JSON.stringify(r)],
          this.logDir,
          {},
          network.relayEntry(site),
        );
        this.relays.push(relay);
        return relay.start();
      }),
    );
  }

  /**
   * One `meridian replication` per region (Redis+NATS setup): the relay that applies the other
   * regions' writes to the region's Redis (and, with the outbox, the shipper of its own). It runs
   * in the region: kong kills it with the region and restarts it.
   */
  private replicationParts(
    t: Topology,
    base: Omit<LabWiring, 'edgeUrls' | 'originUrls'>,
    seenFrom: (from: string) => Pick<LabWiring, 'edgeUrls' | 'originUrls'>,
  ) {
    for (const r of t.regions) {
      const file = this.writeConfig(
        `lab-replication-${r}.yaml`,
        { ...base, ...seenFrom(r) },
        `the replication relay of ${r}`,
        { replication: this.data!.replicationSection(r) },
      );
      const args = ['replication', '--config', file, '--region', r, '--admin', '127.0.0.1:0'];
      this.parts.push(new CliPart(`replication-${r}`, r, args, this.logDir));
    }
  }

  private startOrigins(t: Topology, links: LinkUrls) {
    for (const o of t.origins) {
      // `meridian lab-origin`'s flags, run by the origin's own entry (originCommand): faster to start.
      const args = ['--region', o.region, '--id', o.id, '--listen', `127.0.0.1:${o.port}`];
      if (this.data) args.push('--data', JSON.stringify(this.data.regionData(o.region)));
      else
        for (const p of t.origins.filter((p) => p.id !== o.id))
          args.push(
            '--peer',
            p.region === o.region ? `http://127.0.0.1:${p.port}` : links.url('replication', p.id, o.region),
          );
      args.push('--seed', String(this.user.lab.seed));
      const on = (v: LabVersion) => [...args, '--release', v];
      const part = new CliPart(
        `origin-${o.id}`,
        o.region,
        on('v1'),
        this.logDir,
        {},
        this.originRestartArgs(on('v1')),
        originCommand,
      );
      this.origins.push({ ...o, part, version: 'v1' });
      this.originArgs.set(o.id, on);
    }
  }

  /** On the memory path a restarted origin copies a peer's data first; on Redis the data is there. */
  private originRestartArgs(args: string[]): string[] {
    return this.data ? args : [...args, '--bootstrap'];
  }

  /** Each origin's arguments on a version. */
  private readonly originArgs = new Map<string, (v: LabVersion) => string[]>();

  /**
   * Deploys `version` to the region: its origins stop (SIGTERM: the requests they
   * answer finish) and start again on it one by one, each copying the data from a
   * peer and serving before the next stops, so the region's edge always has one.
   * Deploys of one region run one after another.
   */
  deploy(region: string, version: LabVersion, by: 'drill' | 'webhook' = 'drill'): Promise<void> {
    const before = this.deploying.get(region) ?? Promise.resolve();
    const run = before.catch(() => {}).then(() => this.deployNow(region, version, by));
    this.deploying.set(region, run);
    return run;
  }

  private async deployNow(region: string, version: LabVersion, by: 'drill' | 'webhook') {
    this.onDeploy?.({ region, version, by, phase: 'start' });
    try {
      for (const o of this.origins.filter((x) => x.region === region)) {
        // A webhook arriving while the lab stops must not start an origin nobody will stop.
        if (!running.has(this)) throw new Error('lab: the deployment is stopping');
        const args = this.originArgs.get(o.id)!(version);
        o.part.setArgs(args, this.originRestartArgs(args));
        await o.part.stop();
        o.version = version;
        await o.part.restart();
        await this.serving(`http://127.0.0.1:${o.port}`, version);
        // The edge takes it back after `rise` good health checks: only then may the next one stop.
        const check = this.config.services[0].healthCheck;
        await new Promise((r) => setTimeout(r, (check.rise + 1) * check.interval));
      }
      this.onDeploy?.({ region, version, by, phase: 'done' });
    } catch (e) {
      this.onDeploy?.({ region, version, by, phase: 'failed', error: (e as Error).message });
      throw e;
    }
  }

  /**
   * Until the origin's /health answers on `version` (it printed its ready line: it listens), then
   * warms it up: a new process answers its first requests slower (JIT, first connections), which a
   * canary at a small dial, judging a p99 over a few requests, would blame on the version.
   */
  private async serving(url: string, version: LabVersion) {
    const end = Date.now() + 10_000;
    for (;;) {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
      if (res) await res.arrayBuffer();
      if (res?.ok && res.headers.get('x-lab-version') === version) {
        for (let i = 0; i < 50; i++) {
          const warm = await fetch(`${url}/users/lab-warmup/items`).catch(() => null);
          await warm?.arrayBuffer();
        }
        return;
      }
      if (Date.now() > end) throw new Error(`lab: origin ${url} does not serve ${version} after its restart`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The version each of the region's origins runs. */
  versions(region: string): LabVersion[] {
    return this.origins.filter((o) => o.region === region).map((o) => o.version);
  }

  /** One control instance per region on etcd, or the single SQLite one outside every region. */
  private controlParts(
    t: Topology,
    links: LinkUrls,
    base: Omit<LabWiring, 'edgeUrls' | 'originUrls'>,
  ): CliPart[] {
    if (this.controlSetup === 'none') return [];
    const direct = {
      edgeUrls: this.edgeUrls,
      originUrls: new Map(
        t.regions.map((r) => [
          r,
          t.origins.filter((o) => o.region === r).map((o) => `http://127.0.0.1:${o.port}`),
        ]),
      ),
    };
    const env = labTokenEnv(this.tokens);
    const parts: CliPart[] = [];
    for (const [region, port] of t.controlPorts) {
      const listen = `127.0.0.1:${port}`;
      let file: string;
      if (this.controlSetup === 'sqlite') {
        file = this.writeConfig(
          'lab-control.yaml',
          { ...base, ...direct, controlListen: listen },
          'control, outside every region',
        );
      } else {
        // Its own member first; the others through the links from its region.
        const endpoints = [
          ...this.etcdMembers.filter((m) => m.name === region).map((m) => m.clientUrl),
          ...t.etcd.filter((m) => m.name !== region).map((m) => links.url('etcd-client', m.name, region)),
        ];
        const leaseTtl = labClocks(this.user, this.o.durationS).leaseTtlMs;
        file = this.writeConfig(
          `lab-control-${region}.yaml`,
          { ...base, ...direct, controlListen: listen, store: { type: 'etcd', endpoints, leaseTtl } },
          `the control instance of ${region}`,
        );
      }
      const url = `http://${listen}`;
      this.controlUrls.push(url);
      this.controlRegions.set(url, region);
      const args = ['control', '--config', file, '--listen', listen];
      if (this.controlSetup === 'sqlite') args.push('--state', join(base.stateDir, 'control.db'));
      const part = new CliPart(region ? `control-${region}` : 'control', region, args, this.logDir, env);
      this.parts.push(part);
      parts.push(part);
    }
    return parts;
  }

  /** Every process of the deployment running now (a killed region's are missing until they are back). */
  processes(): LabProcessInfo[] {
    const out: LabProcessInfo[] = [];
    const add = (name: string, region: string, pid: number | undefined, metrics?: string) => {
      if (pid !== undefined) out.push({ name, region, pid, ...(metrics ? { metrics } : {}) });
    };
    add('links', '', this.links?.pid);
    for (const r of this.relays) add(r.name, '', r.pid);
    for (const m of this.etcdMembers) add(`etcd-${m.name}`, m.name, m.pid, `${m.clientUrl}/metrics`);
    for (const p of this.data?.processes() ?? []) add(p.name, p.region, p.pid);
    for (const p of [...this.parts, ...this.origins.map((o) => o.part)])
      add(p.name, p.site, p.process?.pid, metricsUrl(p.process?.ready ?? null));
    add('resolver', '', this.statusSource.resolverPid);
    return out;
  }

  /** GET /status: the lab's own pid, its processes, and what users saw from `fromSecond` on (null before they start). */
  status(fromSecond: number) {
    return {
      lab: process.pid,
      processes: this.processes(),
      users: this.statusSource.users?.(Number.isFinite(fromSecond) ? fromSecond : 0) ?? null,
    };
  }

  endpoints() {
    return {
      dns: this.dnsAddress,
      nameservers: this.nameservers,
      edges: Object.fromEntries(this.edgeUrls),
      control: this.controlUrl,
      controls: this.controlUrls,
      controlSetup: this.controlSetup,
      dataSetup: this.dataSetup,
      tokenFile: this.operatorTokenFile,
      config: this.labConfigFile,
      /** The lab's POST /deploy {region, version} (bearer token in secrets/lab-deploy.token). */
      admin: this.adminUrl,
    };
  }

  /**
   * Every process of the region dies at once (SIGKILL): edge, DNS server, control instance, etcd
   * member, origins, and (Redis+NATS setup) its replication process, Redis and NATS node.
   */
  async killRegion(region: string): Promise<void> {
    this.deadRegions.add(region);
    await Promise.all([
      this.data?.kill(region),
      ...this.parts.filter((p) => p.site === region).map((p) => p.kill()),
      ...this.etcdMembers.filter((m) => m.name === region).map((m) => m.kill()),
      this.killOrigins(region),
    ]);
  }

  /**
   * The region comes back on the same ports: etcd with its data, origins
   * copying from a peer first. What serves users and reports on them (etcd
   * member, origins, edge, control instance: the edge reports to its own
   * region's first) starts first, `onServing` is called once those run, then
   * its DNS server: the other regions' name servers cover for it meanwhile,
   * and on a busy machine the edge is back seconds sooner than when all start
   * at once.
   */
  async restartRegion(region: string, onServing?: () => void): Promise<void> {
    const inRegion = this.parts.filter((p) => p.site === region);
    const relays = inRegion.filter((p) => p.name.startsWith('replication-'));
    const serving = inRegion.filter((p) => !p.name.startsWith('dns-') && !relays.includes(p));
    // Redis first, with its data: the origins write to it.
    await this.data?.restart(region);
    await Promise.all([
      ...this.etcdMembers.filter((m) => m.name === region).map((m) => m.start('existing')),
      this.restartOrigins(region),
      ...serving.map((p) => p.restart()),
    ]);
    onServing?.();
    await Promise.all(inRegion.filter((p) => p.name.startsWith('dns-')).map((p) => p.restart()));
    // The relay last, once its NATS node serves JetStream: writes wait in the outbox meanwhile,
    // and starting it beside the serving processes delayed them by seconds on two cores.
    await this.data?.natsHealthy(region);
    await Promise.all(relays.map((p) => p.restart()));
    this.deadRegions.delete(region);
  }

  /** Origins of a region die at once (SIGKILL), as in Chaos Kong. */
  async killOrigins(region: string): Promise<void> {
    await Promise.all(this.origins.filter((o) => o.region === region).map((o) => o.part.kill()));
  }

  /** The region's origins come back on their ports and copy the data from a peer first. */
  async restartOrigins(region: string): Promise<void> {
    await Promise.all(this.origins.filter((o) => o.region === region).map((o) => o.part.restart()));
  }

  /** Cuts, heals or slows links between regions: all, or those the query picks (?region=X: every link touching X). */
  async setLinks(fault: Partial<LinkFault>, query = ''): Promise<void> {
    const q = new URLSearchParams(query);
    if (this.network && fault.cut !== undefined && !q.has('from') && !q.has('to')) {
      this.network.cut(fault.cut, q.get('region') ?? undefined);
      // Links every site shares do not cross namespaces: their proxy takes the cut.
      q.set('from', '*');
      await this.postLinks({ cut: fault.cut }, q.toString());
      if (fault.rttMs !== undefined) await this.postLinks({ rttMs: fault.rttMs }, query);
      return;
    }
    await this.postLinks(fault, query);
  }

  private async postLinks(fault: Partial<LinkFault>, query: string): Promise<void> {
    const res = await fetch(`${this.linksAdmin}/links${query ? `?${query}` : ''}`, {
      method: 'POST',
      body: JSON.stringify(fault),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`lab: link process answered HTTP ${res.status}`);
  }

  /**
   * Every copy's final watch-list records, for the history check: each region's Redis, or (memory
   * path) each origin's dump, every origin being a copy of its own.
   */
  async finalState(): Promise<FinalState> {
    if (this.data) return this.data.finalState();
    const final: FinalState = {};
    for (const o of this.origins) {
      const res = await fetch(`http://127.0.0.1:${o.port}/_lab/dump`, { signal: AbortSignal.timeout(5000) });
      final[o.id] = finalStateOf((await res.json()) as Entry[]);
    }
    return final;
  }

  originUrls(region?: string): string[] {
    return this.origins
      .filter((o) => !region || o.region === region)
      .map((o) => `http://127.0.0.1:${o.port}`);
  }

  /** Stops every process (SIGTERM) and proxy; returns the names of processes that did not exit cleanly. */
  async stop(): Promise<string[]> {
    running.delete(this);
    const all = [...this.parts, ...this.origins.map((o) => o.part)];
    const codes = await Promise.all(all.map(async (p) => [p.name, await p.stop()] as const));
    await Promise.all(this.etcdMembers.map((m) => m.stop()));
    await this.data?.stop();
    await this.links?.stop();
    await Promise.all(this.relays.map((r) => r.stop()));
    this.network?.close();
    await this.admin?.close();
    return codes.filter(([, code]) => code !== 0 && code !== null).map(([name]) => name);
  }
}
