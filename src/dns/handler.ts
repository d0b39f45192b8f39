// The whole server: bytes in, bytes out (or nothing). Socket loops only move
// bytes to and from handleQuery.
import { performance } from 'node:perf_hooks';
import type { MeridianConfig } from '../config/index.js';
import { SUBNET_PREFIX } from '../core/ip.js';
import type { Snapshot } from '../core/model.js';
import type { GeoLocator } from '../geo/index.js';
import { type Compiled, compile, resolve } from './answers.js';
import { EcsTrust } from './ecs-trust.js';
import { explanation } from './explain.js';
import type { DnsMetrics } from './metrics.js';
import { classify, type RateLimiter } from './rate-limit.js';
import { BADVERS, bare, rejectHeader, respond } from './respond.js';
import { Steering } from './steering.js';
import { CLASS_IN, isInZone, isRejection, parseQuery, type Query, RCODE, TYPE } from './wire.js';
import type { Writer } from './writer.js';
import { buildZone, type Zone } from './zone.js';

export interface Peer {
  address: string;
  port: number;
  transport: 'udp' | 'tcp';
}

export interface EngineOptions {
  geo: GeoLocator;
  config: MeridianConfig;
  snapshot: Snapshot;
  metrics?: DnsMetrics;
  rateLimiter?: RateLimiter;
}

/** Compiled answers for one name: static, per region (steered), or made per client (explanations). */
type Entry =
  | { kind: 'static'; c: Compiled }
  | { kind: 'steered'; family: 4 | 6; fallback: boolean; byRegion: Map<string, Compiled>; none: Compiled }
  | { kind: 'explain'; hostname: string };

const REFUSED = bare(RCODE.REFUSED);
const SLIP = bare(RCODE.NOERROR);
const TCP_LIMIT = 65535;
/** Compiled answers kept before the table is emptied (bounded against random-name floods). */
const MAX_ENTRIES = 50_000;

export class DnsEngine {
  private zone!: Zone;
  private steering!: Steering;
  private table = new Map<string, Map<number, Entry>>();
  private entries = 0;
  private maxUdp = 1232;
  /** null: ECS is believed from anyone (dns.ecs.trustFrom absent). */
  private ecsTrust: EcsTrust | null = null;
  private readonly metrics?: DnsMetrics;
  private readonly rateLimiter?: RateLimiter;

  constructor(private readonly options: EngineOptions) {
    this.metrics = options.metrics;
    this.rateLimiter = options.rateLimiter;
    this.load(options.config, options.snapshot);
  }

  /** Takes a new config and snapshot; the next query sees them. Throws (and keeps the old) on a bad zone. */
  load(config: MeridianConfig, snapshot: Snapshot) {
    const zone = buildZone(config, snapshot.version);
    this.zone = zone;
    this.maxUdp = config.dns.maxUdpPayload;
    const trustFrom = config.dns.ecs.trustFrom;
    this.ecsTrust = trustFrom ? new EcsTrust(trustFrom) : null;
    if (this.steering) this.steering.update(snapshot, zone);
    else this.steering = new Steering(this.options.geo, snapshot, zone);
    this.table = new Map();
    this.entries = 0;
    this.metrics?.snapshotVersion.set(snapshot.version);
  }

  snapshot(): Snapshot {
    return this.steering.current();
  }

  handleQuery(msg: Buffer, peer: Peer): Buffer | null {
    const started = this.metrics ? performance.now() : 0;
    const out = this.answer(msg, peer);
    if (this.metrics) {
      if (out === null) this.metrics.drop();
      else {
        const rcode = this.lastRcode >= 0 ? this.lastRcode : out[3] & 0x0f;
        this.metrics.query(this.lastQtype, rcode, peer.transport === 'tcp');
      }
      this.metrics.latency.observe((performance.now() - started) / 1000);
    }
    return out;
  }

  /** What the last answer() was about, for metrics without re-reading the response. */
  private lastQtype = 0;
  private lastRcode = -1;

  private answer(msg: Buffer, peer: Peer): Buffer | null {
    const q = parseQuery(msg);
    if (isRejection(q)) {
      this.lastQtype = 0;
      this.lastRcode = -1;
      if (q.drop) return null;
      return this.limited(msg, null, rejectHeader(msg, q.rcode), peer);
    }
    this.lastQtype = q.qtype;
    this.lastRcode = -1;
    return this.limited(msg, q, this.respondTo(msg, q, peer), peer);
  }

  /** Response-rate limiting, by what the response is (UDP only: TCP cannot be spoofed). */
  private limited(msg: Buffer, q: Query | null, out: Buffer, peer: Peer): Buffer | null {
    if (!this.rateLimiter || peer.transport === 'tcp') return out;
    const { kind, name } =
      q === null || this.lastRcode > 15
        ? { kind: 'error' as const, name: '' }
        : classify(out, q.key, this.zone.apex);
    const verdict = this.rateLimiter.check(peer.address, name, kind);
    if (verdict === 'ok') return out;
    this.metrics?.rateLimited(verdict);
    if (verdict === 'drop') return null;
    // A slip: an empty truncated answer, so a real client retries over TCP.
    this.lastRcode = -1;
    return q === null ? out : respond(msg, q, SLIP, false, 0, 0, this.maxUdp);
  }

