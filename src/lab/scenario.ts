import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import type { Drill, Summary } from '../chaos/drills/types.js';
import type { MeridianConfig } from '../config/index.js';
import { serviceAnswers } from '../config/service-answers.js';
import { MeridianError } from '../errors.js';
import { checkHistory, type DataCheck } from '../replication/history/checker.js';
import { antiEntropyRepairs } from './anti-entropy-count.js';
import { cohortFor, cohortOf, labCohorts } from './cohorts.js';
import { Controls } from './controls.js';
import { Deployment } from './deployment.js';
import { DnsClient } from './dns-client.js';
import { labCapacities } from './lab-config.js';
import { LeaderWatch } from './leaders.js';
import { NameServerClients } from './nameservers.js';
import type { LinkCutChoice } from './netns.js';
import { ControlWatch, DnsProbe } from './probes.js';
import { Recorder } from './recorder.js';
import { ReleaseWatch } from './release-watch.js';
import { type RunningResolver, startResolver } from './resolver/index.js';
import { summarize } from './summary.js';
import { edgeTargets, regionLocations, Traffic } from './traffic.js';
import { seededRandom, type VirtualUser } from './users.js';

export interface ScenarioOptions {
  configFile: string;
  config: MeridianConfig;
  dir: string;
  /** Seconds each drill (of a repeated run: each slot) lasts: the lab's clocks are sized to it. */
  durationS: number;
  /** The whole run, when longer than durationS (a repeated run). */
  totalS?: number;
  rate: number;
  target: string;
  users: readonly VirtualUser[];
  /** Region each user's place is home to (territory map). */
  homeOf: (user: VirtualUser) => string;
  expectedShares: ReadonlyMap<string, number>;
  notes: string[];
  /** One line a second while running. */
  progress: (line: string) => void;
  withControl: boolean;
  /** How the links are cut (Deployment's linkCut). */
  linkCut?: LinkCutChoice;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers, headersTimeout: 2000, bodyTimeout: 2000 });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/**
 * Waits until each edge serves one of its own users from its own origins.
 * An edge that only ever serves them from elsewhere is noted, not fatal: the
 * run then shows it. Returns, per region, whether its own edge served it.
 */
