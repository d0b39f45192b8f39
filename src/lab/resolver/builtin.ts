import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { AnswerCache, agedRecords, type CachedAnswer, cacheTtl } from './cache.js';
import type { Nameserver } from './types.js';
import { Upstream } from './upstream.js';

export interface BuiltinOptions {
  nameservers: readonly Nameserver[];
  /** 0: any free port. */
  port?: number;
  /** How long to wait for one name server before trying the next (Unbound: 376 ms for an unknown one). */
  timeoutMs?: number;
  /** How long a server that timed out or refused is tried only when no other is alive. */
  deadForMs?: number;
  maxEntries?: number;
}

interface Subnet {
  family: number;
  source: number;
  ip: string;
}

interface Stats {
  queries: number;
  cacheHits: number;
  upstreamQueries: number;
  upstreamFailures: number;
  servfails: number;
}

const MAX_SOURCE = { 1: 24, 2: 56 } as Record<number, number>;
const RCODE: Record<string, number> = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 };

/** The address with only its first `bits` kept (IPv4), as a resolver passes on a client subnet. */
function maskIpv4(ip: string, bits: number): string {
  const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const masked = bits === 0 ? 0 : (n - (n % 2 ** (32 - bits))) >>> 0;
  return [24, 16, 8, 0].map((s) => (masked >>> s) & 255).join('.');
}

/** The client's ECS option, cut to /24 (IPv6: /56) as Unbound's max-client-subnet does. */
function clientSubnet(query: dnsPacket.Packet): Subnet | null {
  const opt = (query.additionals ?? []).find((r) => r.type === 'OPT') as dnsPacket.OptAnswer | undefined;
  const ecs = opt?.options?.find((o) => o.code === 8) as
    | { family: number; sourcePrefixLength: number; ip: string }
    | undefined;
  if (!ecs || !MAX_SOURCE[ecs.family]) return null;
  const source = Math.min(ecs.sourcePrefixLength, MAX_SOURCE[ecs.family]);
  return { family: ecs.family, source, ip: ecs.family === 1 ? maskIpv4(ecs.ip, source) : ecs.ip };
}

function optRecord(ecs: (Subnet & { scope: number }) | null): dnsPacket.Answer {
  return {
    type: 'OPT',
    name: '.',
    udpPayloadSize: 1232,
    options: ecs
      ? [
          {
            code: 'CLIENT_SUBNET',
            family: ecs.family,
            sourcePrefixLength: ecs.source,
            scopePrefixLength: ecs.scope,
            ip: ecs.ip,
          },
        ]
      : [],
  } as unknown as dnsPacket.Answer;
}

/**
 * A small caching recursive resolver for one zone, for when Unbound is not
 * installed: answers per (name, type, client /24) kept for their TTL, the
 * client's subnet passed on in ECS, the name servers tried in turn with a
 * short timeout, a dead one remembered for a while, SERVFAIL when all fail.
 * It keeps the order of the records as the name server sent them (Unbound
 * rotates them).
 */
export class BuiltinResolver {
  readonly stats: Stats = { queries: 0, cacheHits: 0, upstreamQueries: 0, upstreamFailures: 0, servfails: 0 };
  private readonly cache: AnswerCache;
  private readonly upstreams: Upstream[];
  private readonly inFlight = new Map<string, Promise<CachedAnswer | null>>();
  private readonly timeoutMs: number;
  private readonly deadForMs: number;

  private constructor(
    private readonly socket: Socket,
    o: BuiltinOptions,
  ) {
    this.upstreams = o.nameservers.map((ns) => new Upstream(ns));
    this.cache = new AnswerCache(o.maxEntries ?? 10_000);
    this.timeoutMs = o.timeoutMs ?? 400;
    this.deadForMs = o.deadForMs ?? 10_000;
    socket.on('message', (msg, peer) => {
      this.handle(msg, peer).catch(() => {});
    });
  }

