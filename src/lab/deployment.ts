import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { LinkFault } from '../chaos/fault-proxy.js';
import type { LinkSpec } from '../chaos/link-host.js';
import { loadConfig, type MeridianConfig } from '../config/index.js';
import {
  type LabTokens,
  labCapacities,
  labConfigDocument,
  labSecretFiles,
  labTokenEnv,
  newToken,
} from './lab-config.js';
import { freePort } from './ports.js';
import { LabProcess } from './processes.js';
import { privateDir, writeSecretFile } from './secrets.js';

export interface DeploymentOptions {
  configFile: string;
  dir: string;
  /** Name of the run: its logs go to DIR/logs/NAME/. */
  name: string;
  rate: number;
  durationS: number;
  /** Run control and have dns and edges follow it; without it they follow the config file. */
  withControl: boolean;
}

export interface LabOrigin {
  region: string;
  id: string;
  port: number;
  process: LabProcess;
  args: string[];
}

/** Deployments started and not yet stopped: stopped by stopAllDeployments() on Ctrl-C. */
const running = new Set<Deployment>();

export async function stopAllDeployments(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
}

const rttKey = (a: string, b: string) => [a, b].sort().join('|');

/** The whole deployment: origins, proxies, control, DNS and edges, each server its own process. */
export class Deployment {
  readonly origins: LabOrigin[] = [];
  /** The process running the inter-region fault proxies, and its admin URL. */
  private links: LabProcess | null = null;
  private linksAdmin = '';
  control: LabProcess | null = null;
  dns!: LabProcess;
  readonly edges = new Map<string, LabProcess>();
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
  controlUrl = '';
  dnsAddress = { address: '127.0.0.1', port: 0 };
  config!: MeridianConfig;
  labConfigFile = '';
  /** The operator token for other programs (endpoints.json's tokenFile): DIR/secrets/operator.token, 0600. */
  operatorTokenFile = '';

  constructor(
    readonly user: MeridianConfig,
    private readonly o: DeploymentOptions,
  ) {
    for (const r of user.regions) this.tokens.edges.set(r.id, newToken());
  }

  private rttInto(region: string): number {
    const table = new Map(this.user.lab.links.rtt.map((l) => [rttKey(...l.between), l.ms]));
    const others = this.user.regions.filter((r) => r.id !== region);
    if (others.length === 0) return 0;
    const sum = others.reduce(
      (s, r) => s + (table.get(rttKey(region, r.id)) ?? this.user.lab.links.defaultRttMs),
      0,
    );
    return sum / others.length;
  }

