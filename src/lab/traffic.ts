import { Agent, request } from 'undici';
import type { DnsClient } from './dns-client.js';
import type { Recorder } from './recorder.js';
import type { VirtualUser } from './users.js';

export interface TrafficOptions {
  users: readonly VirtualUser[];
  dns: DnsClient;
  hostname: string;
  /** DNS answer address -> the region and the edge URL users reach it at. */
  edges: ReadonlyMap<string, { region: string; url: string }>;
  rate: number;
  writeShare: number;
  random: () => number;
  recorder: Recorder;
  /** ms since the scenario started. */
  clock: () => number;
  /** The edge's account of its tries ("region origin status ms, ..."), when it gave one. */
  onAttempts?: (attempts: string, t: number) => void;
}

interface Resolved {
  region: string;
  url: string;
  expires: number;
}

const MAX_IN_FLIGHT = 2000;

/**
 * Virtual users: each resolves the hostname with its subnet in ECS, keeps the
 * answer for its TTL as a real client does, and calls that region's edge with
 * its address in X-Forwarded-For. Reads the watch list, or adds/removes an item.
 */
export class Traffic {
  private readonly agent = new Agent({ connections: 256, keepAliveTimeout: 10_000, pipelining: 1 });
  private readonly resolved = new Map<string, Resolved>();
  private readonly owned = new Map<string, string[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private credit = 0;
  private seq = 0;
  private last = 0;
  /** Acknowledged puts (user/item) and every key a delete was sent for: what the data check needs. */
  readonly ackedPuts = new Set<string>();
  readonly deletesSent = new Set<string>();

  constructor(private readonly o: TrafficOptions) {}

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

  /** DNS answers users could not use, by kind ("timeout", "NOERROR with no address"). */
  readonly dnsProblems = new Map<string, number>();

  private dnsProblem(kind: string) {
    this.dnsProblems.set(kind, (this.dnsProblems.get(kind) ?? 0) + 1);
  }

  private async resolve(user: VirtualUser): Promise<Resolved | null> {
    const now = Date.now();
    const cached = this.resolved.get(user.id);
    if (cached && cached.expires > now) return cached;
    try {
      const subnet = `${user.address.split('.').slice(0, 3).join('.')}.0/24`;
      // A stub resolver retries once when an answer is late.
      const answer = await this.o.dns
        .query(this.o.hostname, subnet, 1500)
        .catch(() => this.o.dns.query(this.o.hostname, subnet, 2500));
      const edge = answer.addresses.map((a) => this.o.edges.get(a)).find((e) => e !== undefined);
      if (!edge) {
        this.dnsProblem(`${answer.rcode} with ${answer.addresses.join(' ') || 'no address'}`);
        return cached ?? null;
      }
      const r = { ...edge, expires: now + answer.ttl * 1000 };
      this.resolved.set(user.id, r);
      return r;
    } catch {
      this.dnsProblem('timeout');
      return cached ?? null; // serve stale, as resolvers do when the server is unreachable
    }
  }

  private pickOperation(user: VirtualUser): { method: string; path: string; body?: string; key?: string } {
    const base = `/users/${user.id}/items`;
    if (this.o.random() >= this.o.writeShare) return { method: 'GET', path: base };
    const items = this.owned.get(user.id) ?? [];
    if (items.length > 0 && this.o.random() < 0.3) {
      const item = items.splice(Math.floor(this.o.random() * items.length), 1)[0];
      return { method: 'DELETE', path: `${base}/${item}`, key: `${user.id}/${item}` };
    }
    const item = `i${++this.seq}`;
    return { method: 'PUT', path: `${base}/${item}`, body: `title ${this.seq}`, key: `${user.id}/${item}` };
  }

  private async one(user: VirtualUser): Promise<void> {
    const t = this.o.clock();
    const start = performance.now();
    const edge = await this.resolve(user);
    const op = this.pickOperation(user);
    if (op.method === 'DELETE') this.deletesSent.add(op.key!);
    let status = 0;
    let servedRegion = '';
    let shed = false;
    if (edge) {
      try {
        const res = await request(`${edge.url}${op.path}`, {
          method: op.method as 'GET',
          headers: { host: this.o.hostname, 'x-forwarded-for': user.address, 'x-meridian-debug': 'attempts' },
          body: op.body,
          dispatcher: this.agent,
          headersTimeout: 5000,
          bodyTimeout: 5000,
        });
        const text = await res.body.text();
        status = res.statusCode;
        servedRegion = String(res.headers['x-lab-region'] ?? '');
        const attempts = res.headers['x-meridian-attempts'];
        if (typeof attempts === 'string' && attempts && this.o.onAttempts)
          this.o.onAttempts(attempts, this.o.clock());
        shed = status === 503 && !servedRegion && /OVERLOAD|shed/i.test(text);
      } catch {
        status = 0;
      }
    }
    const latencyMs = performance.now() - start;
    if (status >= 200 && status < 300 && op.method === 'PUT') {
      this.ackedPuts.add(op.key!);
      const items = this.owned.get(user.id) ?? [];
      items.push(op.key!.split('/')[1]);
      this.owned.set(user.id, items);
    }
    this.o.recorder.add({
      t,
      method: op.method,
      status,
      servedRegion,
      edgeRegion: edge?.region ?? '',
      latencyMs,
      shed,
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inFlight]);
    await this.agent.close();
  }
}