  static async start(o: BuiltinOptions): Promise<BuiltinResolver> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(o.port ?? 0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => {});
    return new BuiltinResolver(socket, o);
  }

  get address(): string {
    return this.socket.address().address;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  /** Live name servers in random order (spreading the load as Unbound does within its RTT band), then dead ones. */
  private order(): Upstream[] {
    const now = Date.now();
    const live = this.upstreams.filter((u) => u.deadUntil <= now).sort(() => Math.random() - 0.5);
    const dead = this.upstreams.filter((u) => u.deadUntil > now).sort((a, b) => a.deadUntil - b.deadUntil);
    return [...live, ...dead];
  }

  private async fetch(question: dnsPacket.Question, subnet: Subnet | null): Promise<CachedAnswer | null> {
    const query: dnsPacket.Packet = {
      type: 'query',
      flags: 0,
      questions: [question],
      additionals: [optRecord(subnet ? { ...subnet, scope: 0 } : null)],
    };
    for (const upstream of this.order()) {
      this.stats.upstreamQueries++;
      const r = await upstream.ask(query, this.timeoutMs);
      const rcode = r.ok ? ((r.packet as { rcode?: string }).rcode ?? 'NOERROR') : r.why;
      const asked = r.ok ? r.packet.questions?.[0] : undefined;
      const sameQuestion =
        asked?.type === question.type && asked.name.toLowerCase() === question.name.toLowerCase();
      if (r.ok && sameQuestion && (rcode === 'NOERROR' || rcode === 'NXDOMAIN')) {
        upstream.deadUntil = 0;
        const answers = r.packet.answers ?? [];
        const authorities = r.packet.authorities ?? [];
        const scope = subnet ? (clientSubnetScope(r.packet) ?? 0) : 0;
        return { rcode, answers, authorities, scope, storedAt: Date.now(), expiresAt: 0 };
      }
      this.stats.upstreamFailures++;
      if (!r.ok && r.why !== 'closed') upstream.deadUntil = Date.now() + this.deadForMs;
    }
    return null;
  }

  /** A cached answer, or one fetched (one fetch per key at a time) and cached for its TTL. */
  private async lookup(question: dnsPacket.Question, subnet: Subnet | null): Promise<CachedAnswer | null> {
    const key = `${question.name.toLowerCase()}|${question.type}|${subnet ? `${subnet.ip}/${subnet.source}` : '-'}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.stats.cacheHits++;
      return hit;
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetch(question, subnet).then((answer) => {
        this.inFlight.delete(key);
        if (answer) this.cache.set(key, answer, cacheTtl(answer.rcode, answer.answers, answer.authorities));
        return answer;
      });
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async handle(msg: Buffer, peer: RemoteInfo) {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (query.type !== 'query' || !question) return;
    this.stats.queries++;
    const subnet = clientSubnet(query);
    const edns = (query.additionals ?? []).some((r) => r.type === 'OPT');
    const found = await this.lookup(question, subnet);
    if (!found) this.stats.servfails++;
    const elapsed = found ? Date.now() - found.storedAt : 0;
    const response: dnsPacket.Packet = {
      type: 'response',
      id: query.id,
      // dns-packet takes the RCODE from the low bits of the flags.
      flags:
        dnsPacket.RECURSION_DESIRED |
        dnsPacket.RECURSION_AVAILABLE |
        (RCODE[found?.rcode ?? 'SERVFAIL'] ?? 2),
      questions: [question],
      answers: found ? agedRecords(found.answers, elapsed) : [],
      authorities: found && found.answers.length === 0 ? agedRecords(found.authorities, elapsed) : [],
      additionals: edns ? [optRecord(subnet ? { ...subnet, scope: found?.scope ?? 0 } : null)] : [],
    };
    this.socket.send(dnsPacket.encode(response), peer.port, peer.address);
  }

  async close(): Promise<void> {
    for (const u of this.upstreams) u.close();
    this.cache.clear();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

function clientSubnetScope(packet: dnsPacket.Packet): number | null {
  const opt = (packet.additionals ?? []).find((r) => r.type === 'OPT') as dnsPacket.OptAnswer | undefined;
  const ecs = opt?.options?.find((o) => o.code === 8) as { scopePrefixLength?: number } | undefined;
  return ecs?.scopePrefixLength ?? null;
}
