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
import { classify, type RateLimiter, type ResponseKind, type Verdict } from './rate-limit.js';
import { BADVERS, bare, rejectHeader, respond } from './respond.js';
import { type CachedResponse, ResponseCache } from './response-cache.js';
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
  private readonly cache = new ResponseCache();

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
    this.cache.clear();
    this.metrics?.snapshotVersion.set(snapshot.version);
  }

  snapshot(): Snapshot {
    return this.steering.current();
  }

  handleQuery(msg: Buffer, peer: Peer): Buffer | null {
    const started = this.metrics ? performance.now() : 0;
    const hit = peer.transport === 'udp' ? this.cached(msg, 0, msg.length, peer) : null;
    let out: Buffer | null;
    if (hit === null) out = this.answer(msg, peer);
    else {
      const verdict = this.countHit(hit, peer);
      if (verdict === 'ok') {
        out = Buffer.allocUnsafe(hit.response.length);
        hit.response.copy(out);
        out[0] = msg[0];
        out[1] = msg[1];
      } else out = this.held(verdict, msg, parseQuery(msg) as Query, null);
    }
    this.count(started, out === null ? -1 : out[3], peer);
    return out;
  }

  /**
   * The batched loop's way in: answers the query in `input[start, end)` into `output` at `at`
   * without a Buffer per query when the answer is cached. Returns the length written, or -1 when
   * nothing is to be sent (dropped, or longer than `max`).
   */
  answerInto(input: Buffer, start: number, end: number, peer: Peer, output: Buffer, at: number, max: number) {
    const hit = this.cached(input, start, end, peer);
    if (hit === null)
      return this.copyOut(this.handleQuery(input.subarray(start, end), peer), output, at, max);
    const started = this.metrics ? performance.now() : 0;
    const verdict = this.countHit(hit, peer);
    if (verdict !== 'ok') {
      const msg = input.subarray(start, end);
      const out = this.held(verdict, msg, parseQuery(msg) as Query, null);
      this.count(started, out === null ? -1 : out[3], peer);
      return this.copyOut(out, output, at, max);
    }
    const n = hit.response.length;
    if (n > max) return -1;
    hit.response.copy(output, at);
    output[at] = input[start];
    output[at + 1] = input[start + 1];
    this.count(started, output[at + 3], peer);
    return n;
  }

  private copyOut(out: Buffer | null, output: Buffer, at: number, max: number): number {
    if (out === null || out.length > max) return -1;
    out.copy(output, at);
    return out.length;
  }

  /** Metrics of one query; `flags` is the response's 4th byte (its RCODE), -1 when nothing is sent. */
  private count(started: number, flags: number, peer: Peer) {
    if (!this.metrics) return;
    if (flags < 0) this.metrics.drop();
    else {
      const rcode = this.lastRcode >= 0 ? this.lastRcode : flags & 0x0f;
      this.metrics.query(this.lastQtype, rcode, peer.transport === 'tcp');
    }
    this.metrics.latency.observe((performance.now() - started) / 1000);
  }

  /** A cached response for this UDP query that `peer` may have, or null. */
  private cached(buf: Buffer, start: number, end: number, peer: Peer): CachedResponse | null {
    const hit = this.cache.find(buf, start, end);
    if (hit === null) return null;
    if (hit.ecsBelieved && this.ecsTrust !== null && !this.ecsTrust.trusts(peer.address)) return null;
    return hit;
  }

  /** Counts a cached answer as answer() would have, and rate-limits it. */
  private countHit(hit: CachedResponse, peer: Peer): Verdict {
    this.lastQtype = hit.qtype;
    this.lastRcode = hit.rcode;
    if (hit.region !== null) this.metrics?.answer(hit.region);
    return this.rateLimiter ? this.rateLimiter.check(peer.address, hit.rrlName, hit.kind) : 'ok';
  }

  /** What the last answer() was about, for metrics without re-reading the response. */
  private lastQtype = 0;
  private lastRcode = -1;
  /** Set by respondTo: the response depends on the query's bytes alone (and the loaded tables). */
  private cacheable = false;
  private ecsBelieved = false;
  private answeredRegion: string | null = null;

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
    const out = this.respondTo(msg, q, peer);
    if (this.cacheable && peer.transport === 'udp') this.remember(msg, q, out);
    return this.limited(msg, q, out, peer);
  }

  private remember(msg: Buffer, q: Query, out: Buffer) {
    const { kind, name } = this.classOf(q, out);
    this.cache.store(msg, 0, msg.length, {
      key: Buffer.from(msg.subarray(2)),
      response: out,
      qtype: q.qtype,
      rcode: this.lastRcode >= 0 ? this.lastRcode : out[3] & 0x0f,
      kind,
      rrlName: name,
      region: this.answeredRegion,
      ecsBelieved: this.ecsBelieved,
    });
  }

  private classOf(q: Query | null, out: Buffer): { kind: ResponseKind; name: string } {
    return q === null || this.lastRcode > 15
      ? { kind: 'error', name: '' }
      : classify(out, q.key, this.zone.apex);
  }

  /** Response-rate limiting, by what the response is (UDP only: TCP cannot be spoofed). */
  private limited(msg: Buffer, q: Query | null, out: Buffer, peer: Peer): Buffer | null {
    if (!this.rateLimiter || peer.transport === 'tcp') return out;
    const { kind, name } = this.classOf(q, out);
    const verdict = this.rateLimiter.check(peer.address, name, kind);
    return verdict === 'ok' ? out : this.held(verdict, msg, q, out);
  }

  /** A response the rate limiter holds back: dropped (null), or a slip. */
  private held(
    verdict: Exclude<Verdict, 'ok'>,
    msg: Buffer,
    q: Query | null,
    out: Buffer | null,
  ): Buffer | null {
    this.metrics?.rateLimited(verdict);
    if (verdict === 'drop') return null;
    // A slip: an empty truncated answer, so a real client retries over TCP.
    this.lastRcode = -1;
    return q === null ? out : respond(msg, q, SLIP, false, 0, 0, this.maxUdp);
  }

  private respondTo(msg: Buffer, q: Query, peer: Peer): Buffer {
    const tcp = peer.transport === 'tcp';
    const edns = q.edns;
    this.cacheable = true;
    this.ecsBelieved = false;
    this.answeredRegion = null;
    if (edns?.ecs && this.ecsTrust) {
      // ECS from a source not trusted: answered as a server without ECS would (RFC 7871 7.2.1): steered
      // by the source address, and no ECS option in the response, so no cache stores it per subnet.
      if (this.ecsTrust.trusts(peer.address)) this.ecsBelieved = true;
      else {
        edns.ecs = null;
        this.cacheable = false;
      }
    }
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

    // Steered by the source address (no ECS) or an explanation: not the query's bytes alone.
    if (!edns?.ecs || entry.kind === 'explain') this.cacheable = false;
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
    this.answeredRegion = region;
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