  private respondTo(msg: Buffer, q: Query, peer: Peer): Buffer {
    const tcp = peer.transport === 'tcp';
    const edns = q.edns;
    // ECS from a source not trusted: answered as a server without ECS would (RFC 7871 7.2.1): steered
    // by the source address, and no ECS option in the response, so no cache stores it per subnet.
    if (edns?.ecs && this.ecsTrust && !this.ecsTrust.trusts(peer.address)) edns.ecs = null;
    const limit = tcp ? TCP_LIMIT : edns ? Math.min(edns.udpSize, this.maxUdp) : 512;
    if (edns && edns.version > 0) {
      this.lastRcode = RCODE.BADVERS;
      return respond(msg, q, BADVERS, false, 0, limit, this.maxUdp);
    }
    if (q.qclass !== CLASS_IN || q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR || q.qtype === TYPE.OPT) {
      return respond(msg, q, REFUSED, false, 0, limit, this.maxUdp);
    }
    let entry = this.table.get(q.key)?.get(q.qtype);
    if (entry === undefined) {
      if (!isInZone(q.key, this.zone.apex)) return respond(msg, q, REFUSED, false, 0, limit, this.maxUdp);
      entry = this.compileEntry(q.key, q.qtype);
    }
    if (entry.kind === 'static') return respond(msg, q, entry.c, true, 0, limit, this.maxUdp);

    const steer = edns?.ecs ? this.steering.forSubnet(edns.ecs) : this.steering.forAddress(peer.address);
    const scope = this.scopeFor(q);
    if (entry.kind === 'explain') {
      const service = this.zone.steered.get(entry.hostname)!;
      const text = explanation(steer, this.steering.current(), service);
      return respond(msg, q, this.compileTxt(q, text), true, scope, limit, this.maxUdp);
    }
    const v4 = entry.family === 4;
    const region = v4 ? steer.v4 : steer.v6;
    if (region === null) return respond(msg, q, entry.none, true, scope, limit, this.maxUdp);
    // Compiled per region, or per (region, fallback) pair for a name answering home+fallback.
    const key = entry.fallback ? (v4 ? steer.v4FallbackKey : steer.v6FallbackKey)! : region;
    let c = entry.byRegion.get(key);
    if (c === undefined) {
      const fallback = entry.fallback ? (v4 ? steer.v4Fallback : steer.v6Fallback) : null;
      c = compile(q.key, q.qtype, resolve(this.zone, q.key, q.qtype, region, fallback));
      entry.byRegion.set(key, c);
    }
    this.metrics?.answer(region);
    return respond(msg, q, c, true, scope, limit, this.maxUdp);
  }

  /** ECS scope of a location-dependent answer: the bits decide() looked at; 0 with a single region. */
  private scopeFor(q: Query): number {
    const ecs = q.edns?.ecs;
    if (!ecs || ecs.sourcePrefix === 0 || this.zone.regions.size < 2) return 0;
    return ecs.family === 1 ? SUBNET_PREFIX[4] : SUBNET_PREFIX[6];
  }

  private compileEntry(key: string, qtype: number): Entry {
    let entry: Entry;
    const hostname = this.zone.explain.get(key);
    if (hostname !== undefined && (qtype === TYPE.TXT || qtype === TYPE.ANY)) {
      entry = { kind: 'explain', hostname };
    } else {
      const probe = resolve(this.zone, key, qtype, null);
      if (probe.steered) {
        const none = compile(key, qtype, {
          ...probe,
          answer: [],
          authority: [{ ...this.zone.soa, ttl: this.zone.negativeTtl }],
        });
        entry = {
          kind: 'steered',
          family: qtype === TYPE.AAAA ? 6 : 4,
          fallback: probe.steeredName?.answers === 'home+fallback',
          byRegion: new Map(),
          none,
        };
      } else {
        entry = { kind: 'static', c: compile(key, qtype, probe) };
      }
    }
    if (this.entries >= MAX_ENTRIES) {
      this.table = new Map();
      this.entries = 0;
    }
    let byType = this.table.get(key);
    if (!byType) {
      byType = new Map();
      this.table.set(key, byType);
    }
    byType.set(qtype, entry);
    this.entries++;
    return entry;
  }

  private compileTxt(q: Query, strings: string[]): Compiled {
    const rr = {
      owner: q.key,
      type: TYPE.TXT,
      ttl: 0,
      rdata: (w: Writer) => {
        for (const s of strings) {
          const b = Buffer.from(s);
          w.u8(b.length);
          w.bytes(b);
        }
      },
    };
    return compile(q.key, q.qtype, {
      rcode: RCODE.NOERROR,
      answer: [rr],
      authority: [],
      additional: [],
      steered: false,
    });
  }
}