async function waitUntilServing(
  d: Deployment,
  users: readonly VirtualUser[],
  homeOf: (u: VirtualUser) => string,
  notes: string[],
): Promise<Map<string, boolean>> {
  const hostname = d.config.services[0].hostname;
  const end = Date.now() + 60_000;
  const served = new Map<string, boolean>();
  for (const [region, url] of d.edgeUrls) {
    const user = users.find((u) => homeOf(u) === region);
    if (!user) continue;
    for (;;) {
      const r = await get(`${url}/users/warmup/items`, {
        host: hostname,
        'x-forwarded-for': user.address,
      }).catch(() => null);
      if (r?.status === 200 && r.headers['x-lab-region'] === region) {
        served.set(region, true);
        break;
      }
      if (Date.now() > end && r?.status === 200) {
        notes.push(`at start the ${region} edge served its own users from ${r.headers['x-lab-region']}`);
        served.set(region, false);
        break;
      }
      if (Date.now() > end)
        throw new MeridianError(
          'INTERNAL',
          `lab: the ${region} edge did not serve from its own origins within 60 s`,
          [
            `user ${user.address} (${user.place})`,
            r
              ? `last answer: HTTP ${r.status} from ${r.headers['x-lab-region']}: ${r.text.slice(0, 200)}`
              : 'no answer',
          ],
        );
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  return served;
}

/** What the notes say about the control setup that ran. */
function controlNote(d: Deployment): string {
  if (d.controlSetup === 'etcd')
    return (
      `control: ${d.controlUrls.length} instances, one per region, sharing state through a ` +
      `${d.etcdMembers.length}-member etcd cluster (members: ${d.etcdMembers.map((m) => m.name).join(', ')}); ` +
      'DNS servers and edges follow a list of instances, their own region first'
    );
  if (d.controlSetup === 'sqlite')
    return (
      'control: one instance on SQLite (etcd is not installed), running outside every region: ' +
      'kong does not kill it; install etcd-server for one instance per region'
    );
  return 'control: not running (this build has no control command); DNS and edges follow the config file';
}

/** The drills whose verdict checks the data: the users' history against every copy's final state. */
const DATA_DRILLS = new Set(['kong', 'split-brain']);

/** What the notes say about where the data lived. */
function dataNote(d: Deployment): string {
  if (d.data) {
    const sync = d.data.nats[0]?.syncAlways
      ? 'sync_interval: always'
      : "the server's default flush (sync_interval needs NATS 2.10)";
    return (
      `data: redis+nats: a Redis per region (append-only, fsync always), a ${d.data.nats.length}-node NATS ` +
      `JetStream cluster (${d.data.nats.map((n) => n.name).join(', ')}; streams R${d.data.replicas}, ${sync}), ` +
      'a meridian replication process per region'
    );
  }
  return 'data: memory: each origin keeps its copy in memory and pushes writes to the others over HTTP (install redis-server and nats-server for Redis + NATS)';
}

/**
 * After the run (links healed, region back): wait for the copies to settle, then check the users'
 * history against every copy's final state. Settled: on the memory path, every origin's queue is
 * empty; then, on either, until nothing is lost or divergent, 60 s at most.
 */
async function checkData(d: Deployment, traffic: Traffic): Promise<DataCheck> {
  if (d.dataSetup === 'memory') {
    const urls = d.originUrls();
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      const pending = await Promise.all(
        urls.map(async (u) => JSON.parse((await get(`${u}/_lab/status`)).text).pending as number),
      );
      if (pending.every((p) => p === 0)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const end = Date.now() + 60_000;
  for (;;) {
    const result = checkHistory(traffic.history, await d.finalState());
    if ((result.lost === 0 && result.divergent === 0) || Date.now() > end) return result;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function runScenario(
  drill: Drill,
  o: ScenarioOptions,
): Promise<{ summary: Summary; recorder: Recorder }> {
  const regions = o.config.regions.map((r) => r.id);
  const recorder = new Recorder(regions);
  let startedAt = performance.now();
  const clock = () => performance.now() - startedAt;
  const lastDeadAttempt = new Map<string, number>();
  const cohorts = drill.cohorts ? labCohorts(o.config) : [];
  const deployment = new Deployment(o.config, {
    cohorts,
    configFile: o.configFile,
    dir: o.dir,
    name: drill.name,
    withControl: o.withControl,
    rate: o.rate,
    durationS: o.durationS,
    // auto: the packet filter only where links are cut; elsewhere the relays' hops would buy nothing.
    linkCut: (o.linkCut ?? 'auto') === 'auto' && drill.name !== 'split-brain' ? 'proxy' : o.linkCut,
  });
  let dns: DnsClient | undefined;
  let resolver: RunningResolver | undefined;
  let nameservers: NameServerClients | undefined;
  let leaders: LeaderWatch | undefined;
  let traffic: Traffic | undefined;
  let probe: DnsProbe | undefined;
  let watch: ControlWatch | undefined;
  let release: ReleaseWatch | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let controls: Controls | undefined;
  try {
    await deployment.start();
    writeFileSync(join(o.dir, 'endpoints.json'), `${JSON.stringify(deployment.endpoints(), null, 2)}\n`);
    if (o.withControl)
      o.progress(`dashboard: ${deployment.controlUrl}/ (token in ${deployment.operatorTokenFile})`);
    o.notes.push(controlNote(deployment));
    if (!o.notes.includes(deployment.linkCutNote)) o.notes.push(deployment.linkCutNote);
    if (!o.notes.includes(dataNote(deployment))) o.notes.push(dataNote(deployment));
    const servedByOwnEdge = await waitUntilServing(deployment, o.users, o.homeOf, o.notes);
    const cfg = deployment.config;
    const hostname = cfg.services[0].hostname;
    const edges = edgeTargets(cfg, deployment.edgeUrls);
    // Users resolve through a caching resolver in front of every region's name server; the probe
    // asks the live authoritative servers directly, to time when the answers changed at the source.
    resolver = await startResolver({
      zone: cfg.zone.name,
      nameservers: deployment.nameservers,
      dir: join(o.dir, 'state', 'resolver', drill.name),
      logDir: join(o.dir, 'logs', drill.name),
    });
    const note = `resolver: ${resolver.description}`;
    if (!o.notes.includes(note)) o.notes.push(note);
    dns = new DnsClient(resolver);
    nameservers = new NameServerClients(deployment.nameservers, (r) => !deployment.deadRegions.has(r));
    if (o.withControl) {
      const stateDir = join(o.dir, 'state', 'watch');
      leaders = new LeaderWatch(deployment.controlUrls, clock);
      watch = new ControlWatch(
        deployment.controlUrls,
        deployment.tokens.viewer,
        deployment.labConfigFile,
        stateDir,
        clock,
      );
      await watch.start();
      const leaderWatch = leaders;
      release = new ReleaseWatch(
        deployment.controlUrls,
        { viewer: deployment.tokens.viewer, operator: deployment.tokens.operator },
        clock,
        () => leaderWatch.leaderAt(clock()),
      );
    }
    const probes = new Map<string, string>();
    for (const region of regions)
      for (const u of o.users.filter((u) => o.homeOf(u) === region).slice(0, 5))
        probes.set(`${region}:${u.id}`, `${u.address.split('.').slice(0, 3).join('.')}.0/24`);
    startedAt = performance.now();
    deployment.statusSource = { resolverPid: resolver.pid, users: (from) => recorder.window(from) };
    const liveServers = nameservers;
    probe = new DnsProbe(
      () => liveServers.live(),
      hostname,
      probes,
      (a) => edges.get(a)?.region,
      clock,
    );
    traffic = new Traffic({
      users: o.users,
      dns,
      hostname,
      edges,
      rate: o.rate,
      writeShare: o.config.lab.writeShare,
      random: seededRandom(o.config.lab.seed + 1),
      recorder,
      clock,
      homeOf: o.homeOf,
      ...(cohorts.length > 0
        ? {
            hostnameOf: (u: VirtualUser) => cohortFor(cohorts, u.id).hostname,
            cohortOf: (u: VirtualUser) => cohortOf(cohorts, u.id),
          }
        : {}),
      regionLocations: regionLocations(cfg),
      ...(DATA_DRILLS.has(drill.name)
        ? { history: { sessionBy: deployment.dataSetup === 'memory' ? 'origin' : 'region' } as const }
        : {}),
      // The edge names every origin it tried: a try at an origin of a killed region is one too many.
      onAttempts: (attempts, t) => {
        for (const a of attempts.split(',')) {
          const region = a.trim().split(' ')[0];
          if (controls?.kills.some((k) => k.region === region && k.back === null))
            lastDeadAttempt.set(region, t);
        }
      },
    });
    controls = new Controls(deployment, recorder, watch, o.target, o.durationS, startedAt, release);
    probe.start();
    leaders?.start();
    release?.start();
    traffic.start();
    ticker = setInterval(() => o.progress(`${drill.name} ${recorder.line()}`), 1000);
    ticker.unref();
    await drill.run(controls);
    clearInterval(ticker);
    await traffic.stop();
    probe.stop();
    leaders?.stop();
    // The last word on the rollout and the outlier state, after the run.
    release?.stop();
    await release?.poll();
    // What control declared, when: beside the processes' logs, for whoever reads why a check failed.
    writeFileSync(
      join(o.dir, 'logs', drill.name, 'health-changes.json'),
      `${JSON.stringify({
        changes: watch?.changes ?? [],
        leaders: leaders?.timeline ?? [],
        seconds: recorder.buckets.map((b) => [b.second, b.phase, b.total, b.failed]),
      })}\n`,
    );
    const data = DATA_DRILLS.has(drill.name) ? await checkData(deployment, traffic) : null;
    if (data) {
      o.notes.push(
        `data check over ${traffic.history.length} operations: ${data.acknowledged} acknowledged writes (${traffic.ackedCreations.PUT} PUT, ${traffic.ackedCreations.POST} POST created an item), ${data.lost} lost, ${data.divergent} divergent keys, ${data.staleReads} stale reads`,
      );
      for (const a of data.anomalies.slice(0, 5)) o.notes.push(`data check: ${a.kind} ${a.key}: ${a.detail}`);
      const repaired = deployment.data ? await antiEntropyRepairs(deployment.processes()) : null;
      if (repaired)
        o.notes.push(
          `data: anti-entropy copied ${repaired} records the streams had not delivered (meridian_replication_anti_entropy_repaired_total)`,
        );
      if ((data.lost > 0 || data.divergent > 0) && deployment.data) {
        for (const line of await deployment.data.replicationView())
          o.notes.push(`data check: at the end, ${line}`);
        const lostKeys = data.anomalies
          .filter((a) => a.kind === 'lost')
          .map((a) => a.key)
          .slice(0, 5);
        for (const line of await deployment.data.eventsOf(lostKeys))
          o.notes.push(`data check: in the streams, ${line}`);
      }
    }
    if (deployment.network)
      o.notes.push(
        `links: the packet filter dropped ${deployment.network.droppedPackets} packets between the sites' namespaces`,
      );
    const summary = summarize({
      drill,
      recorder,
      controls,
      probe,
      answers: traffic.answers,
      changes: watch?.changes ?? [],
      capacities: labCapacities(o.config, o.rate),
      expectedShares: o.expectedShares,
      rate: o.rate,
      data,
      dataSetup: deployment.dataSetup,
      lastDeadAttempt,
      dnsProblems: traffic.dnsProblems,
      notes: o.notes,
      control: { setup: deployment.controlSetup, regions: deployment.controlRegions, leaders },
      servedByOwnEdge,
      ttlS: serviceAnswers(cfg, cfg.services[0]).ttl,
      cohorts,
    });
    if (o.totalS !== undefined) summary.durationS = o.totalS;
    summary.linkCut = deployment.linkCut;
    return { summary, recorder };
  } finally {
    clearInterval(ticker);
    release?.stop();
    await traffic?.stop().catch(() => {});
    probe?.stop();
    leaders?.stop();
    await watch?.close().catch(() => {});
    dns?.close();
    nameservers?.close();
    await resolver?.stop().catch(() => {});
    const unclean = await deployment.stop();
    if (unclean.length > 0) o.notes.push(`did not exit cleanly on SIGTERM: ${unclean.join(', ')}`);
  }
}
