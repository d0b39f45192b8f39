import type { MeridianConfig } from '../config/index.js';
import type { GeoPoint } from '../core/model.js';
import type { HistoryOp } from '../replication/history/checker.js';
import type { DnsAnswer } from './dns-client.js';
import type { Recorder } from './recorder.js';
import { historyOps } from './traffic/history.js';
import { DEFAULT_LATENCY, type LatencyModel, roundTripMs } from './traffic/latency.js';
import { type Operation, RequestMix } from './traffic/operations.js';
import { type Sent, send } from './traffic/send.js';
import { type EdgeTarget, originOf, UserClient } from './traffic/user-client.js';
import type { VirtualUser } from './users.js';

/** What users resolve through: the lab's stub DNS client, or a caching resolver. */
export interface Resolves {
  query(name: string, clientSubnet?: string, timeoutMs?: number): Promise<DnsAnswer>;
}

export interface TrafficOptions {
  users: readonly VirtualUser[];
  dns: Resolves;
  hostname: string;
  /** DNS answer address -> the region and the edge URL users reach it at. */
  edges: ReadonlyMap<string, EdgeTarget>;
  rate: number;
  writeShare: number;
  random: () => number;
  recorder: Recorder;
  /** ms since the scenario started. */
  clock: () => number;
  /** The region a user's place is home to (territory map). */
  homeOf: (user: VirtualUser) => string;
  /** The name a user resolves and sends as Host (its cohort's); default `hostname`. */
  hostnameOf?: (user: VirtualUser) => string;
  /** A label to compare groups of users by (e.g. the answer policy they get); default ''. */
  cohortOf?: (user: VirtualUser) => string;
  /** Where each region is, for the users' round trips (config regions[].location). */
  regionLocations?: ReadonlyMap<string, GeoPoint>;
  latency?: LatencyModel;
  /** The edge's account of its tries ("region origin status ms, ..."), when it gave one. */
  onAttempts?: (attempts: string, t: number) => void;
  /**
   * Record the history for the data check (Traffic.history), each user's session at `sessionBy`:
   * its serving region (one Redis per region) or origin (each origin its own copy). Off: none kept.
   */
  history?: { sessionBy: 'region' | 'origin' };
}

const MAX_IN_FLIGHT = 2000;
const REQUEST_TIMEOUT_MS = 5000;

/** The edges users reach, by DNS answer address, from the lab's config and its edge URLs. */
export function edgeTargets(
  config: MeridianConfig,
  edgeUrls: ReadonlyMap<string, string>,
): Map<string, EdgeTarget> {
  const edges = new Map<string, EdgeTarget>();
  for (const r of config.regions)
    for (const a of r.addresses.ipv4) edges.set(a, { region: r.id, url: edgeUrls.get(r.id)! });
  return edges;
}

export const regionLocations = (config: MeridianConfig) =>
  new Map(config.regions.map((r) => [r.id, r.location] as const));

/**
 * Virtual users behaving as real clients: each resolves the hostname with its
 * subnet in ECS and keeps the answer for its TTL, holds its own kept-alive
 * connections, tries the answer's addresses in order and retries as browsers
 * do (traffic/tries.ts), pays the round trip of its distance to the region
 * (traffic/latency.ts), and calls the edge with its address in X-Forwarded-For.
 * It reads its watch list, or adds (PUT, POST) or removes an item.
 */
export class Traffic {
  private readonly clients = new Map<string, UserClient>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly mix: RequestMix;
  private readonly regionOfOrigin = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private credit = 0;
  private last = 0;
  /** Acknowledged item creations (PUT or POST, "user/item") and every item a delete was sent for: what the data check needs. */
  readonly ackedWrites = new Set<string>();
  readonly deletesSent = new Set<string>();
  /** Acknowledged item creations by method. */
  readonly ackedCreations = { PUT: 0, POST: 0 };
  /** Every answer users got from their resolver: when, for which cohort, naming which regions. */
  readonly answers: { t: number; cohort: string; regions: string[] }[] = [];
  /** DNS answers users could not use, by kind ("timeout", "NOERROR with no address"). */
  readonly dnsProblems = new Map<string, number>();
  /** Every write and every item read, when TrafficOptions.history asks for it. */
  readonly history: HistoryOp[] = [];

  constructor(private readonly o: TrafficOptions) {
    this.mix = new RequestMix({ writeShare: o.writeShare }, o.random);
    for (const e of o.edges.values()) this.regionOfOrigin.set(originOf(e.url), e.region);
  }