  async start(): Promise<void> {
    running.add(this);
    const { dir } = this.o;
    const stateDir = join(dir, 'state');
    const logDir = join(dir, 'logs', this.o.name);
    // Every run starts from nothing: no control state or snapshot left by the one before.
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
    privateDir(stateDir);
    const secretsDir = privateDir(join(dir, 'secrets'));
    const secretFiles = labSecretFiles(secretsDir);
    writeSecretFile(secretFiles.peerKey, newToken());
    writeSecretFile(secretFiles.edgeAdminToken, this.edgeAdminToken);
    this.operatorTokenFile = writeSecretFile(secretFiles.operatorToken, this.tokens.operator);
    const originUrls = new Map<string, string[]>();
    const edgePorts = new Map<string, number>();
    const specs: LinkSpec[] = [];
    for (const region of this.user.regions) {
      const count = Math.max(
        ...this.user.services.map((s) => s.origins.find((o) => o.region === region.id)?.urls.length ?? 0),
        1,
      );
      const rttMs = this.rttInto(region.id);
      const urls: string[] = [];
      for (let i = 0; i < count; i++) {
        const port = await freePort();
        const id = `${region.id}/${i}`;
        urls.push(`http://127.0.0.1:${port}`);
        specs.push({ name: `replication:${id}`, region: region.id, targetPort: port, rttMs });
        this.origins.push({
          region: region.id,
          id,
          port,
          process: undefined as unknown as LabProcess,
          args: [],
        });
      }
      originUrls.set(region.id, urls);
      const edgePort = await freePort();
      edgePorts.set(region.id, edgePort);
      specs.push({ name: `edge:${region.id}`, region: region.id, targetPort: edgePort, rttMs });
      this.edgeUrls.set(region.id, `http://127.0.0.1:${edgePort}`);
    }
    // The inter-region links run in their own process: their delay must not
    // depend on how busy the traffic generator is.
    this.links = new LabProcess('links', ['lab-links', '--spec', JSON.stringify(specs)], logDir);
    const linksReady = await this.links.start();
    this.linksAdmin = `http://${linksReady.admin}`;
    const linkPort = (name: string) => (linksReady.ports as Record<string, number>)[name];
    const edgeLinkUrls = new Map(
      this.user.regions.map((r) => [r.id, `http://127.0.0.1:${linkPort(`edge:${r.id}`)}`]),
    );
    const replicationUrl = new Map(
      this.origins.map((o) => [o.id, `http://127.0.0.1:${linkPort(`replication:${o.id}`)}`]),
    );

    const wiring = {
      edgeUrls: edgeLinkUrls,
      originUrls,
      capacities: labCapacities(this.user, this.o.rate),
      tokens: this.tokens,
      stateDir,
      secretsDir,
      riseAfterMs: Math.min(
        this.user.control.health.riseAfter,
        Math.max(2000, (this.o.durationS * 1000) / 10),
      ),
      restoreStepMs: Math.min(
        this.user.control.autoRestore.stepInterval,
        Math.max(500, (this.o.durationS * 1000) / 30),
      ),
      healthCheckIntervalMs: Math.max(250, (this.o.durationS * 1000) / 60),
    };
    const doc = labConfigDocument(this.o.configFile, this.user, wiring);
    this.labConfigFile = join(dir, 'lab-config.yaml');
    writeFileSync(
      this.labConfigFile,
      `# Generated by meridian lab from ${this.o.configFile}\n${stringify(doc)}`,
    );
    this.config = loadConfig(this.labConfigFile);

    await Promise.all(
      this.origins.map(async (origin) => {
        const peers = this.origins
          .filter((p) => p.id !== origin.id)
          .map((p) =>
            p.region === origin.region ? `http://127.0.0.1:${p.port}` : replicationUrl.get(p.id)!,
          );
        origin.args = [
          'lab-origin',
          '--region',
          origin.region,
          '--id',
          origin.id,
          '--listen',
          `127.0.0.1:${origin.port}`,
        ];
        for (const p of peers) origin.args.push('--peer', p);
        origin.process = new LabProcess(`origin-${origin.id}`, origin.args, logDir);
        await origin.process.start();
      }),
    );

    const cfg = ['--config', this.labConfigFile];
    let follow: string[] = [];
    // dns and the edges follow control with an agent token read from their environment (never argv).
    const followEnv = (token: string): Record<string, string> =>
      this.o.withControl ? { MERIDIAN_TOKEN: token } : {};
    if (this.o.withControl) {
      // Control's witness stands outside every region: it probes the edges directly, not across the links.
      const controlFile = join(dir, 'lab-control.yaml');
      const direct = labConfigDocument(this.o.configFile, this.user, { ...wiring, edgeUrls: this.edgeUrls });
      writeFileSync(controlFile, `# Generated by meridian lab for control\n${stringify(direct)}`);
      loadConfig(controlFile);
      const args = [
        'control',
        '--config',
        controlFile,
        '--listen',
        '127.0.0.1:0',
        '--state',
        join(stateDir, 'control.db'),
      ];
      this.control = new LabProcess('control', args, logDir, labTokenEnv(this.tokens));
      const ready = await this.control.start();
      this.controlUrl = String(ready.url ?? `http://${ready.listen}`);
      follow = ['--control', this.controlUrl];
    }

    this.dns = new LabProcess(
      'dns',
      [
        'dns',
        ...cfg,
        '--listen',
        '127.0.0.1:0',
        '--admin',
        '127.0.0.1:0',
        ...follow,
        '--state-dir',
        join(stateDir, 'dns'),
      ],
      logDir,
      followEnv(this.tokens.agent),
    );
    const edgeStarts = this.user.regions.map((r) => {
      const edge = new LabProcess(
        `edge-${r.id}`,
        [
          'edge',
          ...cfg,
          '--region',
          r.id,
          '--listen',
          `127.0.0.1:${edgePorts.get(r.id)}`,
          '--admin',
          '127.0.0.1:0',
          ...follow,
          '--state-dir',
          join(stateDir, `edge-${r.id}`),
        ],
        logDir,
        // Each edge's token may report for its own region only.
        followEnv(this.tokens.edges.get(r.id)!),
      );
      this.edges.set(r.id, edge);
      return edge.start();
    });
    const [dnsReady] = await Promise.all([this.dns.start(), ...edgeStarts]);
    this.dnsAddress = parseHostPort(String(dnsReady.udp ?? dnsReady.listen));
  }

  endpoints() {
    return {
      dns: this.dnsAddress,
      edges: Object.fromEntries(this.edgeUrls),
      control: this.controlUrl,
      tokenFile: this.operatorTokenFile,
      config: this.labConfigFile,
    };
  }

  /** Origins of a region die at once (SIGKILL), as in Chaos Kong. */
  async killOrigins(region: string): Promise<void> {
    await Promise.all(this.origins.filter((o) => o.region === region).map((o) => o.process.kill()));
  }

  /** The region's origins come back on their ports and copy the data from a peer first. */
  async restartOrigins(region: string): Promise<void> {
    await Promise.all(
      this.origins
        .filter((o) => o.region === region)
        .map(async (o) => {
          o.process = new LabProcess(
            `origin-${o.id}`,
            [...o.args, '--bootstrap'],
            join(this.o.dir, 'logs', this.o.name),
          );
          await o.process.start();
        }),
    );
  }

  /** Cuts, heals or slows every link between regions (all proxies of the link process). */
  async setLinks(fault: Partial<LinkFault>): Promise<void> {
    const res = await fetch(`${this.linksAdmin}/links`, { method: 'POST', body: JSON.stringify(fault) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`lab: link process answered HTTP ${res.status}`);
  }

  originUrls(region?: string): string[] {
    return this.origins
      .filter((o) => !region || o.region === region)
      .map((o) => `http://127.0.0.1:${o.port}`);
  }

  /** Stops every process (SIGTERM) and proxy; returns the names of processes that did not exit cleanly. */
  async stop(): Promise<string[]> {
    running.delete(this);
    const all = [
      ...this.edges.values(),
      this.dns,
      this.control,
      ...this.origins.map((o) => o.process),
    ].filter((p): p is LabProcess => p instanceof LabProcess);
    const codes = await Promise.all(all.map(async (p) => [p.name, await p.stop()] as const));
    await this.links?.stop();
    return codes.filter(([, code]) => code !== 0 && code !== null).map(([name]) => name);
  }
}

export function parseHostPort(text: string): { address: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  if (!m) return { address: '127.0.0.1', port: 0 };
  return { address: m[1], port: Number(m[2]) };
}