  start(): void {
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), 10);
    this.timer.unref();
  }

  setRate(rate: number): void {
    this.o.rate = rate;
  }

  private tick() {
    const now = performance.now();
    // After a stall (a busy machine) do not fire the missed requests at once: users do not queue up.
    this.credit = Math.min(this.credit + ((now - this.last) / 1000) * this.o.rate, 1 + this.o.rate / 20);
    this.last = now;
    while (this.credit >= 1) {
      this.credit--;
      if (this.inFlight.size >= MAX_IN_FLIGHT) continue; // the generator must not grow without bound
      const user = this.o.users[Math.floor(this.o.random() * this.o.users.length)];
      const p = this.one(user).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private clientOf(user: VirtualUser): UserClient {
    let client = this.clients.get(user.id);
    if (!client) {
      const model = this.o.latency ?? DEFAULT_LATENCY;
      const rtt = (origin: string) => {
        const region = this.regionOfOrigin.get(origin);
        return roundTripMs(user.location, region ? this.o.regionLocations?.get(region) : null, model);
      };
      client = new UserClient(user, this.o.homeOf(user), this.o.cohortOf?.(user) ?? '', rtt);
      this.clients.set(user.id, client);
    }
    return client;
  }

  private hostnameOf(user: VirtualUser): string {
    return this.o.hostnameOf?.(user) ?? this.o.hostname;
  }

  private dnsProblem(kind: string) {
    this.dnsProblems.set(kind, (this.dnsProblems.get(kind) ?? 0) + 1);
  }

  /** The user's cached answer while its TTL lasts, else a new one (the cached one when none comes). */
  private async resolve(client: UserClient, fresh: boolean): Promise<EdgeTarget[]> {
    const now = Date.now();
    const cached = client.answer;
    if (!fresh && cached && cached.expires > now) return cached.targets;
    try {
      const subnet = `${client.user.address.split('.').slice(0, 3).join('.')}.0/24`;
      const name = this.hostnameOf(client.user);
      // A stub resolver retries once when an answer is late.
      const answer = await this.o.dns
        .query(name, subnet, 1500)
        .catch(() => this.o.dns.query(name, subnet, 2500));
      const targets = answer.addresses
        .map((a) => this.o.edges.get(a))
        .filter((e): e is EdgeTarget => e !== undefined);
      if (targets.length === 0) {
        this.dnsProblem(`${answer.rcode} with ${answer.addresses.join(' ') || 'no address'}`);
        return cached?.targets ?? [];
      }
      client.answer = { targets, expires: now + answer.ttl * 1000 };
      this.answers.push({ t: this.o.clock(), cohort: client.cohort, regions: targets.map((x) => x.region) });
      return targets;
    } catch {
      this.dnsProblem('timeout');
      return cached?.targets ?? []; // serve stale, as resolvers do when the server is unreachable
    }
  }

  private async one(user: VirtualUser): Promise<void> {
    const t = this.o.clock();
    const start = performance.now();
    const client = this.clientOf(user);
    const op = this.mix.pick(user.id);
    if (op.method === 'DELETE') this.deletesSent.add(`${user.id}/${op.item}`);
    const sent = await send(client, op, {
      resolve: (c, fresh) => this.resolve(c, fresh),
      headers: {
        host: this.hostnameOf(user),
        'x-forwarded-for': user.address,
        'x-meridian-debug': 'attempts',
      },
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    const latencyMs = performance.now() - start;
    const a = sent.answer;
    // When the edge got the request (its send, not its answer): the answer of a request the edge
    // retried elsewhere comes a whole retry later, which is not the edge still sending to the dead region.
    if (a?.attempts && this.o.onAttempts)
      this.o.onAttempts(a.attempts, this.o.clock() - (performance.now() - sent.sentAt));
    const status = a?.status ?? 0;
    const servedRegion = a?.servedRegion ?? '';
    if (status >= 200 && status < 300) this.acknowledge(user, op, a!.body);
    if (this.o.history) {
      const session = this.o.history.sessionBy === 'origin' ? a?.servedOrigin : a?.servedRegion;
      const ops = historyOps({
        user: user.id,
        op,
        answer: a,
        session: session || 'none',
        startedAt: t,
        endedAt: this.o.clock(),
      });
      for (const h of ops) this.history.push(h);
    }
    this.o.recorder.add({
      t,
      method: op.method,
      kind: op.kind,
      status,
      servedRegion,
      servedVersion: a?.servedVersion ?? '',
      edgeRegion: sent.target?.region ?? '',
      latencyMs,
      shed: status === 503 && !servedRegion && /OVERLOAD|shed/i.test(a?.body ?? ''),
      home: client.home,
      cohort: client.cohort,
      tries: sent.tries,
      reason: noAnswerReason(sent),
    });
  }

  private acknowledge(user: VirtualUser, op: Operation, body: string) {
    let item = op.method === 'PUT' ? op.item : undefined;
    if (op.method === 'POST') {
      try {
        item = (JSON.parse(body) as { item?: string }).item;
      } catch {
        item = undefined;
      }
    }
    if (item === undefined || op.method === 'DELETE' || op.method === 'GET') return;
    this.ackedCreations[op.method]++;
    this.ackedWrites.add(`${user.id}/${item}`);
    this.mix.created(user.id, item);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled([...this.clients.values()].map((c) => c.close()));
  }
}

const noAnswerReason = (s: Sent) => (s.answer ? '' : s.reason);
